import { describe, expect, it } from 'vitest';
import { awsErrorFacts, isRetryableAwsError } from './aws-error.js';

function sdkError(name: string, status?: number, extra: Record<string, unknown> = {}) {
  return Object.assign(new Error(name), {
    name,
    $metadata: status === undefined ? {} : { httpStatusCode: status },
    ...extra,
  });
}

describe('awsErrorFacts', () => {
  it('reads the status and name of an SDK error', () => {
    expect(awsErrorFacts(sdkError('AccessDenied', 403))).toEqual({ status: 403, name: 'AccessDenied', network: false });
  });

  it('recognises network failures by name or errno code when there is no status', () => {
    expect(awsErrorFacts(sdkError('TimeoutError')).network).toBe(true);
    expect(awsErrorFacts(sdkError('AbortError')).network).toBe(true);
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']) {
      expect(awsErrorFacts(Object.assign(new Error('x'), { code })).network).toBe(true);
    }
    expect(awsErrorFacts(Object.assign(new Error('x'), { code: 'EACCES' })).network).toBe(false);
  });

  it('does not call an error with an HTTP status a network failure', () => {
    expect(awsErrorFacts(sdkError('TimeoutError', 504)).network).toBe(false);
  });

  it('copes with values that are not errors', () => {
    expect(awsErrorFacts(undefined)).toEqual({ status: undefined, name: 'Unknown', network: false });
    expect(awsErrorFacts('boom')).toEqual({ status: undefined, name: 'Unknown', network: false });
    expect(awsErrorFacts(null)).toEqual({ status: undefined, name: 'Unknown', network: false });
    expect(awsErrorFacts({ name: 42 }).name).toBe('Unknown');
  });
});

describe('isRetryableAwsError', () => {
  it('retries 5xx, 429, throttling names and network failures', () => {
    expect(isRetryableAwsError(sdkError('ServiceUnavailable', 503))).toBe(true);
    expect(isRetryableAwsError(sdkError('InternalError', 500))).toBe(true);
    expect(isRetryableAwsError(sdkError('TooManyRequests', 429))).toBe(true);
    expect(isRetryableAwsError(sdkError('Throttling', 400))).toBe(true);
    expect(isRetryableAwsError(sdkError('SlowDown'))).toBe(true);
    expect(isRetryableAwsError(sdkError('TimeoutError'))).toBe(true);
    expect(isRetryableAwsError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
  });

  it('does not retry other 4xx answers or unknown values', () => {
    expect(isRetryableAwsError(sdkError('AccessDenied', 403))).toBe(false);
    expect(isRetryableAwsError(sdkError('NoSuchEntity', 404))).toBe(false);
    expect(isRetryableAwsError(sdkError('ValidationError', 400))).toBe(false);
    expect(isRetryableAwsError(new Error('plain'))).toBe(false);
    expect(isRetryableAwsError(undefined)).toBe(false);
  });
});
