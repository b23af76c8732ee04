import { describe, expect, it } from 'vitest';
import { type ErrorKind, RolegateError, upstreamRejected } from './errors.js';
import { s3ErrorOf } from './s3-error-code.js';

describe('s3ErrorOf', () => {
  it('hides connections the caller may not use behind NoSuchBucket, exactly like missing ones', () => {
    expect(s3ErrorOf(new RolegateError('NotFound', 'connection.not_found', 'x'))).toEqual({
      code: 'NoSuchBucket',
      status: 404,
    });
    expect(s3ErrorOf(new RolegateError('PermissionDenied', 'connection.not_usable', 'x'))).toEqual({
      code: 'NoSuchBucket',
      status: 404,
    });
  });

  it('names authentication failures as S3 does', () => {
    expect(s3ErrorOf(new RolegateError('Unauthenticated', 'gateway.invalid_access_key', 'x')).code).toBe(
      'InvalidAccessKeyId',
    );
    expect(s3ErrorOf(new RolegateError('Unauthenticated', 'gateway.signature_mismatch', 'x')).code).toBe(
      'SignatureDoesNotMatch',
    );
  });

  it('passes an S3 4xx error from the backend through with its own code and status', () => {
    const cause = Object.assign(new Error('no upload'), { name: 'NoSuchUpload', $metadata: { httpStatusCode: 404 } });
    expect(s3ErrorOf(upstreamRejected('s3.rejected', 'x', { cause }))).toEqual({ code: 'NoSuchUpload', status: 404 });
    const server = Object.assign(new Error('boom'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
    expect(s3ErrorOf(upstreamRejected('s3.rejected', 'x', { cause: server })).code).toBe('InvalidRequest');
  });

  it.each<[ErrorKind, string]>([
    ['InvalidInput', 'InvalidArgument'],
    ['Unauthenticated', 'AccessDenied'],
    ['PermissionDenied', 'AccessDenied'],
    ['NotFound', 'NoSuchKey'],
    ['Conflict', 'OperationAborted'],
    ['PayloadTooLarge', 'EntityTooLarge'],
    ['UpstreamRejected', 'InvalidRequest'],
    ['UpstreamUnavailable', 'ServiceUnavailable'],
    ['Internal', 'InternalError'],
  ])('maps any other %s to %s', (kind, code) => {
    expect(s3ErrorOf(new RolegateError(kind, 'something.else', 'x')).code).toBe(code);
  });
});
