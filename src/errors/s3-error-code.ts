import type { ErrorKind, RolegateError } from './errors.js';

/** An S3 error as the protocol names it: the `<Code>` of the XML body and the HTTP status. */
export interface S3ErrorCode {
  readonly code: string;
  readonly status: number;
}

const s3 = (code: string, status: number): S3ErrorCode => ({ code, status });

/**
 * Codes whose S3 name is more precise than their kind's. A connection the caller may not use is `NoSuchBucket`,
 * exactly like one that does not exist, so the gateway never reveals which connections exist.
 */
const BY_CODE: Readonly<Record<string, S3ErrorCode>> = {
  'connection.not_found': s3('NoSuchBucket', 404),
  'connection.not_usable': s3('NoSuchBucket', 404),
  's3.bucket_not_found': s3('NoSuchBucket', 404),
  'object.not_found': s3('NoSuchKey', 404),
  'object.invalid_range': s3('InvalidRange', 416),
  'object.precondition_failed': s3('PreconditionFailed', 412),
  'key.invalid': s3('AccessDenied', 403),
  'gateway.anonymous': s3('AccessDenied', 403),
  'gateway.invalid_access_key': s3('InvalidAccessKeyId', 403),
  'gateway.signature_mismatch': s3('SignatureDoesNotMatch', 403),
  'gateway.request_time_skewed': s3('RequestTimeTooSkewed', 403),
  'gateway.request_expired': s3('AccessDenied', 403),
  'gateway.authorization_malformed': s3('AuthorizationHeaderMalformed', 400),
  'gateway.unsupported_authorization': s3('InvalidRequest', 400),
  'gateway.missing_content_sha256': s3('InvalidRequest', 400),
  'gateway.missing_content_length': s3('MissingContentLength', 411),
  'gateway.invalid_uri': s3('InvalidURI', 400),
  'gateway.invalid_argument': s3('InvalidArgument', 400),
  'gateway.invalid_request': s3('InvalidRequest', 400),
  'gateway.invalid_chunk': s3('InvalidRequest', 400),
  'gateway.incomplete_body': s3('IncompleteBody', 400),
  'gateway.content_sha256_mismatch': s3('XAmzContentSHA256Mismatch', 400),
  'gateway.bad_digest': s3('BadDigest', 400),
  'gateway.malformed_xml': s3('MalformedXML', 400),
  'gateway.entity_too_large': s3('EntityTooLarge', 400),
  'gateway.not_implemented': s3('NotImplemented', 501),
  'gateway.method_not_allowed': s3('MethodNotAllowed', 405),
  'gateway.bucket_exists': s3('BucketAlreadyOwnedByYou', 409),
  'gateway.no_such_upload': s3('NoSuchUpload', 404),
};

/** The S3 error for a kind: exhaustive, so adding a kind fails to compile here. */
function byKind(kind: ErrorKind): S3ErrorCode {
  switch (kind) {
    case 'InvalidInput':
      return s3('InvalidArgument', 400);
    case 'Unauthenticated':
    case 'PermissionDenied':
      return s3('AccessDenied', 403);
    case 'NotFound':
      return s3('NoSuchKey', 404);
    case 'Conflict':
      return s3('OperationAborted', 409);
    case 'PayloadTooLarge':
      return s3('EntityTooLarge', 400);
    case 'UpstreamRejected':
      return s3('InvalidRequest', 400);
    case 'UpstreamUnavailable':
      return s3('ServiceUnavailable', 503);
    case 'Internal':
      return s3('InternalError', 500);
  }
}

/**
 * The S3 error a client should see. When S3 itself refused the request with a 4xx error that we did not
 * translate (NoSuchUpload, InvalidPart, EntityTooSmall…), its own code and status are passed through, so
 * clients react exactly as they would against S3.
 */
export function s3ErrorOf(error: RolegateError): S3ErrorCode {
  const known = BY_CODE[error.code];
  if (known !== undefined) return known;
  const upstream = upstreamS3Error(error.cause);
  if (upstream !== undefined && error.code.startsWith('s3.')) return upstream;
  return byKind(error.kind);
}

/** The code and status of an AWS SDK S3 error (4xx only), read structurally. */
function upstreamS3Error(cause: unknown): S3ErrorCode | undefined {
  if (typeof cause !== 'object' || cause === null) return undefined;
  const e = cause as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = e.$metadata?.httpStatusCode;
  if (typeof e.name !== 'string' || !/^[A-Z][A-Za-z0-9]{2,63}$/.test(e.name)) return undefined;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  return s3(e.name, status);
}
