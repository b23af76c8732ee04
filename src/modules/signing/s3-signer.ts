/**
 * SigV4 for S3 with a user's role session: header signing of a checked {@link SigningPlan}, and presigned URLs.
 * The maths is src/lib/sigv4.ts, the same the S3 gateway verifies with; this file only assembles the canonical
 * request from the parts the domain decided on, so that what is signed is exactly what was checked. Secrets stay
 * in here: callers get headers and URLs, never keys.
 */
import type { AwsCredentials } from '../../domain/model.js';
import { rfc3986, type SigningPlan } from '../../domain/signing.js';
import {
  ALGORITHM,
  amzDateOf,
  canonicalQuery,
  canonicalRequestOf,
  credentialScope,
  hmac,
  signingKey,
  stringToSign,
  UNSIGNED_PAYLOAD,
} from '../../lib/sigv4.js';

/**
 * Derived signing keys per role session credentials and scope (`DATE/REGION/s3/aws4_request`): four HMACs saved
 * per signature. Weakly held, so a session's keys go with its credentials; a day's keys replace the last day's.
 */
const signingKeys = new WeakMap<AwsCredentials, Map<string, Buffer>>();
const MAX_SCOPES_PER_SESSION = 8;

function keyFor(credentials: AwsCredentials, scope: string): Buffer {
  let byScope = signingKeys.get(credentials);
  if (byScope === undefined) {
    byScope = new Map();
    signingKeys.set(credentials, byScope);
  }
  let key = byScope.get(scope);
  if (key === undefined) {
    if (byScope.size >= MAX_SCOPES_PER_SESSION) byScope.clear();
    key = signingKey(credentials.secretAccessKey, scope);
    byScope.set(scope, key);
  }
  return key;
}

/** Signs a canonical request of the role session; returns the credential scope, signed header names and signature. */
function signatureOf(
  credentials: AwsCredentials,
  region: string,
  amzDate: string,
  parts: {
    readonly method: string;
    readonly path: string;
    readonly query: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly payloadHash: string;
  },
): { scope: string; signedHeaders: string; signature: string } {
  const scope = credentialScope(amzDate, region);
  const headers = Object.keys(parts.headers)
    .sort()
    .map((name) => [name, parts.headers[name] ?? ''] as const);
  const canonical = canonicalRequestOf({ ...parts, headers });
  const signature = hmac(keyFor(credentials, scope), stringToSign({ amzDate, scope }, canonical)).toString('hex');
  return { scope, signedHeaders: headers.map(([name]) => name).join(';'), signature };
}

/** What the client adds to its request: the signature and the headers rolegate set (lower-case names). */
export type SignedHeaders = Record<string, string>;

/**
 * Signs the planned request with the role session, the session token included (as `x-amz-security-token`, which
 * is signed too). Returns only the headers the client must add: `authorization`, `x-amz-date`,
 * `x-amz-security-token` and any the plan added (the payload hash when the client sent none).
 */
export function signPlannedRequest(
  plan: SigningPlan,
  credentials: AwsCredentials,
  region: string,
  at: Date,
): SignedHeaders {
  const amzDate = amzDateOf(at);
  const headers: Record<string, string> = Object.assign({}, plan.headers, { 'x-amz-date': amzDate });
  if (credentials.sessionToken !== undefined) headers['x-amz-security-token'] = credentials.sessionToken;
  const { scope, signedHeaders, signature } = signatureOf(credentials, region, amzDate, {
    method: plan.method,
    path: plan.path,
    query: canonicalQuery(plan.query),
    headers,
    payloadHash: headers['x-amz-content-sha256'] ?? UNSIGNED_PAYLOAD,
  });
  const out: SignedHeaders = {
    authorization: `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    'x-amz-date': amzDate,
  };
  if (credentials.sessionToken !== undefined) out['x-amz-security-token'] = credentials.sessionToken;
  for (const name of plan.added) {
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/**
 * A presigned URL for the planned request, valid `expiresIn` s: `host` the only signed header, the payload
 * unsigned (the S3 convention for presigned URLs; the hash is neither in the URL nor signed).
 */
export function presignPlannedRequest(
  plan: SigningPlan,
  credentials: AwsCredentials,
  region: string,
  at: Date,
  expiresIn: number,
): string {
  const amzDate = amzDateOf(at);
  const scope = credentialScope(amzDate, region);
  const query: Array<readonly [string, string]> = [
    ...plan.query,
    ['X-Amz-Algorithm', ALGORITHM],
    ['X-Amz-Credential', `${credentials.accessKeyId}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', String(expiresIn)],
    ['X-Amz-SignedHeaders', 'host'],
  ];
  if (credentials.sessionToken !== undefined) query.push(['X-Amz-Security-Token', credentials.sessionToken]);
  const { signature } = signatureOf(credentials, region, amzDate, {
    method: plan.method,
    path: plan.path,
    query: canonicalQuery(query),
    headers: { host: plan.host },
    payloadHash: UNSIGNED_PAYLOAD,
  });
  query.push(['X-Amz-Signature', signature]);
  const search = query.map(([name, value]) => `${rfc3986(name)}=${rfc3986(value)}`).join('&');
  return `${plan.protocol}//${plan.host}${plan.path}?${search}`;
}
