/**
 * Which S3 operation a request is, from its method, target (bucket, key) and query. Anything the gateway does
 * not implement — every other sub-resource (acl, tagging, policy, versions…) or an unknown parameter — is
 * refused as `NotImplemented` before any work is done: deny by default.
 */
import { invalidInput, type RolegateError } from '../errors/errors.js';

export type Operation =
  | 'ListBuckets'
  | 'HeadBucket'
  | 'CreateBucket'
  | 'GetBucketLocation'
  | 'GetBucketVersioning'
  | 'ListObjects'
  | 'ListObjectsV2'
  | 'ListMultipartUploads'
  | 'DeleteObjects'
  | 'HeadObject'
  | 'GetObject'
  | 'PutObject'
  | 'CopyObject'
  | 'DeleteObject'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts';

/** The bucket (connection name) and key a request addresses. */
export interface Target {
  readonly bucket?: string | undefined;
  readonly key?: string | undefined;
}

const notImplemented = (what: string): RolegateError =>
  invalidInput('gateway.not_implemented', `${what} is not implemented by the rolegate S3 gateway`);

function decode(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    throw invalidInput('gateway.invalid_uri', 'The request URI contains an invalid percent-encoding');
  }
}

/**
 * The target of a request: virtual-host style (`<bucket>.<domain>`) when `domain` is set and the Host matches,
 * path style (`/<bucket>/<key>`) otherwise. The key is decoded once and not normalised in any way; scope
 * checks happen in the services.
 */
export function targetOf(rawPath: string, host: string | undefined, domain: string | undefined): Target {
  if (!rawPath.startsWith('/')) throw invalidInput('gateway.invalid_uri', 'The request path must start with "/"');
  const hostname = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  if (domain !== undefined && hostname.endsWith(`.${domain.toLowerCase()}`)) {
    const bucket = hostname.slice(0, -(domain.length + 1));
    const key = rawPath.slice(1);
    return { bucket, key: key === '' ? undefined : decode(key) };
  }
  const rest = rawPath.slice(1);
  if (rest === '') return {};
  const slash = rest.indexOf('/');
  if (slash < 0) return { bucket: decode(rest) };
  const key = rest.slice(slash + 1);
  return { bucket: decode(rest.slice(0, slash)), key: key === '' ? undefined : decode(key) };
}

/** Query parameters that never select an operation: presigning, the SDKs' `x-id`, response header overrides. */
function isNeutral(name: string): boolean {
  return /^x-amz-/i.test(name) || name === 'x-id' || (name.startsWith('response-') && name !== 'response-');
}

const ALLOWED: Readonly<Record<Operation, readonly string[]>> = {
  ListBuckets: ['max-buckets', 'continuation-token', 'prefix', 'bucket-region'],
  HeadBucket: [],
  CreateBucket: [],
  GetBucketLocation: ['location'],
  GetBucketVersioning: ['versioning'],
  ListObjects: ['prefix', 'delimiter', 'max-keys', 'marker', 'encoding-type'],
  ListObjectsV2: [
    'list-type',
    'prefix',
    'delimiter',
    'max-keys',
    'continuation-token',
    'start-after',
    'fetch-owner',
    'encoding-type',
  ],
  ListMultipartUploads: [
    'uploads',
    'prefix',
    'delimiter',
    'key-marker',
    'upload-id-marker',
    'max-uploads',
    'encoding-type',
  ],
  DeleteObjects: ['delete'],
  HeadObject: [],
  GetObject: [],
  PutObject: [],
  CopyObject: [],
  DeleteObject: [],
  CreateMultipartUpload: ['uploads'],
  UploadPart: ['partNumber', 'uploadId'],
  CompleteMultipartUpload: ['uploadId'],
  AbortMultipartUpload: ['uploadId'],
  ListParts: ['uploadId', 'max-parts', 'part-number-marker', 'encoding-type'],
};

function pick(method: string, target: Target, query: ReadonlyMap<string, string>, copySource: boolean): Operation {
  const has = (name: string) => query.has(name);
  if (target.bucket === undefined) {
    if (method === 'GET') return 'ListBuckets';
    throw notImplemented(`${method} on the service`);
  }
  if (target.key === undefined) {
    switch (method) {
      case 'HEAD':
        return 'HeadBucket';
      case 'GET':
        if (has('location')) return 'GetBucketLocation';
        if (has('versioning')) return 'GetBucketVersioning';
        if (has('uploads')) return 'ListMultipartUploads';
        return query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
      case 'PUT':
        return 'CreateBucket';
      case 'POST':
        if (has('delete')) return 'DeleteObjects';
        break;
    }
    throw notImplemented(`${method} on a bucket`);
  }
  switch (method) {
    case 'HEAD':
      return 'HeadObject';
    case 'GET':
      return has('uploadId') ? 'ListParts' : 'GetObject';
    case 'PUT':
      if (has('partNumber') || has('uploadId')) {
        if (copySource) throw notImplemented('UploadPartCopy');
        return 'UploadPart';
      }
      return copySource ? 'CopyObject' : 'PutObject';
    case 'POST':
      if (has('uploads')) return 'CreateMultipartUpload';
      if (has('uploadId')) return 'CompleteMultipartUpload';
      break;
    case 'DELETE':
      return has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
  }
  throw notImplemented(`${method} on an object`);
}

/**
 * The operation of a request.
 * @throws RolegateError `gateway.not_implemented` for anything else, including a known operation with a
 *   parameter it does not support (a sub-resource such as `?acl`, or `versionId`).
 */
export function selectOperation(
  method: string,
  target: Target,
  query: ReadonlyMap<string, string>,
  copySource: boolean,
): Operation {
  const operation = pick(method, target, query, copySource);
  const allowed = ALLOWED[operation];
  for (const name of query.keys()) {
    if (!isNeutral(name) && !allowed.includes(name)) throw notImplemented(`"${name}" (on ${operation})`);
  }
  return operation;
}
