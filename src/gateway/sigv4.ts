/**
 * AWS Signature Version 4 verification for the S3 gateway: header-signed (`Authorization: AWS4-HMAC-SHA256 …`)
 * and presigned (`X-Amz-Algorithm=AWS4-HMAC-SHA256&…` in the query) requests. The canonical request is rebuilt
 * from the raw request line and raw headers (never from parsed, normalised forms), the signature recomputed
 * with the gateway key's secret and compared in constant time.
 */
import { timingSafeEqual } from 'node:crypto';
import { invalidInput, type RolegateError, unauthenticated } from '../errors/errors.js';
import {
  ALGORITHM,
  canonicalQuery,
  canonicalRequestOf,
  hmac,
  signingKey,
  stringToSign,
  UNSIGNED_PAYLOAD,
  uriEncode,
} from '../lib/sigv4.js';
/** How far a signed request's clock may be from ours (S3 allows 15 minutes). */
export const MAX_SKEW_MS = 15 * 60 * 1000;
/** The longest a presigned URL may be valid (S3: 7 days). */
export const MAX_PRESIGNED_EXPIRY_SECONDS = 604_800;

/** What verification needs from an HTTP request: the request line and headers exactly as received. */
export interface RawRequest {
  readonly method: string;
  /** Path and query as sent, e.g. `/bucket/a%20b?uploads`. */
  readonly url: string;
  /** Node's `rawHeaders`: name, value, name, value… */
  readonly rawHeaders: readonly string[];
}

/** The parsed, not yet verified, authentication of a request. */
export interface ClaimedAuth {
  readonly kind: 'header' | 'presigned';
  readonly accessKeyId: string;
  /** `YYYYMMDDTHHMMSSZ` */
  readonly amzDate: string;
  /** `YYYYMMDD/region/s3/aws4_request` */
  readonly scope: string;
  readonly region: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  /** The payload hash that goes into the canonical request: hex SHA-256, UNSIGNED-PAYLOAD or STREAMING-…. */
  readonly payloadHash: string;
}

/** What a verified request leaves for the body decoder: the key to check chunk signatures with. */
export interface SigningContext {
  readonly amzDate: string;
  readonly scope: string;
  readonly signingKey: Buffer;
  /** The request's own signature, which seeds the chain of chunk signatures. */
  readonly seedSignature: string;
}

const SIGNATURE = /^[0-9a-f]{64}$/;
const AMZ_DATE = /^(\d{8})T(\d{6})Z$/;
const ACCESS_KEY_ID = /^[A-Za-z0-9]{16,128}$/;

const malformed = (message: string): RolegateError => invalidInput('gateway.authorization_malformed', message);
const mismatch = (): RolegateError =>
  unauthenticated(
    'gateway.signature_mismatch',
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  );

/** Header values by lower-case name, repeated headers joined with ',' (as SigV4 canonicalises them). */
export function headerMap(rawHeaders: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    const prev = map.get(name);
    map.set(name, prev === undefined ? value : `${prev},${value}`);
  }
  return map;
}

function decode(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    throw invalidInput('gateway.invalid_uri', 'The request URI contains an invalid percent-encoding');
  }
}

/** Query parameters in order, decoded (`+` stays `+`: S3 clients encode a space as %20). */
export function parseQuery(rawQuery: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    out.push(eq < 0 ? [decode(piece), ''] : [decode(piece.slice(0, eq)), decode(piece.slice(eq + 1))]);
  }
  return out;
}

function splitUrl(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

/** The canonical URI of S3: each path segment decoded once and re-encoded once; no dot-segment removal. */
export function canonicalUri(rawPath: string): string {
  return rawPath
    .split('/')
    .map((segment) => uriEncode(decode(segment), false))
    .join('/');
}

/** The canonical request of SigV4, from the raw request and the claimed signed headers and payload hash. */
export function canonicalRequest(req: RawRequest, auth: ClaimedAuth): string {
  const { path, query } = splitUrl(req.url);
  const headers = headerMap(req.rawHeaders);
  return canonicalRequestOf({
    method: req.method,
    path: canonicalUri(path),
    query: canonicalQuery(parseQuery(query), auth.kind === 'presigned' ? 'X-Amz-Signature' : undefined),
    // In the order the client signed them (SignedHeaders), as it sent them.
    headers: auth.signedHeaders.map((name) => {
      const value = headers.get(name);
      if (value === undefined) throw malformed(`The signed header "${name}" is missing from the request`);
      return [name, value] as const;
    }),
    payloadHash: auth.payloadHash,
  });
}

/** Constant-time comparison of two lower-case hex signatures. */
export function signaturesEqual(expected: string, given: string): boolean {
  if (!SIGNATURE.test(given) || !SIGNATURE.test(expected)) return false;
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(given, 'hex'));
}

function parseCredential(credential: string): { accessKeyId: string; scope: string; region: string } {
  const parts = credential.split('/');
  if (parts.length !== 5) throw malformed('The Credential must be ACCESS_KEY/DATE/REGION/s3/aws4_request');
  const [accessKeyId = '', date = '', region = '', service, terminator] = parts;
  if (!ACCESS_KEY_ID.test(accessKeyId)) {
    throw unauthenticated(
      'gateway.invalid_access_key',
      'The access key ID you provided does not exist in our records.',
    );
  }
  if (!/^\d{8}$/.test(date) || region === '' || service !== 's3' || terminator !== 'aws4_request') {
    throw malformed('The Credential scope must be DATE/REGION/s3/aws4_request');
  }
  return { accessKeyId, scope: parts.slice(1).join('/'), region };
}

function parseSignedHeaders(value: string): string[] {
  const names = value.split(';');
  if (names.some((n) => n === '' || n !== n.toLowerCase())) throw malformed('SignedHeaders must be lower-case names');
  if (!names.includes('host')) throw malformed('SignedHeaders must include host');
  return names;
}

function amzDateMillis(amzDate: string): number {
  const m = AMZ_DATE.exec(amzDate);
  if (m === null) throw malformed('X-Amz-Date must be YYYYMMDDTHHMMSSZ');
  const [, d = '', t = ''] = m;
  const ms = Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8), +t.slice(0, 2), +t.slice(2, 4), +t.slice(4));
  if (!Number.isFinite(ms)) throw malformed('X-Amz-Date is not a valid date');
  return ms;
}

/**
 * Parses the SigV4 authentication of a request and checks its time window; does not verify the signature.
 * Returns undefined for a request that carries no SigV4 authentication at all (anonymous).
 *
 * @throws RolegateError `gateway.authorization_malformed`, `gateway.invalid_access_key` (a malformed key id),
 *   `gateway.request_time_skewed` (header-signed, more than 15 minutes off), `gateway.request_expired` (presigned).
 */
export function parseAuthentication(req: RawRequest, nowMs: number): ClaimedAuth | undefined {
  const headers = headerMap(req.rawHeaders);
  const query = new Map(parseQuery(splitUrl(req.url).query));
  const authorization = headers.get('authorization');
  if (authorization !== undefined) {
    if (!authorization.startsWith(`${ALGORITHM} `)) {
      throw invalidInput(
        'gateway.unsupported_authorization',
        'Only AWS Signature Version 4 (AWS4-HMAC-SHA256) is supported',
      );
    }
    const fields = new Map<string, string>();
    for (const part of authorization.slice(ALGORITHM.length + 1).split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    const credential = fields.get('Credential');
    const signedHeaders = fields.get('SignedHeaders');
    const signature = fields.get('Signature');
    if (credential === undefined || signedHeaders === undefined || signature === undefined) {
      throw malformed('The Authorization header must carry Credential, SignedHeaders and Signature');
    }
    const cred = parseCredential(credential);
    const amzDate = headers.get('x-amz-date');
    if (amzDate === undefined) throw malformed('Header-signed requests must carry X-Amz-Date');
    if (amzDate.slice(0, 8) !== cred.scope.slice(0, 8)) throw malformed('The Credential date must match X-Amz-Date');
    const payloadHash = headers.get('x-amz-content-sha256');
    if (payloadHash === undefined) {
      throw invalidInput(
        'gateway.missing_content_sha256',
        'Missing required header for this request: x-amz-content-sha256',
      );
    }
    const names = parseSignedHeaders(signedHeaders);
    if (!names.includes('x-amz-content-sha256')) throw malformed('SignedHeaders must include x-amz-content-sha256');
    if (Math.abs(nowMs - amzDateMillis(amzDate)) > MAX_SKEW_MS) {
      throw unauthenticated(
        'gateway.request_time_skewed',
        'The difference between the request time and the server time is too large.',
      );
    }
    return {
      kind: 'header',
      accessKeyId: cred.accessKeyId,
      amzDate,
      scope: cred.scope,
      region: cred.region,
      signedHeaders: names,
      signature,
      payloadHash,
    };
  }

  if (query.has('AWSAccessKeyId') && query.has('Signature')) {
    throw invalidInput(
      'gateway.unsupported_authorization',
      'Only AWS Signature Version 4 presigned URLs are supported',
    );
  }
  if (!query.has('X-Amz-Algorithm') && !query.has('X-Amz-Signature')) return undefined;
  if (query.get('X-Amz-Algorithm') !== ALGORITHM) {
    throw invalidInput('gateway.unsupported_authorization', 'X-Amz-Algorithm must be AWS4-HMAC-SHA256');
  }
  const credential = query.get('X-Amz-Credential');
  const amzDate = query.get('X-Amz-Date');
  const expires = query.get('X-Amz-Expires');
  const signedHeaders = query.get('X-Amz-SignedHeaders');
  const signature = query.get('X-Amz-Signature');
  if (!credential || !amzDate || !expires || !signedHeaders || !signature) {
    throw malformed(
      'Presigned requests must carry X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature',
    );
  }
  const cred = parseCredential(credential);
  if (amzDate.slice(0, 8) !== cred.scope.slice(0, 8)) throw malformed('The Credential date must match X-Amz-Date');
  const seconds = Number(expires);
  if (!/^\d{1,6}$/.test(expires) || seconds < 1 || seconds > MAX_PRESIGNED_EXPIRY_SECONDS) {
    throw malformed(`X-Amz-Expires must be 1–${MAX_PRESIGNED_EXPIRY_SECONDS} seconds`);
  }
  const signedAt = amzDateMillis(amzDate);
  if (signedAt - nowMs > MAX_SKEW_MS) {
    throw unauthenticated('gateway.request_time_skewed', 'The presigned request was signed in the future.');
  }
  if (nowMs > signedAt + seconds * 1000) throw unauthenticated('gateway.request_expired', 'Request has expired');
  return {
    kind: 'presigned',
    accessKeyId: cred.accessKeyId,
    amzDate,
    scope: cred.scope,
    region: cred.region,
    signedHeaders: parseSignedHeaders(signedHeaders),
    signature,
    // The AWS SDK presigners hoist x-amz-content-sha256 (UNSIGNED-PAYLOAD) into the query.
    payloadHash: headers.get('x-amz-content-sha256') ?? query.get('X-Amz-Content-Sha256') ?? UNSIGNED_PAYLOAD,
  };
}

/**
 * Recomputes the signature with `secret` and compares it in constant time.
 * @returns the signing context for chunk signatures.
 * @throws RolegateError `gateway.signature_mismatch`; `onMismatch` receives the canonical request (no secret in it).
 */
export function verifySignature(
  req: RawRequest,
  auth: ClaimedAuth,
  secret: string,
  onMismatch?: (canonical: string) => void,
): SigningContext {
  const canonical = canonicalRequest(req, auth);
  const key = signingKey(secret, auth.scope);
  const expected = hmac(key, stringToSign(auth, canonical)).toString('hex');
  if (!signaturesEqual(expected, auth.signature)) {
    onMismatch?.(canonical);
    throw mismatch();
  }
  return { amzDate: auth.amzDate, scope: auth.scope, signingKey: key, seedSignature: auth.signature };
}
