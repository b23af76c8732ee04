/** Facts about an AWS SDK error that are safe to branch on. RGW's STS errors only parse by HTTP status. */
export interface AwsErrorFacts {
  readonly status: number | undefined;
  readonly name: string;
  readonly network: boolean;
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
]);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

export function awsErrorFacts(error: unknown): AwsErrorFacts {
  if (typeof error !== 'object' || error === null) return { status: undefined, name: 'Unknown', network: false };
  const e = error as { $metadata?: { httpStatusCode?: number }; name?: string; code?: string };
  const status = e.$metadata?.httpStatusCode;
  const name = typeof e.name === 'string' ? e.name : 'Unknown';
  const network =
    status === undefined &&
    (name === 'TimeoutError' || name === 'AbortError' || (typeof e.code === 'string' && NETWORK_CODES.has(e.code)));
  return { status, name, network };
}

/** Throttling, 5xx and network failures are worth another try; 4xx answers are final. */
export function isRetryableAwsError(error: unknown): boolean {
  const f = awsErrorFacts(error);
  return f.network || f.status === 429 || (f.status !== undefined && f.status >= 500) || THROTTLING.has(f.name);
}
