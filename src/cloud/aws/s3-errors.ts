import {
  invalidInput,
  notFound,
  permissionDenied,
  RolegateError,
  upstreamRejected,
  upstreamUnavailable,
} from '../../errors/errors.js';
import { awsErrorFacts } from './aws-error.js';

/**
 * S3 failures as typed errors; messages name the connection and key, never a credential. A call that rolegate
 * aborted (`signal`, with a RolegateError as its reason: the client went away, a part stalled) fails for that
 * reason, not for the SDK's AbortError.
 */
export function mapS3Error(
  error: unknown,
  where: { connection: string; key?: string | undefined },
  signal?: AbortSignal,
): RolegateError {
  if (signal?.aborted && signal.reason instanceof RolegateError) return signal.reason;
  if (error instanceof RolegateError) return error;
  const { status, name, network } = awsErrorFacts(error);
  const what =
    where.key === undefined ? `connection "${where.connection}"` : `"${where.key}" in connection "${where.connection}"`;
  const details = { connection: where.connection };
  if (status === 403 || name === 'AccessDenied') {
    return permissionDenied('s3.access_denied', `S3 denied access to ${what} for this role session`, {
      cause: error,
      details,
    });
  }
  if (name === 'NoSuchKey' || name === 'NotFound' || (status === 404 && name !== 'NoSuchBucket')) {
    return notFound('object.not_found', `${what} does not exist`, { cause: error, details });
  }
  if (name === 'NoSuchBucket') {
    return notFound('s3.bucket_not_found', `the bucket of connection "${where.connection}" does not exist`, {
      cause: error,
      details,
    });
  }
  if (status === 416 || name === 'InvalidRange') {
    return invalidInput('object.invalid_range', `the requested range is not satisfiable for ${what}`, {
      cause: error,
      details,
    });
  }
  if (status === 412 || name === 'PreconditionFailed') {
    return invalidInput('object.precondition_failed', `a precondition failed for ${what}`, { cause: error, details });
  }
  if (network || status === undefined || status >= 500) {
    return upstreamUnavailable('s3.unavailable', `S3 is unavailable for ${what}`, { cause: error });
  }
  return upstreamRejected('s3.rejected', `S3 rejected the request for ${what} (${name})`, { cause: error, details });
}
