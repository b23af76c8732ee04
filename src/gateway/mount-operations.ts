/**
 * The gateway's `mnt` bucket: the mounts the gateway key's user can see, read-only. Its top-level "folders" are
 * the mounts (`mnt/sales/`, `mnt/hr/`…); a key `<mount path>/<key>` reads `<mount prefix><key>` on the mount's
 * connection. Gateway keys carry no rolegate session, so a mount bound to a role is read with that role directly
 * — the mount is visible (and resolvable) only when the user is entitled to the role — and one client reads
 * mounts needing different roles side by side. Resolution and visibility are the mounts service's (audited as
 * `mount.resolve`); every S3 call goes through the objects service with the mount's principal.
 */
import type { Principal } from '../domain/model.js';
import { invalidInput, notFound, permissionDenied } from '../errors/errors.js';
import { el, optional, type XmlChild } from '../lib/xml.js';
import type { ObjectListing } from '../modules/data/objects.service.js';
import type { MountRecord } from '../modules/federation/federation.store.js';
import { encoderOf, type GatewayMounts, type GatewayServices, MOUNT_BUCKET, maxKeysOf } from './bucket-operations.js';
import { OBJECT_READ_COALESCING, pumpCoalesced } from './coalesced-pump.js';
import { conditionsOf, type Exchange, objectResponseHeaders, sendEmpty, sendXml } from './exchange.js';
import type { Operation } from './router.js';

type Handler = (x: Exchange, s: GatewayServices) => Promise<void>;

const readOnly = (): never => {
  throw permissionDenied(
    'gateway.mnt_read_only',
    `The "${MOUNT_BUCKET}" bucket is read-only: write through the mount's connection (its own bucket)`,
  );
};
const notImplemented = (what: string): never => {
  throw invalidInput('gateway.not_implemented', `${what} is not implemented on the "${MOUNT_BUCKET}" bucket`);
};

/** The mount whose folder contains `prefix` (longest path first), if any. */
function mountContaining(mounts: readonly MountRecord[], prefix: string): MountRecord | undefined {
  return mounts.filter((m) => prefix.startsWith(`${m.path}/`)).sort((a, b) => b.path.length - a.path.length)[0];
}

/** The mounts whose folder lies under `prefix`, without those nested in another of them, by path. */
function mountsUnder(mounts: readonly MountRecord[], prefix: string): MountRecord[] {
  const under = mounts.filter((m) => `${m.path}/`.startsWith(prefix));
  return under
    .filter((m) => !under.some((o) => o !== m && m.path.startsWith(`${o.path}/`)))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The next folder below `prefix` of each mount under it (`prefix` + one segment + '/'). */
function foldersUnder(mounts: readonly MountRecord[], prefix: string, exclude?: MountRecord): string[] {
  const folders = new Set<string>();
  for (const m of mounts) {
    const folder = `${m.path}/`;
    if (m === exclude || !folder.startsWith(prefix) || folder === prefix) continue;
    const rest = folder.slice(prefix.length);
    folders.add(prefix + rest.slice(0, rest.indexOf('/') + 1));
  }
  return [...folders].sort();
}

/** A listing of one mount's connection, keys made `mnt` keys again. */
function asMountKeys(mount: MountRecord, listing: ObjectListing): ObjectListing {
  const key = (k: string) => `${mount.path}/${k.slice(mount.prefix.length)}`;
  return {
    ...listing,
    objects: listing.objects.map((o) => ({ ...o, key: key(o.key) })),
    commonPrefixes: listing.commonPrefixes.map(key),
  };
}

/** `start-after` in a mount's terms: undefined when it lies before the mount, null when after all of it. */
function startAfterIn(mount: MountRecord, startAfter: string | undefined): string | undefined | null {
  const folder = `${mount.path}/`;
  if (startAfter === undefined || startAfter === '' || startAfter < folder) return undefined;
  if (startAfter.startsWith(folder)) return `${mount.prefix}${startAfter.slice(folder.length)}`;
  return null;
}

/** Listing across mounts (no delimiter): one mount per page, the token names the mount and its own token. */
interface CrossToken {
  readonly m: string;
  readonly t?: string | undefined;
}
const TOKEN_PREFIX = 'mnt1.';
const encodeToken = (t: CrossToken) => TOKEN_PREFIX + Buffer.from(JSON.stringify(t)).toString('base64url');
function decodeToken(raw: string): CrossToken {
  try {
    if (!raw.startsWith(TOKEN_PREFIX)) throw new Error('foreign');
    const t = JSON.parse(Buffer.from(raw.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8')) as CrossToken;
    if (typeof t.m !== 'string' || (t.t !== undefined && typeof t.t !== 'string')) throw new Error('shape');
    return t;
  } catch {
    throw invalidInput('gateway.invalid_argument', 'The continuation token is not valid');
  }
}

async function listMountsV2(
  x: Exchange,
  s: GatewayServices,
  mounts: GatewayMounts,
  maxKeys: number,
): Promise<ObjectListing> {
  const q = x.query;
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') || undefined;
  const startAfter = q.get('start-after');
  const token = q.get('continuation-token') || undefined;
  const visible = await mounts.visibleTo(x.principal);
  const owner = mountContaining(visible, prefix);

  if (owner !== undefined) {
    // Inside one mount: its connection's own listing, under the mount's role.
    const after = startAfterIn(owner, startAfter);
    if (after === null) return { objects: [], commonPrefixes: [], isTruncated: false };
    const { mount, rest, principal } = await mounts.open(x.principal, prefix);
    const listing = asMountKeys(
      mount,
      await s.objects.listV2(principal, mount.connection, {
        prefix: `${mount.prefix}${rest}`,
        delimiter,
        maxKeys,
        continuationToken: token,
        startAfter: after,
      }),
    );
    if (delimiter !== '/' || token !== undefined) return listing;
    // Mounts nested in this one show as folders too.
    const nested = foldersUnder(visible, prefix, mount).filter((f) => !listing.commonPrefixes.includes(f));
    return { ...listing, commonPrefixes: [...listing.commonPrefixes, ...nested].sort() };
  }

  if (delimiter === '/') {
    // Above the mounts: the folders leading to them.
    const folders = foldersUnder(visible, prefix).filter((f) => startAfter === undefined || f > startAfter);
    return { objects: [], commonPrefixes: folders, isTruncated: false };
  }
  if (delimiter !== undefined) return notImplemented('A delimiter other than "/" above the mounts');

  // Recursively across the mounts under the prefix, one mount per page.
  const under = mountsUnder(visible, prefix);
  const from = token === undefined ? undefined : decodeToken(token);
  let index = from === undefined ? 0 : under.findIndex((m) => m.path === from.m);
  if (index < 0) throw invalidInput('gateway.invalid_argument', 'The continuation token is not valid');
  let after: string | undefined | null = null;
  while (index < under.length) {
    after = startAfterIn(under[index] as MountRecord, startAfter);
    if (after !== null) break;
    index += 1;
  }
  const current = under[index];
  if (current === undefined || after === null) return { objects: [], commonPrefixes: [], isTruncated: false };
  const { mount, principal } = await mounts.open(x.principal, `${current.path}/`);
  const inner = await s.objects.listV2(principal, mount.connection, {
    prefix: mount.prefix,
    maxKeys,
    continuationToken: from?.t,
    startAfter: from?.t === undefined ? after : undefined,
  });
  const next = under[index + 1];
  const nextToken = inner.isTruncated
    ? encodeToken({ m: mount.path, t: inner.nextContinuationToken })
    : next === undefined
      ? undefined
      : encodeToken({ m: next.path });
  return {
    ...asMountKeys(mount, inner),
    isTruncated: nextToken !== undefined,
    nextContinuationToken: nextToken,
  };
}

/** ListObjectsV2 on `mnt`, with or without the `/` delimiter. */
async function listObjectsV2(x: Exchange, s: GatewayServices, mounts: GatewayMounts): Promise<void> {
  const enc = encoderOf(x);
  const q = x.query;
  const maxKeys = maxKeysOf(x, 'max-keys') ?? 1000;
  const listing = await listMountsV2(x, s, mounts, maxKeys);
  const owner = el('Owner', [el('ID', x.principal.username), el('DisplayName', x.principal.username)]);
  const children: XmlChild[] = [
    el('Name', MOUNT_BUCKET),
    el('Prefix', enc(q.get('prefix') ?? '')),
    optional('StartAfter', enc(q.get('start-after'))),
    optional('ContinuationToken', q.get('continuation-token')),
    optional('NextContinuationToken', listing.nextContinuationToken),
    el('KeyCount', listing.objects.length + listing.commonPrefixes.length),
    el('MaxKeys', Math.min(maxKeys, 1000)),
    optional('Delimiter', enc(q.get('delimiter'))),
    optional('EncodingType', q.get('encoding-type')),
    el('IsTruncated', listing.isTruncated),
    ...listing.objects.map((o) =>
      el('Contents', [
        el('Key', enc(o.key)),
        optional('LastModified', o.lastModified?.toISOString()),
        optional('ETag', o.etag),
        el('Size', o.size),
        el('StorageClass', o.storageClass ?? 'STANDARD'),
        q.get('fetch-owner') === 'true' ? owner : undefined,
      ]),
    ),
    ...listing.commonPrefixes.map((p) => el('CommonPrefixes', [el('Prefix', enc(p))])),
  ];
  sendXml(x, 200, el('ListBucketResult', children));
}

/** The mount, its principal and the connection-relative key an object key of `mnt` reads. */
async function objectOf(
  x: Exchange,
  mounts: GatewayMounts,
): Promise<{ principal: Principal; connection: string; key: string }> {
  const { mount, rest, principal } = await mounts.open(x.principal, x.target.key as string);
  if (rest === '' || rest.endsWith('/')) throw notFound('object.not_found', 'The specified key does not exist.');
  return { principal, connection: mount.connection, key: `${mount.prefix}${rest}` };
}

async function headObject(x: Exchange, s: GatewayServices, mounts: GatewayMounts): Promise<void> {
  const o = await objectOf(x, mounts);
  const out = await s.objects.head(o.principal, o.connection, o.key, conditionsOf(x.headers));
  if (out.status === 304) return sendEmpty(x, 304);
  x.res.writeHead(200, { ...objectResponseHeaders(out.meta, x.query), 'content-length': out.meta.size });
  x.res.end();
}

async function getObject(x: Exchange, s: GatewayServices, mounts: GatewayMounts): Promise<void> {
  const o = await objectOf(x, mounts);
  const out = await s.objects.get(o.principal, o.connection, o.key, {
    range: x.headers.get('range'),
    conditions: conditionsOf(x.headers),
  });
  if (out.status === 304) return sendEmpty(x, 304);
  const headers: Record<string, string | number> = {
    ...objectResponseHeaders(out.meta, x.query),
    'content-length': out.meta.size,
  };
  if (out.contentRange !== undefined) headers['content-range'] = out.contentRange;
  x.res.writeHead(out.status, headers);
  await pumpCoalesced(out.body, x.res, OBJECT_READ_COALESCING).catch(() => undefined);
}

/** The handler of an operation on the `mnt` bucket: reads as above, writes AccessDenied, the rest NotImplemented. */
export function mountHandler(operation: Operation): Handler {
  switch (operation) {
    case 'HeadBucket':
      return async (x) => sendEmpty(x, 200, { 'x-amz-bucket-region': x.region });
    case 'GetBucketLocation':
      return async (x) => sendXml(x, 200, el('LocationConstraint', x.region === 'us-east-1' ? '' : x.region));
    case 'GetBucketVersioning':
      return async (x) => sendXml(x, 200, el('VersioningConfiguration', []));
    case 'ListObjectsV2':
      return (x, s) => listObjectsV2(x, s, s.mounts);
    case 'HeadObject':
      return (x, s) => headObject(x, s, s.mounts);
    case 'GetObject':
      return (x, s) => getObject(x, s, s.mounts);
    case 'CreateBucket':
    case 'PutObject':
    case 'CopyObject':
    case 'DeleteObject':
    case 'DeleteObjects':
    case 'CreateMultipartUpload':
    case 'UploadPart':
    case 'CompleteMultipartUpload':
    case 'AbortMultipartUpload':
      return async () => readOnly();
    case 'ListBuckets':
    case 'ListObjects':
    case 'ListMultipartUploads':
    case 'ListParts':
      return async () =>
        notImplemented(operation === 'ListObjects' ? 'ListObjects (v1): use ListObjectsV2' : operation);
  }
}
