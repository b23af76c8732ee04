/**
 * One request/response of the gateway, after authentication: parsed headers and query, the caller, helpers to
 * answer in S3's shapes, and the request body read through the verifying decoder.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import type { Principal } from '../domain/model.js';
import { invalidInput } from '../errors/errors.js';
import { type XmlElement, xmlDocument } from '../lib/xml.js';
import type { ObjectHeaders, ObjectMeta } from '../modules/data/objects.service.js';
import { checksumHeader } from './checksums.js';
import { MAX_SINGLE_PUT_BYTES, PayloadDecoder, payloadSpecOf } from './payload.js';
import type { Target } from './router.js';
import type { ClaimedAuth, SigningContext } from './sigv4.js';

/** Bodies up to this size are read whole, and verified, before anything is sent to S3. */
const BUFFERED_BODY_BYTES = 64 * 1024;

export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly principal: Principal;
  readonly auth: ClaimedAuth;
  readonly signing: SigningContext;
  /** Lower-case names; repeated headers joined with ','. */
  readonly headers: ReadonlyMap<string, string>;
  readonly query: ReadonlyMap<string, string>;
  readonly target: Target;
  /** The region the gateway reports (GetBucketLocation). */
  readonly region: string;
  /** Aborted when the client goes away before the request body was complete. */
  readonly signal: AbortSignal;
}

export function sendXml(x: Exchange, status: number, root: XmlElement): void {
  const body = Buffer.from(xmlDocument(root), 'utf8');
  x.res.writeHead(status, { 'content-type': 'application/xml', 'content-length': body.length });
  x.res.end(body);
}

export function sendEmpty(x: Exchange, status: number, headers: Record<string, string | number> = {}): void {
  x.res.writeHead(status, { ...headers, 'content-length': 0 });
  x.res.end();
}

/** The body of a request with the object bytes, verified while it streams (see payload.ts). */
export interface ObjectBody {
  /** A Buffer for small bodies (already fully verified), a stream otherwise. */
  readonly body: Readable | Buffer;
  readonly length: number;
  /** Verified checksum values to echo once the body has ended. */
  readonly checksums: () => Record<string, string>;
  /** Rejects with the decoder's error when the body fails a check. */
  readonly failed: Promise<never>;
}

/** Opens the request body for an object write (PutObject, UploadPart). */
export async function objectBody(x: Exchange, abort: AbortController): Promise<ObjectBody> {
  const spec = payloadSpecOf(x.headers, x.auth, x.signing);
  if (spec.decodedLength > MAX_SINGLE_PUT_BYTES) {
    throw invalidInput('gateway.entity_too_large', 'Your proposed upload exceeds the maximum allowed object size.');
  }
  const decoder = new PayloadDecoder(spec);
  const failed = new Promise<never>((_resolve, reject) => {
    pipeline(x.req, decoder, () => undefined);
    decoder.once('error', (e) => {
      abort.abort(e);
      reject(e);
    });
  });
  failed.catch(() => undefined);
  const checksums = () =>
    Object.fromEntries([...decoder.checksums].map(([algorithm, value]) => [checksumHeader(algorithm), value]));
  if (spec.decodedLength <= BUFFERED_BODY_BYTES) {
    const body = await Promise.race([collect(decoder, BUFFERED_BODY_BYTES), failed]);
    return { body, length: body.length, checksums, failed };
  }
  return { body: decoder, length: spec.decodedLength, checksums, failed };
}

/** Reads a small, fully verified request body (XML documents), refusing more than `limit` bytes. */
export async function smallBody(x: Exchange, limit: number): Promise<Buffer> {
  const spec = payloadSpecOf(x.headers, x.auth, x.signing);
  if (spec.decodedLength > limit) {
    throw invalidInput('gateway.entity_too_large', `The request body is larger than ${limit} bytes`);
  }
  const decoder = new PayloadDecoder(spec);
  const done = new Promise<never>((_resolve, reject) => {
    pipeline(x.req, decoder, (e) => {
      if (e) reject(e);
    });
  });
  return Promise.race([collect(decoder, limit), done]);
}

async function collect(stream: Readable, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) throw invalidInput('gateway.entity_too_large', `The request body is larger than ${limit} bytes`);
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

function parseDate(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** Conditional request headers; unparseable dates are ignored, as HTTP says. */
export function conditionsOf(headers: ReadonlyMap<string, string>, prefix = '') {
  return {
    ifMatch: headers.get(`${prefix}if-match`),
    ifNoneMatch: headers.get(`${prefix}if-none-match`),
    ifModifiedSince: parseDate(headers.get(`${prefix}if-modified-since`)),
    ifUnmodifiedSince: parseDate(headers.get(`${prefix}if-unmodified-since`)),
  };
}

/** The object headers a write carries; `aws-chunked` is a transfer detail, not stored. */
export function objectHeadersOf(headers: ReadonlyMap<string, string>): ObjectHeaders {
  const metadata: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (name.startsWith('x-amz-meta-') && name.length > 11) metadata[name.slice(11)] = value;
  }
  const encoding = headers
    .get('content-encoding')
    ?.split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '' && e !== 'aws-chunked')
    .join(',');
  return {
    contentType: headers.get('content-type'),
    cacheControl: headers.get('cache-control'),
    contentDisposition: headers.get('content-disposition'),
    contentEncoding: encoding === '' ? undefined : encoding,
    contentLanguage: headers.get('content-language'),
    expires: parseDate(headers.get('expires')),
    metadata: Object.keys(metadata).length > 0 ? metadata : undefined,
  };
}

/** Response headers for an object read; `response-*` query parameters override (as presigned URLs use them). */
export function objectResponseHeaders(meta: ObjectMeta, query: ReadonlyMap<string, string>): Record<string, string> {
  const h: Record<string, string> = { 'accept-ranges': 'bytes' };
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined && value !== '') h[name] = value;
  };
  set('content-type', meta.contentType ?? 'application/octet-stream');
  set('etag', meta.etag);
  set('last-modified', meta.lastModified?.toUTCString());
  set('cache-control', meta.cacheControl);
  set('content-disposition', meta.contentDisposition);
  set('content-encoding', meta.contentEncoding);
  set('content-language', meta.contentLanguage);
  set('expires', meta.expires?.toUTCString());
  for (const [name, value] of Object.entries(meta.metadata ?? {})) set(`x-amz-meta-${name}`, value);
  for (const name of [
    'content-type',
    'content-language',
    'expires',
    'cache-control',
    'content-disposition',
    'content-encoding',
  ]) {
    set(name, query.get(`response-${name}`));
  }
  return h;
}
