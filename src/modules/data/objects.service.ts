/**
 * S3-shaped object operations for the S3 gateway: listings v1/v2, conditional reads, streamed single-request
 * writes, copies inside a connection and batch deletes. Like the data service, each call obtains the user's
 * role session for the connection and maps relative keys into its scope (src/domain/scope.ts) before any S3 call.
 */
import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { awsErrorFacts } from '../../cloud/aws/aws-error.js';
import { mapS3Error } from '../../cloud/aws/s3-errors.js';
import type { Principal, Scope } from '../../domain/model.js';
import { isKeyInScope, relativeKey, resolveListPrefix, resolveObjectKey } from '../../domain/scope.js';
import type { RolegateError } from '../../errors/errors.js';
import { type DataSessionDeps, explainDenied, openDataSession } from './data-session.js';

/** Standard headers S3 stores with an object and gives back on reads. */
export interface ObjectHeaders {
  readonly contentType?: string | undefined;
  readonly cacheControl?: string | undefined;
  readonly contentDisposition?: string | undefined;
  readonly contentEncoding?: string | undefined;
  readonly contentLanguage?: string | undefined;
  readonly expires?: Date | undefined;
  /** User metadata (`x-amz-meta-*`), names without the prefix. */
  readonly metadata?: Readonly<Record<string, string>> | undefined;
}

export interface ObjectMeta extends ObjectHeaders {
  readonly size: number;
  readonly etag?: string | undefined;
  readonly lastModified?: Date | undefined;
}

/** If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since, passed to S3 to evaluate. */
export interface Conditions {
  readonly ifMatch?: string | undefined;
  readonly ifNoneMatch?: string | undefined;
  readonly ifModifiedSince?: Date | undefined;
  readonly ifUnmodifiedSince?: Date | undefined;
}

export type ObjectRead =
  | { readonly status: 304; readonly meta: Pick<ObjectMeta, 'etag' | 'lastModified'> }
  | {
      readonly status: 200 | 206;
      readonly meta: ObjectMeta;
      readonly body: Readable;
      readonly contentRange?: string | undefined;
    };

export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly etag?: string | undefined;
  readonly lastModified?: Date | undefined;
  readonly storageClass?: string | undefined;
}

export interface ObjectListing {
  readonly objects: ListedObject[];
  readonly commonPrefixes: string[];
  readonly isTruncated: boolean;
  /** v2 */
  readonly nextContinuationToken?: string | undefined;
  /** v1: the relative key to pass as the next marker. */
  readonly nextMarker?: string | undefined;
}

export interface ListOptions {
  readonly prefix?: string | undefined;
  readonly delimiter?: string | undefined;
  readonly maxKeys?: number | undefined;
}

export type ObjectsService = ReturnType<typeof createObjectsService>;

const MAX_KEYS = 1000;
const DELETE_CONCURRENCY = 8;

function headersOf(out: {
  ContentType?: string | undefined;
  CacheControl?: string | undefined;
  ContentDisposition?: string | undefined;
  ContentEncoding?: string | undefined;
  ContentLanguage?: string | undefined;
  Expires?: Date | undefined;
  Metadata?: Record<string, string> | undefined;
}): ObjectHeaders {
  return {
    contentType: out.ContentType,
    cacheControl: out.CacheControl,
    contentDisposition: out.ContentDisposition,
    contentEncoding: out.ContentEncoding,
    contentLanguage: out.ContentLanguage,
    expires: out.Expires,
    metadata: out.Metadata,
  };
}

function headerParams(h: ObjectHeaders) {
  return {
    ContentType: h.contentType,
    CacheControl: h.cacheControl,
    ContentDisposition: h.contentDisposition,
    ContentEncoding: h.contentEncoding,
    ContentLanguage: h.contentLanguage,
    Expires: h.expires,
    Metadata: h.metadata === undefined ? undefined : { ...h.metadata },
  };
}

function conditionParams(c: Conditions | undefined) {
  return {
    IfMatch: c?.ifMatch,
    IfNoneMatch: c?.ifNoneMatch,
    IfModifiedSince: c?.ifModifiedSince,
    IfUnmodifiedSince: c?.ifUnmodifiedSince,
  };
}

/** The full listing prefix for a relative one ('' is the whole scope). */
function listPrefix(scope: Scope, prefix: string | undefined): string {
  return prefix === undefined || prefix === '' ? scope.prefix : resolveListPrefix(scope, prefix);
}

function clampMaxKeys(maxKeys: number | undefined): number {
  return Math.min(Math.max(maxKeys ?? MAX_KEYS, 0), MAX_KEYS);
}

interface RawListing {
  Contents?: Array<{
    Key?: string | undefined;
    Size?: number | undefined;
    ETag?: string | undefined;
    LastModified?: Date | undefined;
    StorageClass?: string | undefined;
  }>;
  CommonPrefixes?: Array<{ Prefix?: string | undefined }>;
  IsTruncated?: boolean | undefined;
}

/** Keeps what lies inside the scope (S3 never returns more under a scoped prefix; this is a second fence). */
function relativeListing(scope: Scope, out: RawListing) {
  const inScope = (k: string | undefined): k is string => k !== undefined && isKeyInScope(scope, k);
  return {
    objects: (out.Contents ?? [])
      .filter((o) => inScope(o.Key))
      .map((o) => ({
        key: relativeKey(scope, o.Key as string),
        size: o.Size ?? 0,
        etag: o.ETag,
        lastModified: o.LastModified,
        storageClass: o.StorageClass,
      })),
    commonPrefixes: (out.CommonPrefixes ?? [])
      .map((p) => p.Prefix)
      .filter(inScope)
      .map((p) => relativeKey(scope, p)),
  };
}

/** Object operations as the S3 protocol has them, each under the user's role session for the connection. */
export function createObjectsService(deps: DataSessionDeps) {
  const open = (actor: Principal, connection: string, intent: 'read' | 'write') =>
    openDataSession(deps, actor, connection, intent);

  return {
    /** Whether the user may use the connection at all (obtains the role session, calls no S3 API). */
    async headBucket(actor: Principal, connection: string): Promise<void> {
      await open(actor, connection, 'read');
    },

    async listV2(
      actor: Principal,
      connection: string,
      options: ListOptions & { continuationToken?: string | undefined; startAfter?: string | undefined },
    ): Promise<ObjectListing> {
      const session = await open(actor, connection, 'read');
      const { client, scope } = session;
      const prefix = listPrefix(scope, options.prefix);
      const startAfter = options.startAfter ? resolveListPrefix(scope, options.startAfter) : undefined;
      try {
        const out = await client.send(
          new ListObjectsV2Command({
            Bucket: scope.bucket,
            Prefix: prefix,
            Delimiter: options.delimiter || undefined,
            MaxKeys: clampMaxKeys(options.maxKeys),
            ContinuationToken: options.continuationToken || undefined,
            StartAfter: startAfter,
          }),
        );
        return {
          ...relativeListing(scope, out),
          isTruncated: out.IsTruncated === true,
          nextContinuationToken: out.IsTruncated ? out.NextContinuationToken : undefined,
        };
      } catch (e) {
        throw mapS3Error(e, { connection });
      }
    },

    async listV1(
      actor: Principal,
      connection: string,
      options: ListOptions & { marker?: string | undefined },
    ): Promise<ObjectListing> {
      const { client, scope } = await open(actor, connection, 'read');
      const prefix = listPrefix(scope, options.prefix);
      const marker = options.marker ? resolveListPrefix(scope, options.marker) : undefined;
      try {
        const out = await client.send(
          new ListObjectsCommand({
            Bucket: scope.bucket,
            Prefix: prefix,
            Delimiter: options.delimiter || undefined,
            MaxKeys: clampMaxKeys(options.maxKeys),
            Marker: marker,
          }),
        );
        const listing = relativeListing(scope, out);
        let nextMarker: string | undefined;
        if (out.IsTruncated) {
          // S3 gives NextMarker only with a delimiter; otherwise the last key is the marker.
          const last = out.NextMarker ?? out.Contents?.[out.Contents.length - 1]?.Key;
          nextMarker = last !== undefined && isKeyInScope(scope, last) ? relativeKey(scope, last) : undefined;
        }
        return { ...listing, isTruncated: out.IsTruncated === true, nextMarker };
      } catch (e) {
        throw mapS3Error(e, { connection });
      }
    },

    async head(
      actor: Principal,
      connection: string,
      key: string,
      conditions?: Conditions,
    ): Promise<{ status: 200; meta: ObjectMeta } | { status: 304; meta: Pick<ObjectMeta, 'etag'> }> {
      const session = await open(actor, connection, 'read');
      const fullKey = resolveObjectKey(session.scope, key);
      try {
        const out = await session.client.send(
          new HeadObjectCommand({ Bucket: session.scope.bucket, Key: fullKey, ...conditionParams(conditions) }),
        );
        const meta = {
          ...headersOf(out),
          size: out.ContentLength ?? 0,
          etag: out.ETag,
          lastModified: out.LastModified,
        };
        return { status: 200, meta };
      } catch (e) {
        if (awsErrorFacts(e).status === 304) return { status: 304, meta: {} };
        throw await explainDenied(e, session, fullKey, connection, key);
      }
    },

    /** Streams an object or a byte range; S3 evaluates the conditions. */
    async get(
      actor: Principal,
      connection: string,
      key: string,
      options: { range?: string | undefined; conditions?: Conditions | undefined },
    ): Promise<ObjectRead> {
      const session = await open(actor, connection, 'read');
      const fullKey = resolveObjectKey(session.scope, key);
      try {
        const out = await session.client.send(
          new GetObjectCommand({
            Bucket: session.scope.bucket,
            Key: fullKey,
            Range: options.range,
            ...conditionParams(options.conditions),
          }),
        );
        return {
          status: out.ContentRange ? 206 : 200,
          meta: { ...headersOf(out), size: out.ContentLength ?? 0, etag: out.ETag, lastModified: out.LastModified },
          body: out.Body as Readable,
          contentRange: out.ContentRange,
        };
      } catch (e) {
        if (awsErrorFacts(e).status === 304) return { status: 304, meta: {} };
        throw await explainDenied(e, session, fullKey, connection, key);
      }
    },

    /**
     * Streams a body of known length into one PutObject. Aborting `signal` (client gone, body failed a check)
     * aborts the request to S3 before its last byte, so no object is stored and an earlier version stays.
     */
    async put(
      actor: Principal,
      connection: string,
      key: string,
      body: Readable | Buffer,
      options: ObjectHeaders & { contentLength: number; contentMD5?: string | undefined; signal?: AbortSignal },
    ): Promise<{ etag?: string | undefined }> {
      const { client, scope } = await open(actor, connection, 'write');
      const fullKey = resolveObjectKey(scope, key);
      try {
        const out = await client.send(
          new PutObjectCommand({
            Bucket: scope.bucket,
            Key: fullKey,
            Body: body,
            ContentLength: options.contentLength,
            ContentMD5: options.contentMD5,
            ...headerParams(options),
          }),
          { abortSignal: options.signal },
        );
        return { etag: out.ETag };
      } catch (e) {
        throw mapS3Error(e, { connection, key }, options.signal);
      }
    },

    /** Copies an object inside the connection; `replace` gives the copy new headers instead of the source's. */
    async copy(
      actor: Principal,
      connection: string,
      sourceKey: string,
      key: string,
      options: { replace?: ObjectHeaders | undefined; conditions?: Conditions | undefined },
    ): Promise<{ etag?: string | undefined; lastModified?: Date | undefined }> {
      const { client, scope } = await open(actor, connection, 'write');
      const fullSource = resolveObjectKey(scope, sourceKey);
      const fullKey = resolveObjectKey(scope, key);
      const c = options.conditions;
      try {
        const out = await client.send(
          new CopyObjectCommand({
            Bucket: scope.bucket,
            Key: fullKey,
            // The SDK sends CopySource as given: it must be URL-encoded (slashes kept).
            CopySource: `${scope.bucket}/${fullSource.split('/').map(encodeURIComponent).join('/')}`,
            CopySourceIfMatch: c?.ifMatch,
            CopySourceIfNoneMatch: c?.ifNoneMatch,
            CopySourceIfModifiedSince: c?.ifModifiedSince,
            CopySourceIfUnmodifiedSince: c?.ifUnmodifiedSince,
            ...(options.replace === undefined
              ? { MetadataDirective: 'COPY' as const }
              : { MetadataDirective: 'REPLACE' as const, ...headerParams(options.replace) }),
          }),
        );
        return { etag: out.CopyObjectResult?.ETag, lastModified: out.CopyObjectResult?.LastModified };
      } catch (e) {
        throw mapS3Error(e, { connection, key: sourceKey });
      }
    },

    async delete(actor: Principal, connection: string, key: string): Promise<void> {
      const { client, scope } = await open(actor, connection, 'write');
      const fullKey = resolveObjectKey(scope, key);
      try {
        await client.send(new DeleteObjectCommand({ Bucket: scope.bucket, Key: fullKey }));
      } catch (e) {
        throw mapS3Error(e, { connection, key });
      }
    },

    /**
     * Deletes up to 1000 keys, each on its own (RGW's DeleteObjects predates the checksums today's SDKs send).
     * Per-key failures are reported, not thrown.
     */
    async deleteMany(
      actor: Principal,
      connection: string,
      keys: readonly string[],
    ): Promise<{ deleted: string[]; errors: Array<{ key: string; error: RolegateError }> }> {
      const { client, scope } = await open(actor, connection, 'write');
      const deleted: string[] = [];
      const errors: Array<{ key: string; error: RolegateError }> = [];
      let next = 0;
      const worker = async () => {
        while (next < keys.length) {
          const key = keys[next++] as string;
          try {
            const fullKey = resolveObjectKey(scope, key);
            await client.send(new DeleteObjectCommand({ Bucket: scope.bucket, Key: fullKey }));
            deleted.push(key);
          } catch (e) {
            errors.push({ key, error: mapS3Error(e, { connection, key }) });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, keys.length) }, worker));
      return { deleted, errors };
    },
  };
}
