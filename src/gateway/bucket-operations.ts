/** The bucket-level S3 operations: a connection is a bucket; everything runs through the services. */
import { invalidInput } from '../errors/errors.js';
import { s3ErrorOf } from '../errors/s3-error-code.js';
import { uriEncode } from '../lib/sigv4.js';
import { el, MAX_DELETE_BODY_BYTES, optional, parseDeleteRequest, type XmlChild } from '../lib/xml.js';
import type { ConnectionsService } from '../modules/connections/connections.service.js';
import type { MultipartService } from '../modules/data/multipart.service.js';
import type { ObjectListing, ObjectsService } from '../modules/data/objects.service.js';
import type { MountsService } from '../modules/federation/mounts.service.js';
import { type Exchange, sendEmpty, sendXml, smallBody } from './exchange.js';

export interface GatewayServices {
  readonly objects: ObjectsService;
  readonly multipart: MultipartService;
  readonly connections: Pick<ConnectionsService, 'listUsable'>;
  /** The mounts behind the read-only `mnt` bucket (src/gateway/mount-operations.ts). */
  readonly mounts: GatewayMounts;
}

export type GatewayMounts = Pick<MountsService, 'visibleTo' | 'open'>;

/** The bucket the mounts a user can see appear under; it shadows a connection of that name in the gateway. */
export const MOUNT_BUCKET = 'mnt';

const bucketOf = (x: Exchange): string => x.target.bucket as string;

export function maxKeysOf(x: Exchange, name: string): number | undefined {
  const raw = x.query.get(name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,9}$/.test(raw)) throw invalidInput('gateway.invalid_argument', `${name} must be a non-negative integer`);
  return Number(raw);
}

/** `encoding-type=url`: keys and prefixes are URL-encoded in the answer (how clients survive odd characters). */
export function encoderOf(x: Exchange): (value: string | undefined) => string | undefined {
  const encodingType = x.query.get('encoding-type');
  if (encodingType !== undefined && encodingType !== 'url') {
    throw invalidInput('gateway.invalid_argument', 'encoding-type must be url');
  }
  return encodingType === 'url' ? (v) => (v === undefined ? undefined : uriEncode(v, true)) : (v) => v;
}

const owner = (x: Exchange) => el('Owner', [el('ID', x.principal.username), el('DisplayName', x.principal.username)]);

function contentsOf(
  x: Exchange,
  listing: ObjectListing,
  enc: (v: string | undefined) => string | undefined,
  withOwner: boolean,
) {
  return [
    ...listing.objects.map((o) =>
      el('Contents', [
        el('Key', enc(o.key)),
        optional('LastModified', o.lastModified?.toISOString()),
        optional('ETag', o.etag),
        el('Size', o.size),
        el('StorageClass', o.storageClass ?? 'STANDARD'),
        withOwner ? owner(x) : undefined,
      ]),
    ),
    ...listing.commonPrefixes.map((p) => el('CommonPrefixes', [el('Prefix', enc(p))])),
  ];
}

export async function listBuckets(x: Exchange, s: GatewayServices): Promise<void> {
  const [usable, mounts] = await Promise.all([s.connections.listUsable(x.principal), s.mounts.visibleTo(x.principal)]);
  // `mnt` is listed when the user can see a mount; a connection of that name is shadowed by it.
  const buckets = usable
    .filter((c) => c.name !== MOUNT_BUCKET)
    .map((c) => ({ name: c.name, createdAt: new Date(c.createdAt).toISOString() }));
  if (mounts.length > 0) {
    const first = mounts.reduce((a, m) => (m.createdAt < a ? m.createdAt : a), mounts[0]?.createdAt ?? '');
    buckets.push({ name: MOUNT_BUCKET, createdAt: new Date(first).toISOString() });
    buckets.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  sendXml(
    x,
    200,
    el('ListAllMyBucketsResult', [
      owner(x),
      el(
        'Buckets',
        buckets.map((b) => el('Bucket', [el('Name', b.name), el('CreationDate', b.createdAt)])),
      ),
    ]),
  );
}

export async function headBucket(x: Exchange, s: GatewayServices): Promise<void> {
  await s.objects.headBucket(x.principal, bucketOf(x));
  sendEmpty(x, 200, { 'x-amz-bucket-region': x.region });
}

/** Buckets are connections, made by admins: asking to create a usable one answers as S3 does for one's own. */
export async function createBucket(x: Exchange, s: GatewayServices): Promise<void> {
  await s.objects.headBucket(x.principal, bucketOf(x));
  throw invalidInput(
    'gateway.bucket_exists',
    'Your previous request to create the named bucket succeeded and you already own it.',
  );
}

export async function getBucketLocation(x: Exchange, s: GatewayServices): Promise<void> {
  await s.objects.headBucket(x.principal, bucketOf(x));
  // us-east-1 is spelt as an empty constraint, for historical reasons.
  sendXml(x, 200, el('LocationConstraint', x.region === 'us-east-1' ? '' : x.region));
}

export async function getBucketVersioning(x: Exchange, s: GatewayServices): Promise<void> {
  await s.objects.headBucket(x.principal, bucketOf(x));
  sendXml(x, 200, el('VersioningConfiguration', []));
}

export async function listObjectsV2(x: Exchange, s: GatewayServices): Promise<void> {
  const enc = encoderOf(x);
  const q = x.query;
  const maxKeys = maxKeysOf(x, 'max-keys') ?? 1000;
  const listing = await s.objects.listV2(x.principal, bucketOf(x), {
    prefix: q.get('prefix'),
    delimiter: q.get('delimiter'),
    maxKeys,
    continuationToken: q.get('continuation-token'),
    startAfter: q.get('start-after'),
  });
  const children: XmlChild[] = [
    el('Name', bucketOf(x)),
    el('Prefix', enc(q.get('prefix') ?? '')),
    optional('StartAfter', enc(q.get('start-after'))),
    optional('ContinuationToken', q.get('continuation-token')),
    optional('NextContinuationToken', listing.nextContinuationToken),
    el('KeyCount', listing.objects.length + listing.commonPrefixes.length),
    el('MaxKeys', Math.min(maxKeys, 1000)),
    optional('Delimiter', enc(q.get('delimiter'))),
    optional('EncodingType', q.get('encoding-type')),
    el('IsTruncated', listing.isTruncated),
    ...contentsOf(x, listing, enc, q.get('fetch-owner') === 'true'),
  ];
  sendXml(x, 200, el('ListBucketResult', children));
}

export async function listObjects(x: Exchange, s: GatewayServices): Promise<void> {
  const enc = encoderOf(x);
  const q = x.query;
  const maxKeys = maxKeysOf(x, 'max-keys') ?? 1000;
  const listing = await s.objects.listV1(x.principal, bucketOf(x), {
    prefix: q.get('prefix'),
    delimiter: q.get('delimiter'),
    maxKeys,
    marker: q.get('marker'),
  });
  sendXml(
    x,
    200,
    el('ListBucketResult', [
      el('Name', bucketOf(x)),
      el('Prefix', enc(q.get('prefix') ?? '')),
      el('Marker', enc(q.get('marker') ?? '')),
      optional('NextMarker', enc(listing.nextMarker)),
      el('MaxKeys', Math.min(maxKeys, 1000)),
      optional('Delimiter', enc(q.get('delimiter'))),
      optional('EncodingType', q.get('encoding-type')),
      el('IsTruncated', listing.isTruncated),
      ...contentsOf(x, listing, enc, true),
    ]),
  );
}

export async function listMultipartUploads(x: Exchange, s: GatewayServices): Promise<void> {
  const enc = encoderOf(x);
  const q = x.query;
  const maxUploads = maxKeysOf(x, 'max-uploads') ?? 1000;
  const listing = await s.multipart.listUploads(x.principal, bucketOf(x), {
    prefix: q.get('prefix'),
    delimiter: q.get('delimiter'),
    keyMarker: q.get('key-marker'),
    uploadIdMarker: q.get('upload-id-marker'),
    maxUploads,
  });
  sendXml(
    x,
    200,
    el('ListMultipartUploadsResult', [
      el('Bucket', bucketOf(x)),
      el('KeyMarker', enc(q.get('key-marker') ?? '')),
      el('UploadIdMarker', q.get('upload-id-marker') ?? ''),
      optional('NextKeyMarker', enc(listing.nextKeyMarker)),
      optional('NextUploadIdMarker', listing.nextUploadIdMarker),
      el('Prefix', enc(q.get('prefix') ?? '')),
      optional('Delimiter', enc(q.get('delimiter'))),
      el('MaxUploads', maxUploads),
      optional('EncodingType', q.get('encoding-type')),
      el('IsTruncated', listing.isTruncated),
      ...listing.uploads.map((u) =>
        el('Upload', [
          el('Key', enc(u.key)),
          el('UploadId', u.uploadId),
          owner(x),
          el('Initiator', [el('ID', x.principal.username), el('DisplayName', x.principal.username)]),
          el('StorageClass', 'STANDARD'),
          optional('Initiated', u.initiated?.toISOString()),
        ]),
      ),
      ...listing.commonPrefixes.map((p) => el('CommonPrefixes', [el('Prefix', enc(p))])),
    ]),
  );
}

export async function deleteObjects(x: Exchange, s: GatewayServices): Promise<void> {
  const request = parseDeleteRequest((await smallBody(x, MAX_DELETE_BODY_BYTES)).toString('utf8'));
  if (request.objects.some((o) => o.versionId !== undefined)) {
    throw invalidInput(
      'gateway.not_implemented',
      'Deleting object versions is not implemented by the rolegate S3 gateway',
    );
  }
  const keys = request.objects.map((o) => o.key);
  const quiet = request.quiet;
  const result = await s.objects.deleteMany(x.principal, bucketOf(x), keys);
  sendXml(
    x,
    200,
    el('DeleteResult', [
      ...(quiet ? [] : result.deleted.map((key) => el('Deleted', [el('Key', key)]))),
      ...result.errors.map(({ key, error }) =>
        el('Error', [el('Key', key), el('Code', s3ErrorOf(error).code), el('Message', error.message)]),
      ),
    ]),
  );
}
