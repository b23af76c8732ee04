/**
 * Remote signing decisions: a client describes an S3 request (method, URI, headers) and rolegate decides, before
 * anything is signed, whether that exact request lies inside the caller's scope. Pure: no I/O, no secrets.
 *
 * The request is parsed conservatively: the URI must point at the connection's own endpoint (path-style or
 * virtual-host-style), the bucket must be the connection's, every key (object key or listing prefix) must lie in
 * the scope and pass the same key checks as every other path into S3, and only the operations a data client needs
 * are signed. What is signed is the canonical form of what was checked, and that canonical URI is what the client
 * must send: a client that sends anything else gets a signature mismatch from S3.
 */
import { type ErrorKind, invalidInput, permissionDenied, RolegateError } from '../errors/errors.js';
import { memoized } from '../lib/memoized.js';
import { sha256Hex, UNSIGNED_PAYLOAD, uriEncode } from '../lib/sigv4.js';
import { MAX_DELETE_BODY_BYTES, MAX_DELETE_OBJECTS, parseDeleteRequest } from '../lib/xml.js';
import type { ConnectionTarget, Scope } from './model.js';
import { isKeyInScope, relativeKey, resolveListPrefix, resolveObjectKey } from './scope.js';

/** The methods of the Iceberg S3 signer protocol that rolegate signs. */
export const SIGNABLE_METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'] as const;
export type SignableMethod = (typeof SIGNABLE_METHODS)[number];
const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

/** What the client asks to have signed, as the Iceberg S3 signer protocol carries it. */
export interface SigningRequest {
  readonly method: string;
  readonly uri: string;
  /** Header name → values, as sent (names in any case). */
  readonly headers: Readonly<Record<string, readonly string[]>>;
  readonly region?: string | undefined;
  /** The request body, which the protocol carries for DeleteObjects only (the keys to delete are in it). */
  readonly body?: string | undefined;
}

/** The S3 operations rolegate signs, named as S3 names them. */
export type S3Operation =
  | 'GetObject'
  | 'HeadObject'
  | 'ListParts'
  | 'PutObject'
  | 'UploadPart'
  | 'CreateMultipartUpload'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'DeleteObject'
  | 'DeleteObjects'
  | 'ListObjects'
  | 'ListObjectsV2'
  | 'ListObjectVersions'
  | 'ListMultipartUploads'
  | 'GetBucketLocation'
  | 'HeadBucket';

/** A request that may be signed: its canonical parts, ready for SigV4, and what it touches (for the audit). */
export interface SigningPlan {
  readonly method: SignableMethod;
  readonly operation: S3Operation;
  readonly write: boolean;
  readonly protocol: 'http:' | 'https:';
  /** `host[:port]` as the Host header carries it. */
  readonly host: string;
  readonly hostname: string;
  readonly port?: number | undefined;
  /** The canonical path: every segment decoded once and encoded once (RFC 3986). */
  readonly path: string;
  /** Decoded query parameters, in the order given. */
  readonly query: ReadonlyArray<readonly [string, string]>;
  /** The URI the client must send: `protocol//host` + path + canonical query. */
  readonly uri: string;
  /** Lower-case header name → value (repeated values joined with ','), to be signed as given. */
  readonly headers: Readonly<Record<string, string>>;
  /** Headers rolegate adds that the client did not send (the payload hash when absent), lower-case. */
  readonly added: readonly string[];
  /**
   * The signature may serve every read of this URI for a while (Iceberg's signer client keeps such answers for
   * 30 s): an object read, signed over the URI, `host` and the `x-amz-*` headers only, so that the per-read
   * headers (`range`, `if-*`) can differ between the reads it serves.
   */
  readonly reusable: boolean;
  readonly bucket: string;
  /**
   * The full object key, or the full listing prefix of a listing, or for DeleteObjects the longest prefix its keys
   * share; absent for bucket operations.
   */
  readonly key?: string | undefined;
  /** DeleteObjects: how many objects its body names (each checked against the scope). */
  readonly objects?: number | undefined;
}

/** What a refused request touched, for the audit (never a secret: no header values, no query). */
export interface SigningRefusalFacts {
  readonly bucket?: string | undefined;
  readonly key?: string | undefined;
  readonly method?: string | undefined;
}

const PAYLOAD_HASH = /^[0-9a-f]{64}$/;
const REGION = /^[a-z0-9-]{1,32}$/;
/** Scheme, authority, raw path, raw query, fragment: the path is read from the URI as sent, not as WHATWG fixes it. */
const URI_PARTS = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(#.*)?$/;
export const MAX_URI_CHARS = 8192;

/**
 * Headers that are never signed (they change in transit or between attempts) and never returned: hop-by-hop and
 * proxy headers, the SDKs' per-attempt headers, and what rolegate itself sets.
 */
const DROPPED_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'x-amz-date',
  'x-amz-security-token',
  'cache-control',
  'connection',
  'expect',
  'from',
  'keep-alive',
  'max-forwards',
  'pragma',
  'referer',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
  'amz-sdk-invocation-id',
  'amz-sdk-request',
  'amz-sdk-retry',
]);
/** Headers that would make S3 read another object or change who may read one: refused, not interpreted. */
const REFUSED_HEADER = /^(x-amz-copy-source.*|x-amz-acl|x-amz-grant-.*|x-amz-website-redirect-location)$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const HEADER_VALUE_BAD = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** Query parameters each operation may carry (anything else is not signed). */
const OBJECT_READ_PARAMS: ReadonlySet<string> = new Set([
  'versionId',
  'partNumber',
  'response-content-type',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-cache-control',
  'response-expires',
]);
const LIST_PARAMS: ReadonlySet<string> = new Set([
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'continuation-token',
  'start-after',
  'fetch-owner',
  'encoding-type',
  'marker',
  'optional-object-attributes',
]);
const LIST_VERSIONS_PARAMS: ReadonlySet<string> = new Set([
  'versions',
  'prefix',
  'delimiter',
  'max-keys',
  'key-marker',
  'version-id-marker',
  'encoding-type',
]);
const LIST_UPLOADS_PARAMS: ReadonlySet<string> = new Set([
  'uploads',
  'prefix',
  'delimiter',
  'max-uploads',
  'key-marker',
  'upload-id-marker',
  'encoding-type',
]);

class Refusal extends RolegateError {
  constructor(kind: ErrorKind, code: string, message: string, facts: SigningRefusalFacts) {
    const details: Record<string, string> = {};
    if (facts.method !== undefined) details.method = facts.method;
    if (facts.bucket !== undefined) details.bucket = facts.bucket;
    if (facts.key !== undefined) details.key = facts.key;
    super(kind, code, message, { details });
  }
}

const denied = (code: string, message: string, facts: SigningRefusalFacts = {}): RolegateError =>
  new Refusal('PermissionDenied', code, message, facts);
const invalid = (code: string, message: string, facts: SigningRefusalFacts = {}): RolegateError =>
  new Refusal('InvalidInput', code, message, facts);

/** RFC 3986 percent-encoding of one path segment or query part, as SigV4 wants it (`/` encoded too). */
export const rfc3986 = (value: string): string => uriEncode(value, false);

function decodeComponent(component: string, what: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    throw invalid('signing.invalid_uri', `The ${what} of the URI contains an invalid percent-encoding.`);
  }
}

/** The hosts a connection's S3 endpoint answers on, path-style. Virtual-host-style is `<bucket>.` + one of these. */
export function endpointHosts(target: ConnectionTarget): {
  protocol: 'http:' | 'https:';
  hosts: readonly string[];
} {
  return target.endpoint !== undefined ? customEndpoint(target.endpoint) : awsEndpoint(target.region);
}

/** The endpoint path prefix (`''` or `/base`) of a connection whose endpoint URL has a path. */
export function endpointBasePath(target: ConnectionTarget): string {
  return target.endpoint === undefined ? '' : customEndpoint(target.endpoint).basePath;
}

// Memoized: every signing request checks its host against its connection's endpoint.
const customEndpoint = memoized((endpoint: string) => {
  const url = new URL(endpoint);
  return {
    protocol: url.protocol === 'http:' ? ('http:' as const) : ('https:' as const),
    hosts: [url.host.toLowerCase()] as readonly string[],
    basePath: url.pathname.replace(/\/+$/, ''),
  };
});

const awsEndpoint = memoized((region: string) => {
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  const hosts = [`s3.${region}.${suffix}`, `s3.dualstack.${region}.${suffix}`];
  if (region === 'us-east-1') hosts.push('s3.amazonaws.com');
  return { protocol: 'https:' as const, hosts: hosts as readonly string[] };
});

interface ParsedUri {
  readonly protocol: 'http:' | 'https:';
  readonly host: string;
  readonly hostname: string;
  readonly port?: number | undefined;
  readonly bucket: string;
  /** Decoded key, '' for the bucket itself. */
  readonly key: string;
  /** Path after the endpoint base, segments decoded. */
  readonly style: 'path' | 'virtual';
  readonly query: Array<[string, string]>;
}

/**
 * Splits an S3 request URI into bucket, key and query against the connection's endpoint.
 *
 * @throws RolegateError `signing.invalid_uri` (not an absolute http(s) URI, credentials or a fragment in it, bad
 *   percent-encoding, repeated or presigning query parameters), `signing.host_mismatch` (another scheme, host or
 *   port than the connection's endpoint).
 */
export function parseS3Uri(uri: string, target: ConnectionTarget): ParsedUri {
  if (uri.length > MAX_URI_CHARS) throw invalid('signing.invalid_uri', `The URI is longer than ${MAX_URI_CHARS}.`);
  const parts = URI_PARTS.exec(uri);
  if (parts === null) throw invalid('signing.invalid_uri', 'The URI must be an absolute http(s) URI.');
  const [, , authority = '', rawPath = '', rawQuery, fragment] = parts;
  if (fragment !== undefined) throw invalid('signing.invalid_uri', 'The URI must not have a fragment.');
  if (authority.includes('@')) throw invalid('signing.invalid_uri', 'The URI must not carry credentials.');
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw invalid('signing.invalid_uri', 'The URI must be an absolute http(s) URI.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid('signing.invalid_uri', 'The URI must be an absolute http(s) URI.');
  }
  const host = url.host.toLowerCase();
  const endpoint = endpointHosts(target);
  const mismatch = () =>
    denied(
      'signing.host_mismatch',
      `The request is for ${url.protocol}//${host}, which is not the S3 endpoint of this connection.`,
    );
  if (url.protocol !== endpoint.protocol) throw mismatch();

  const base = endpointBasePath(target);
  if (base !== '' && rawPath !== base && !rawPath.startsWith(`${base}/`)) throw mismatch();
  const path = rawPath.slice(base.length);
  const segments = path.split('/').map((s) => decodeComponent(s, 'path'));
  if (segments[0] !== '') throw invalid('signing.invalid_uri', 'The URI path must be absolute.');
  segments.shift();

  let style: 'path' | 'virtual';
  let bucket: string;
  let keySegments: string[];
  if (endpoint.hosts.includes(host)) {
    style = 'path';
    bucket = segments[0] ?? '';
    keySegments = segments.slice(1);
  } else {
    const suffix = endpoint.hosts.find((h) => host.endsWith(`.${h}`));
    if (suffix === undefined) throw mismatch();
    style = 'virtual';
    bucket = host.slice(0, -(suffix.length + 1));
    keySegments = segments;
  }
  const key = keySegments.join('/');
  const query: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const piece of (rawQuery ?? '').split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const name = decodeComponent(eq < 0 ? piece : piece.slice(0, eq), 'query');
    const value = eq < 0 ? '' : decodeComponent(piece.slice(eq + 1), 'query');
    if (seen.has(name)) throw invalid('signing.invalid_uri', `The query parameter ${JSON.stringify(name)} repeats.`);
    const lower = name.toLowerCase();
    if (lower.startsWith('x-amz-') || name === 'AWSAccessKeyId' || name === 'Signature') {
      throw invalid('signing.invalid_uri', 'The URI already carries signing parameters.');
    }
    seen.add(name);
    query.push([name, value]);
  }
  return {
    protocol: url.protocol,
    host,
    hostname: url.hostname.toLowerCase(),
    port: url.port === '' ? undefined : Number(url.port),
    bucket,
    key,
    style,
    query,
  };
}

/** Which operation a method, key and query name, or a refusal. */
function operationOf(method: SignableMethod, hasKey: boolean, names: ReadonlySet<string>): S3Operation | undefined {
  const has = (n: string) => names.has(n);
  const only = (allowed: ReadonlySet<string>) => [...names].every((n) => allowed.has(n));
  const set = (...n: string[]) => new Set(n);
  if (hasKey) {
    switch (method) {
      case 'GET':
        if (has('uploadId')) return only(set('uploadId', 'max-parts', 'part-number-marker')) ? 'ListParts' : undefined;
        return only(OBJECT_READ_PARAMS) ? 'GetObject' : undefined;
      case 'HEAD':
        return only(OBJECT_READ_PARAMS) ? 'HeadObject' : undefined;
      case 'PUT':
        if (names.size === 0) return 'PutObject';
        return names.size === 2 && has('partNumber') && has('uploadId') ? 'UploadPart' : undefined;
      case 'POST':
        if (names.size === 1 && has('uploads')) return 'CreateMultipartUpload';
        if (names.size === 1 && has('uploadId')) return 'CompleteMultipartUpload';
        return undefined;
      case 'DELETE':
        if (names.size === 1 && has('uploadId')) return 'AbortMultipartUpload';
        return only(set('versionId')) ? 'DeleteObject' : undefined;
    }
  }
  if (method === 'HEAD') return names.size === 0 ? 'HeadBucket' : undefined;
  if (method === 'POST') return names.size === 1 && has('delete') ? 'DeleteObjects' : undefined;
  if (method !== 'GET') return undefined;
  if (names.size === 1 && has('location')) return 'GetBucketLocation';
  if (has('versions')) return only(LIST_VERSIONS_PARAMS) ? 'ListObjectVersions' : undefined;
  if (has('uploads')) return only(LIST_UPLOADS_PARAMS) ? 'ListMultipartUploads' : undefined;
  if (!only(LIST_PARAMS)) return undefined;
  return has('list-type') ? 'ListObjectsV2' : 'ListObjects';
}

const LISTINGS: ReadonlySet<S3Operation> = new Set([
  'ListObjects',
  'ListObjectsV2',
  'ListObjectVersions',
  'ListMultipartUploads',
]);

/** Reads whose signature may be reused for the same URI: they return (part of) one object, and change nothing. */
const REUSABLE_OPERATIONS: ReadonlySet<S3Operation> = new Set(['GetObject', 'HeadObject']);

/** The keys a DeleteObjects body names, as given (full keys in the bucket). */
function deleteObjectsKeys(body: string | undefined, facts: SigningRefusalFacts): string[] {
  const bad = (why: string) => invalid('signing.invalid_body', `The DeleteObjects body ${why}.`, facts);
  if (body === undefined || body === '')
    throw bad('is missing: it names the objects, which are checked before signing');
  // A string's length in UTF-16 units never exceeds its UTF-8 size, so this refuses no body S3 would accept.
  if (body.length > MAX_DELETE_BODY_BYTES) throw bad('is too large');
  try {
    return parseDeleteRequest(body).objects.map((o) => o.key);
  } catch {
    throw bad(
      `is not a valid Delete document (well-formed XML naming 1–${MAX_DELETE_OBJECTS} objects, each with a Key)`,
    );
  }
}

/** The longest prefix every key starts with (code units; a cut surrogate pair is dropped). */
function commonPrefix(keys: readonly string[]): string {
  let prefix = keys[0] ?? '';
  for (const key of keys) {
    let n = 0;
    while (n < prefix.length && n < key.length && prefix.charCodeAt(n) === key.charCodeAt(n)) n++;
    prefix = prefix.slice(0, n);
  }
  return /[\uD800-\uDBFF]$/.test(prefix) ? prefix.slice(0, -1) : prefix;
}

/** How a signing decision is taken beyond the request and the scope. */
export interface SigningOptions {
  /** Object reads get a reusable signature (see {@link SigningPlan.reusable}); off: every read is signed alone. */
  readonly reusableReads: boolean;
}

/**
 * The headers a reusable read signs: `host` and the `x-amz-*` ones (S3 requires those signed, and they name what is
 * read, e.g. SSE-C keys or the checksum mode). The rest (`range`, `if-*`, `accept-*`) only narrow the same read.
 */
function reusableReadHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name === 'host' || name.startsWith('x-amz-')));
}

/** The headers to sign, lower-case, and which of them rolegate added. */
function signableHeaders(
  given: SigningRequest['headers'],
  host: string,
  facts: SigningRefusalFacts,
): { headers: Record<string, string>; added: string[] } {
  const headers: Record<string, string> = {};
  for (const [rawName, values] of Object.entries(given)) {
    if (!HEADER_NAME.test(rawName))
      throw invalid('signing.invalid_header', 'A header name is not a valid token.', facts);
    const name = rawName.toLowerCase();
    if (DROPPED_HEADERS.has(name) || name.startsWith('proxy-') || name.startsWith('sec-')) continue;
    if (REFUSED_HEADER.test(name)) {
      throw denied('signing.operation_not_allowed', `Requests with the header ${name} are not signed.`, facts);
    }
    if (values.some((v) => HEADER_VALUE_BAD.test(v))) {
      throw invalid('signing.invalid_header', `The header ${name} contains a control character.`, facts);
    }
    const value = values.join(',');
    const prev = headers[name];
    headers[name] = prev === undefined ? value : `${prev},${value}`;
  }
  if (headers.host !== undefined && headers.host.toLowerCase() !== host) {
    throw denied('signing.host_mismatch', 'The Host header names another host than the URI.', facts);
  }
  headers.host = host;
  const added: string[] = [];
  const payload = headers['x-amz-content-sha256'];
  if (payload === undefined) {
    headers['x-amz-content-sha256'] = UNSIGNED_PAYLOAD;
    added.push('x-amz-content-sha256');
  } else if (payload !== UNSIGNED_PAYLOAD && !PAYLOAD_HASH.test(payload)) {
    // Streaming (aws-chunked) payloads sign every chunk with the secret key, which never leaves rolegate.
    throw invalid(
      'signing.unsupported_payload',
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a hex SHA-256 (streaming payloads cannot be signed remotely).',
      facts,
    );
  }
  return { headers, added };
}

/**
 * Signs a request's body along with it: its SHA-256 becomes the signed `x-amz-content-sha256`, which S3 checks
 * against the body it receives. For DeleteObjects, whose keys were checked in the body, so that a client cannot
 * send other keys under the same signature. A client that sent a payload hash must have sent this one. Iceberg Java
 * sends none (its AWS SDK adds the hash while signing, the step its signer client hands to rolegate) and keeps the
 * one rolegate adds.
 */
function bindPayload(
  checked: { headers: Record<string, string>; added: string[] },
  body: string,
  facts: SigningRefusalFacts,
) {
  const hash = sha256Hex(body);
  const given = checked.headers['x-amz-content-sha256'];
  if (checked.added.includes('x-amz-content-sha256')) {
    checked.headers['x-amz-content-sha256'] = hash;
  } else if (given !== hash) {
    throw invalid(
      'signing.payload_mismatch',
      given === UNSIGNED_PAYLOAD
        ? 'A DeleteObjects request is signed with its body: send no x-amz-content-sha256 (rolegate adds it) or the SHA-256 of the body, not UNSIGNED-PAYLOAD.'
        : 'x-amz-content-sha256 is not the SHA-256 of the DeleteObjects body.',
      facts,
    );
  }
}

/**
 * Decides whether the described request may be signed for `scope` on the connection `target`, and returns its
 * canonical plan. Checks, in order: the URI and host (`signing.invalid_uri`, `signing.host_mismatch`), the method
 * (`signing.method_not_allowed` for methods outside the protocol), the bucket and key or listing prefix
 * (`signing.outside_scope`, `key.invalid`), read-only scopes (`signing.method_not_allowed`), the operation
 * (`signing.operation_not_allowed`), the headers (`signing.invalid_header`, `signing.unsupported_payload`), a
 * DeleteObjects body's hash (`signing.payload_mismatch`) and the region (`signing.region_mismatch`).
 *
 * @throws RolegateError with one of the codes above; its details name the method, bucket and key (never a header
 *   value or the query).
 */
export function planSigning(
  request: SigningRequest,
  target: ConnectionTarget,
  scope: Scope,
  options: SigningOptions = { reusableReads: false },
): SigningPlan {
  const parsed = parseS3Uri(request.uri, target);
  const method = request.method.toUpperCase();
  const facts: { method: string; bucket: string; key?: string } = { method, bucket: parsed.bucket };
  if (!(SIGNABLE_METHODS as readonly string[]).includes(method)) {
    throw denied('signing.method_not_allowed', `The method ${method} is not signed.`, facts);
  }
  const signable = method as SignableMethod;
  if (parsed.bucket !== scope.bucket) {
    throw denied(
      'signing.outside_scope',
      `The bucket ${JSON.stringify(parsed.bucket)} is not the bucket of this connection.`,
      facts,
    );
  }

  const names = new Set(parsed.query.map(([n]) => n));
  const hasKey = parsed.key !== '';
  let key: string | undefined;
  if (hasKey) {
    key = parsed.key.normalize('NFC');
    facts.key = key;
    if (!isKeyInScope(scope, key)) {
      throw denied(
        'signing.outside_scope',
        `The key ${JSON.stringify(key)} lies outside this connection's scope.`,
        facts,
      );
    }
    // The same key checks as every other path into S3 (traversal, encodings, control characters, length).
    resolveObjectKey(scope, relativeKey(scope, key));
  }

  const write = !READ_METHODS.has(signable);
  if (write && scope.access !== 'read-write') {
    throw denied('signing.method_not_allowed', `This connection is read-only for you: ${method} is not signed.`, facts);
  }
  const operation = operationOf(signable, hasKey, names);
  if (operation === undefined) {
    throw denied(
      'signing.operation_not_allowed',
      `This ${method} request is not an S3 operation rolegate signs (object reads and writes, multipart uploads, listings).`,
      facts,
    );
  }
  if (LISTINGS.has(operation)) {
    const prefix = (parsed.query.find(([n]) => n === 'prefix')?.[1] ?? '').normalize('NFC');
    key = prefix;
    facts.key = prefix;
    if (!isKeyInScope(scope, prefix)) {
      throw denied(
        'signing.outside_scope',
        `The listing prefix ${JSON.stringify(prefix)} lies outside this connection's scope.`,
        facts,
      );
    }
    resolveListPrefix(scope, relativeKey(scope, prefix));
  }
  let objects: number | undefined;
  if (operation === 'DeleteObjects') {
    // Every key the body names must lie in the scope, as for a single DeleteObject. Checked as sent, not in NFC:
    // the body goes to S3 unchanged (only a URI is rewritten into its canonical form), so S3 deletes these bytes.
    const keys = deleteObjectsKeys(request.body, facts);
    for (const k of keys) {
      if (!isKeyInScope(scope, k)) {
        throw denied('signing.outside_scope', `The key ${JSON.stringify(k)} lies outside this connection's scope.`, {
          ...facts,
          key: k,
        });
      }
      resolveObjectKey(scope, relativeKey(scope, k));
    }
    key = commonPrefix(keys);
    facts.key = key;
    objects = keys.length;
  }

  const checked = signableHeaders(request.headers, parsed.host, facts);
  if (operation === 'DeleteObjects') bindPayload(checked, request.body ?? '', facts);
  const reusable = options.reusableReads && REUSABLE_OPERATIONS.has(operation);
  const headers = reusable ? reusableReadHeaders(checked.headers) : checked.headers;
  const { added } = checked;
  if (request.region !== undefined && !REGION.test(request.region)) {
    throw invalid('signing.region_mismatch', 'The region is not a valid region name.', facts);
  }
  if (request.region !== undefined && !target.useBucketRegion && request.region !== target.region) {
    throw invalid(
      'signing.region_mismatch',
      `The request is for region ${request.region}; this connection's bucket is in ${target.region}.`,
      facts,
    );
  }

  // What is signed is what was checked: the NFC key and prefix, each path segment encoded once.
  const query = parsed.query.map(([n, v]): [string, string] => [n, n === 'prefix' ? v.normalize('NFC') : v]);
  const keyPart = hasKey ? (key ?? '').split('/').map(rfc3986).join('/') : '';
  const base = endpointBasePath(target);
  const path =
    parsed.style === 'path' ? `${base}/${rfc3986(parsed.bucket)}${hasKey ? `/${keyPart}` : ''}` : `${base}/${keyPart}`;
  const queryString = query.map(([n, v]) => (v === '' ? rfc3986(n) : `${rfc3986(n)}=${rfc3986(v)}`)).join('&');
  return {
    method: signable,
    operation,
    write,
    protocol: parsed.protocol,
    host: parsed.host,
    hostname: parsed.hostname,
    port: parsed.port,
    path,
    query,
    uri: `${parsed.protocol}//${parsed.host}${path}${queryString === '' ? '' : `?${queryString}`}`,
    headers,
    added,
    reusable,
    bucket: parsed.bucket,
    key,
    objects,
  };
}

/** The presign methods and expiry bounds. */
export const PRESIGN_METHODS = ['GET', 'PUT'] as const;
export type PresignMethod = (typeof PRESIGN_METHODS)[number];
export const MIN_PRESIGN_SECONDS = 1;
export const MAX_PRESIGN_SECONDS = 3600;
export const DEFAULT_PRESIGN_SECONDS = 300;

/**
 * How long a presigned URL may live: the asked expiry (1–3600 s) cut to the role session's remaining life, so a URL
 * never outlives the credentials it was signed with.
 *
 * @throws RolegateError `signing.invalid_expiry` outside 1–3600; `signing.session_expiring` when the session has
 *   less than a second left.
 */
export function presignExpiry(askedSeconds: number, nowMs: number, sessionExpiration: Date | undefined): number {
  if (!Number.isInteger(askedSeconds) || askedSeconds < MIN_PRESIGN_SECONDS || askedSeconds > MAX_PRESIGN_SECONDS) {
    throw invalidInput(
      'signing.invalid_expiry',
      `expiresSeconds must be a whole number from ${MIN_PRESIGN_SECONDS} to ${MAX_PRESIGN_SECONDS}`,
    );
  }
  if (sessionExpiration === undefined) return askedSeconds;
  const left = Math.floor((sessionExpiration.getTime() - nowMs) / 1000);
  if (left < MIN_PRESIGN_SECONDS) {
    throw permissionDenied('signing.session_expiring', 'The role session expires too soon to presign a URL.');
  }
  return Math.min(askedSeconds, left);
}
