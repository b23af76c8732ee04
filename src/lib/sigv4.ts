/**
 * The maths of AWS Signature Version 4, shared by what verifies signatures (the S3 gateway) and what makes them
 * (remote signing): encodings, the canonical query and header values, the signing key and the signature.
 * Pure: no I/O, and nothing here keeps a secret beyond the call.
 */
import { createHmac, hash } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** RFC 3986 percent-encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ (and `/` when asked). */
export function uriEncode(value: string, keepSlash: boolean): string {
  const encoded = encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return keepSlash ? encoded.replaceAll('%2F', '/') : encoded;
}

/** The canonical query: decoded parameters encoded once, sorted by name then value, `omit` left out. */
export function canonicalQuery(params: ReadonlyArray<readonly [string, string]>, omit?: string): string {
  return params
    .filter(([name]) => name !== omit)
    .map(([name, value]) => [uriEncode(name, false), uriEncode(value, false)] as const)
    .sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** A header value as SigV4 canonicalises it: trimmed, inner runs of whitespace as one space. */
function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

/** Hex SHA-256 of a string's UTF-8 bytes, or of bytes (one-shot: half the cost of a Hash object for short input). */
/**
 * The canonical request of SigV4 from its parts, already canonical except for the header values: `headers` are the
 * signed headers, lower-case names in sorted order (SignedHeaders is their names joined with `;`).
 */
export function canonicalRequestOf(parts: {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly payloadHash: string;
}): string {
  let canonicalHeaders = '';
  for (const [name, value] of parts.headers) canonicalHeaders += `${name}:${canonicalHeaderValue(value)}\n`;
  const signedHeaders = parts.headers.map(([name]) => name).join(';');
  return `${parts.method}\n${parts.path}\n${parts.query}\n${canonicalHeaders}\n${signedHeaders}\n${parts.payloadHash}`;
}

/** `YYYYMMDD/region/service/aws4_request`, for the day of an `X-Amz-Date`. */
export function credentialScope(amzDate: string, region: string, service = 's3'): string {
  return `${amzDate.slice(0, 8)}/${region}/${service}/aws4_request`;
}

export function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', data, 'hex');
}

export function hmac(key: Uint8Array | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** kSigning = HMAC chain over date, region, service and the terminator of a `DATE/REGION/SERVICE/aws4_request` scope. */
export function signingKey(secret: string, scope: string): Buffer {
  const [date = '', region = '', service = ''] = scope.split('/');
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

/** The string to sign for a canonical request. */
export function stringToSign(auth: { readonly amzDate: string; readonly scope: string }, canonical: string): string {
  return `${ALGORITHM}\n${auth.amzDate}\n${auth.scope}\n${sha256Hex(canonical)}`;
}

/** `YYYYMMDDTHHMMSSZ`, the form of `X-Amz-Date`. */
export function amzDateOf(at: Date): string {
  const iso = at.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}
