import { describe, expect, it } from 'vitest';
import { isRolegateError } from '../errors/errors.js';
import { selectOperation, targetOf } from './router.js';

const q = (s: string) =>
  new Map(
    s === ''
      ? []
      : s
          .split('&')
          .map((p) => p.split('=') as [string, string])
          .map(([k, v]) => [k, v ?? '']),
  );
const code = (fn: () => unknown) => {
  try {
    return fn();
  } catch (e) {
    return isRolegateError(e) ? e.code : String(e);
  }
};

describe('targetOf', () => {
  it('reads path-style bucket and key, decoding once and normalising nothing', () => {
    expect(targetOf('/', 'gw:8631', undefined)).toEqual({});
    expect(targetOf('/s3-sales', 'gw', undefined)).toEqual({ bucket: 's3-sales' });
    expect(targetOf('/s3-sales/', 'gw', undefined)).toEqual({ bucket: 's3-sales', key: undefined });
    expect(targetOf('/s3-sales/2024/q1%20a%2Bb.csv', 'gw', undefined)).toEqual({
      bucket: 's3-sales',
      key: '2024/q1 a+b.csv',
    });
    expect(targetOf('/s3-sales/../x//y', 'gw', undefined)).toEqual({ bucket: 's3-sales', key: '../x//y' });
  });

  it('reads virtual-host-style buckets when the host is under the configured domain', () => {
    expect(targetOf('/2024/q1.csv', 's3-sales.s3.example.com:8631', 's3.example.com')).toEqual({
      bucket: 's3-sales',
      key: '2024/q1.csv',
    });
    expect(targetOf('/', 'S3-Sales.s3.example.com', 's3.example.com')).toEqual({ bucket: 's3-sales', key: undefined });
    expect(targetOf('/s3-sales/k', 's3.example.com', 's3.example.com')).toEqual({ bucket: 's3-sales', key: 'k' });
  });

  it('refuses invalid percent-encoding', () => {
    expect(code(() => targetOf('/b/%zz', 'gw', undefined))).toBe('gateway.invalid_uri');
  });
});

describe('selectOperation', () => {
  const b = { bucket: 'c' };
  const o = { bucket: 'c', key: 'k' };
  it.each([
    ['GET', {}, '', false, 'ListBuckets'],
    ['HEAD', b, '', false, 'HeadBucket'],
    ['GET', b, 'location', false, 'GetBucketLocation'],
    ['GET', b, 'list-type=2&prefix=a&x-id=ListObjectsV2', false, 'ListObjectsV2'],
    ['GET', b, 'prefix=a&marker=m&encoding-type=url', false, 'ListObjects'],
    ['GET', b, 'uploads&prefix=a', false, 'ListMultipartUploads'],
    ['POST', b, 'delete', false, 'DeleteObjects'],
    ['PUT', b, '', false, 'CreateBucket'],
    ['HEAD', o, '', false, 'HeadObject'],
    ['GET', o, 'response-content-type=text/plain&X-Amz-Signature=x', false, 'GetObject'],
    ['GET', o, 'uploadId=u', false, 'ListParts'],
    ['PUT', o, '', false, 'PutObject'],
    ['PUT', o, '', true, 'CopyObject'],
    ['PUT', o, 'partNumber=1&uploadId=u', false, 'UploadPart'],
    ['POST', o, 'uploads', false, 'CreateMultipartUpload'],
    ['POST', o, 'uploadId=u', false, 'CompleteMultipartUpload'],
    ['DELETE', o, 'uploadId=u', false, 'AbortMultipartUpload'],
    ['DELETE', o, '', false, 'DeleteObject'],
  ] as const)('%s %j ?%s (copy: %s) is %s', (method, target, query, copy, op) => {
    expect(selectOperation(method, target, q(query), copy)).toBe(op);
  });

  it.each([
    ['GET', { bucket: 'c' }, 'acl'],
    ['GET', { bucket: 'c' }, 'policy'],
    ['PUT', { bucket: 'c', key: 'k' }, 'tagging'],
    ['GET', { bucket: 'c', key: 'k' }, 'versionId=1'],
    ['DELETE', { bucket: 'c' }, ''],
    ['POST', { bucket: 'c', key: 'k' }, 'select&select-type=2'],
    ['PUT', {}, ''],
  ])('answers NotImplemented to %s %j ?%s', (method, target, query) => {
    expect(code(() => selectOperation(method, target, q(query), false))).toBe('gateway.not_implemented');
  });

  it('refuses UploadPartCopy', () => {
    expect(code(() => selectOperation('PUT', { bucket: 'c', key: 'k' }, q('partNumber=1&uploadId=u'), true))).toBe(
      'gateway.not_implemented',
    );
  });
});
