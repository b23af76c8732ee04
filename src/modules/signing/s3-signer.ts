/**
 * SigV4 for S3 with a user's role session: header signing of a checked {@link SigningPlan}, and presigned URLs.
 * The maths is @smithy/signature-v4's; this file only feeds it the canonical parts the domain decided on, so that
 * what is signed is exactly what was checked. Secrets stay in here: callers get headers and URLs, never keys.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentials } from '../../domain/model.js';
import { rfc3986, type SigningPlan, UNSIGNED_PAYLOAD } from '../../domain/signing.js';

type Bytes = string | ArrayBuffer | ArrayBufferView;

function toBuffer(data: Bytes): Buffer | string {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** node:crypto behind the hash interface @smithy/signature-v4 expects (SHA-256, or HMAC-SHA-256 with a key). */
class NodeSha256 {
  #hash: Hash | Hmac;
  constructor(secret?: Bytes) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: Bytes): void {
    this.#hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
  reset(): void {}
}

/**
 * One signer per role session credentials and region: the signer caches its derived signing keys, so a busy
 * session does not re-derive them per request. Weakly held: a session's signers go with its credentials.
 */
const signers = new WeakMap<AwsCredentials, Map<string, SignatureV4>>();

function signerFor(credentials: AwsCredentials, region: string): SignatureV4 {
  let byRegion = signers.get(credentials);
  if (byRegion === undefined) {
    byRegion = new Map();
    signers.set(credentials, byRegion);
  }
  let signer = byRegion.get(region);
  if (signer === undefined) {
    signer = newSigner(credentials, region);
    byRegion.set(region, signer);
  }
  return signer;
}

function newSigner(credentials: AwsCredentials, region: string): SignatureV4 {
  return new SignatureV4({
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    },
    region,
    service: 's3',
    sha256: NodeSha256,
    // S3 signs the path as sent (already encoded once), and the payload hash is the header's.
    uriEscapePath: false,
    applyChecksum: false,
  });
}

function queryOf(plan: SigningPlan): Record<string, string> {
  return Object.fromEntries(plan.query);
}

/** What the client adds to its request: the signature and the headers rolegate set (lower-case names). */
export type SignedHeaders = Record<string, string>;

/**
 * Signs the planned request with the role session, the session token included (as `x-amz-security-token`, which
 * is signed too). Returns only the headers the client must add: `authorization`, `x-amz-date`,
 * `x-amz-security-token` and any the plan added (the payload hash when the client sent none).
 */
export async function signPlannedRequest(
  plan: SigningPlan,
  credentials: AwsCredentials,
  region: string,
  at: Date,
): Promise<SignedHeaders> {
  const signed = await signerFor(credentials, region).sign(
    {
      method: plan.method,
      protocol: plan.protocol,
      hostname: plan.hostname,
      port: plan.port,
      path: plan.path,
      query: queryOf(plan),
      headers: { ...plan.headers },
    },
    { signingDate: at },
  );
  const out: SignedHeaders = {};
  for (const name of ['authorization', 'x-amz-date', 'x-amz-security-token', ...plan.added]) {
    const value = signed.headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** A presigned URL for the planned request (host the only signed header, payload unsigned), valid `expiresIn` s. */
export async function presignPlannedRequest(
  plan: SigningPlan,
  credentials: AwsCredentials,
  region: string,
  at: Date,
  expiresIn: number,
): Promise<string> {
  const presigned = await signerFor(credentials, region).presign(
    {
      method: plan.method,
      protocol: plan.protocol,
      hostname: plan.hostname,
      port: plan.port,
      path: plan.path,
      query: queryOf(plan),
      // The payload hash of a presigned S3 URL is UNSIGNED-PAYLOAD; it is neither hoisted into the URL nor signed.
      headers: { host: plan.host, 'x-amz-content-sha256': UNSIGNED_PAYLOAD },
    },
    {
      signingDate: at,
      expiresIn,
      unhoistableHeaders: new Set(['x-amz-content-sha256']),
      unsignableHeaders: new Set(['x-amz-content-sha256']),
    },
  );
  const query = Object.entries(presigned.query ?? {})
    .flatMap(([name, value]) => (Array.isArray(value) ? value.map((v) => [name, v]) : [[name, value ?? '']]))
    .map(([name = '', value = '']) => `${rfc3986(name)}=${rfc3986(value)}`)
    .join('&');
  return `${plan.protocol}//${plan.host}${plan.path}?${query}`;
}
