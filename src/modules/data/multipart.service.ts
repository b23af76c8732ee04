/**
 * Multipart uploads for the S3 gateway, under the user's role session. Uploads started here are tracked, and
 * one left idle (its client gone mid-upload, say) for longer than `idleTimeoutMs` is aborted, so it leaves no
 * stored parts behind.
 */
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mapS3Error } from '../../cloud/aws/s3-errors.js';
import type { Principal } from '../../domain/model.js';
import { isKeyInScope, relativeKey, resolveListPrefix, resolveObjectKey } from '../../domain/scope.js';
import { invalidInput, isRolegateError } from '../../errors/errors.js';
import type { Clock } from '../../lib/clock.js';
import { LruMap } from '../../lib/lru-map.js';
import { type DataSession, type DataSessionDeps, openDataSession } from './data-session.js';
import type { ObjectHeaders } from './objects.service.js';
import type { PendingUploadsService } from './pending-uploads.service.js';

export interface MultipartServiceDeps extends DataSessionDeps {
  readonly clock: Clock;
  /** An upload without activity for this long is aborted. */
  readonly idleTimeoutMs: number;
  /** Told when an idle upload could not be aborted (it is retried on the next sweep). */
  readonly onReapError?: (error: unknown, upload: { connection: string; key: string }) => void;
  /**
   * Where uploads are recorded until completed or aborted: the record survives a crash and is swept after an age
   * bound (src/modules/data/pending-uploads.service.ts), and carries the upload's last use through any instance,
   * which the idle sweep reads before it aborts.
   */
  readonly pending?: Pick<PendingUploadsService, 'started' | 'finished' | 'used' | 'lastUsed'>;
}

export interface UploadedPart {
  readonly partNumber: number;
  readonly etag?: string | undefined;
  readonly size?: number | undefined;
  readonly lastModified?: Date | undefined;
}

export interface PartListing {
  readonly parts: UploadedPart[];
  readonly isTruncated: boolean;
  readonly nextPartNumberMarker?: number | undefined;
}

export interface UploadListing {
  readonly uploads: Array<{ key: string; uploadId: string; initiated?: Date | undefined }>;
  readonly commonPrefixes: string[];
  readonly isTruncated: boolean;
  readonly nextKeyMarker?: string | undefined;
  readonly nextUploadIdMarker?: string | undefined;
}

export type MultipartService = ReturnType<typeof createMultipartService>;

interface TrackedUpload {
  readonly actor: Principal;
  readonly connection: string;
  readonly key: string;
  readonly bucket: string;
  lastActivity: number;
}

const MAX_PARTS = 10_000;

export function createMultipartService(deps: MultipartServiceDeps) {
  const { clock } = deps;
  /** Uploads started through this instance: it watches their idle time. */
  const tracked = new Map<string, TrackedUpload>();
  /** Parts in flight through this instance, of any upload (one started on another instance too). */
  const partsInFlight = new Map<string, { bucket: string; parts: number }>();
  /** When this instance last noted each upload's use in the store: at most every quarter of the idle time. */
  const noted = new LruMap<string, number>(10_000);
  const open = (actor: Principal, connection: string, intent: 'read' | 'write') =>
    openDataSession(deps, actor, connection, intent);

  // Behind a load balancer a client's parts go through any instance, and only the one that started the upload
  // watches its idle time: each instance notes in the store that the upload is in use.
  function note(bucket: string, uploadId: string, now: number): void {
    if (deps.pending === undefined) return;
    if (now - (noted.get(uploadId) ?? Number.NEGATIVE_INFINITY) < deps.idleTimeoutMs / 4) return;
    noted.set(uploadId, now);
    void deps.pending.used(bucket, uploadId);
  }

  const touch = (bucket: string, uploadId: string, delta = 0) => {
    const now = clock.now();
    const t = tracked.get(uploadId);
    if (t !== undefined) t.lastActivity = now;
    if (delta !== 0) {
      const inFlight = partsInFlight.get(uploadId) ?? { bucket, parts: 0 };
      inFlight.parts += delta;
      if (inFlight.parts > 0) partsInFlight.set(uploadId, inFlight);
      else partsInFlight.delete(uploadId);
    }
    note(bucket, uploadId, now);
  };

  /** Whether the upload was used through another instance within the idle time (a store that fails: assume so). */
  async function usedElsewhere(t: TrackedUpload, uploadId: string, now: number): Promise<boolean> {
    if (deps.pending === undefined) return false;
    const used = await deps.pending.lastUsed(t.bucket, uploadId).catch(() => now);
    if (used === undefined || now - used >= deps.idleTimeoutMs) return false;
    t.lastActivity = used;
    return true;
  }

  async function abortUpload(actor: Principal, connection: string, key: string, uploadId: string): Promise<void> {
    const { client, scope } = await open(actor, connection, 'write');
    const fullKey = resolveObjectKey(scope, key);
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: scope.bucket, Key: fullKey, UploadId: uploadId }));
    } catch (e) {
      const mapped = mapS3Error(e, { connection, key });
      // Already gone (completed or aborted elsewhere): nothing of it is pending any more.
      if (mapped.code === 'object.not_found') await deps.pending?.finished(scope.bucket, uploadId);
      throw mapped;
    } finally {
      tracked.delete(uploadId);
    }
    await deps.pending?.finished(scope.bucket, uploadId);
  }

  async function sweep(): Promise<void> {
    const now = clock.now();
    // A part that takes longer than a sweep's period is use too, for whichever instance watches its upload.
    for (const [uploadId, inFlight] of partsInFlight) note(inFlight.bucket, uploadId, now);
    for (const [uploadId, t] of [...tracked]) {
      if (partsInFlight.has(uploadId) || now - t.lastActivity < deps.idleTimeoutMs) continue;
      if (await usedElsewhere(t, uploadId, now)) continue;
      try {
        await abortUpload(t.actor, t.connection, t.key, uploadId);
      } catch (error) {
        // Already completed or aborted elsewhere: nothing is left to clean.
        if (isRolegateError(error) && error.code === 'object.not_found') continue;
        tracked.set(uploadId, { ...t, lastActivity: now });
        deps.onReapError?.(error, t);
      }
    }
  }
  /** Records a new upload; one that cannot be recorded is aborted at once (a crash would leave it behind). */
  async function recordStarted(
    client: DataSession['client'],
    upload: { bucket: string; uploadId: string; key: string; connection: string; actor: Principal },
  ): Promise<void> {
    if (deps.pending === undefined) return;
    try {
      await deps.pending.started({ origin: 'gateway', ...upload });
    } catch (e) {
      await client
        .send(new AbortMultipartUploadCommand({ Bucket: upload.bucket, Key: upload.key, UploadId: upload.uploadId }))
        .catch(() => undefined);
      throw e;
    }
  }

  const timer = setInterval(() => void sweep(), Math.max(250, Math.min(deps.idleTimeoutMs / 4, 30_000)));
  timer.unref();

  return {
    async create(actor: Principal, connection: string, key: string, headers: ObjectHeaders): Promise<string> {
      const { client, scope } = await open(actor, connection, 'write');
      const fullKey = resolveObjectKey(scope, key);
      try {
        const out = await client.send(
          new CreateMultipartUploadCommand({
            Bucket: scope.bucket,
            Key: fullKey,
            ContentType: headers.contentType,
            CacheControl: headers.cacheControl,
            ContentDisposition: headers.contentDisposition,
            ContentEncoding: headers.contentEncoding,
            ContentLanguage: headers.contentLanguage,
            Expires: headers.expires,
            Metadata: headers.metadata === undefined ? undefined : { ...headers.metadata },
          }),
        );
        const uploadId = out.UploadId as string;
        await recordStarted(client, { bucket: scope.bucket, uploadId, key: fullKey, connection, actor });
        tracked.set(uploadId, { actor, connection, key, bucket: scope.bucket, lastActivity: clock.now() });
        return uploadId;
      } catch (e) {
        throw mapS3Error(e, { connection, key });
      }
    },

    /** Streams one part of known length; aborting `signal` aborts the part (the upload itself stays). */
    async uploadPart(
      actor: Principal,
      connection: string,
      key: string,
      uploadId: string,
      partNumber: number,
      body: Readable | Buffer,
      options: { contentLength: number; contentMD5?: string | undefined; signal?: AbortSignal },
    ): Promise<{ etag?: string | undefined }> {
      if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
        throw invalidInput('gateway.invalid_argument', `Part number must be an integer between 1 and ${MAX_PARTS}`);
      }
      const { client, scope } = await open(actor, connection, 'write');
      const fullKey = resolveObjectKey(scope, key);
      touch(scope.bucket, uploadId, 1);
      try {
        const out = await client.send(
          new UploadPartCommand({
            Bucket: scope.bucket,
            Key: fullKey,
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: body,
            ContentLength: options.contentLength,
            ContentMD5: options.contentMD5,
          }),
          { abortSignal: options.signal },
        );
        return { etag: out.ETag };
      } catch (e) {
        throw mapS3Error(e, { connection, key }, options.signal);
      } finally {
        touch(scope.bucket, uploadId, -1);
      }
    },

    async complete(
      actor: Principal,
      connection: string,
      key: string,
      uploadId: string,
      parts: ReadonlyArray<{ partNumber: number; etag: string }>,
    ): Promise<{ etag?: string | undefined }> {
      const { client, scope } = await open(actor, connection, 'write');
      const fullKey = resolveObjectKey(scope, key);
      touch(scope.bucket, uploadId, 1);
      try {
        const out = await client.send(
          new CompleteMultipartUploadCommand({
            Bucket: scope.bucket,
            Key: fullKey,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
          }),
        );
        tracked.delete(uploadId);
        await deps.pending?.finished(scope.bucket, uploadId);
        return { etag: out.ETag };
      } catch (e) {
        throw mapS3Error(e, { connection, key });
      } finally {
        touch(scope.bucket, uploadId, -1);
      }
    },

    abort: abortUpload,

    async listParts(
      actor: Principal,
      connection: string,
      key: string,
      uploadId: string,
      options: { maxParts?: number | undefined; partNumberMarker?: number | undefined },
    ): Promise<PartListing> {
      const { client, scope } = await open(actor, connection, 'read');
      const fullKey = resolveObjectKey(scope, key);
      touch(scope.bucket, uploadId);
      try {
        const out = await client.send(
          new ListPartsCommand({
            Bucket: scope.bucket,
            Key: fullKey,
            UploadId: uploadId,
            MaxParts: options.maxParts,
            PartNumberMarker: options.partNumberMarker === undefined ? undefined : String(options.partNumberMarker),
          }),
        );
        return {
          parts: (out.Parts ?? []).map((p) => ({
            partNumber: p.PartNumber ?? 0,
            etag: p.ETag,
            size: p.Size,
            lastModified: p.LastModified,
          })),
          isTruncated: out.IsTruncated === true,
          nextPartNumberMarker: out.NextPartNumberMarker === undefined ? undefined : Number(out.NextPartNumberMarker),
        };
      } catch (e) {
        throw mapS3Error(e, { connection, key });
      }
    },

    async listUploads(
      actor: Principal,
      connection: string,
      options: {
        prefix?: string | undefined;
        delimiter?: string | undefined;
        keyMarker?: string | undefined;
        uploadIdMarker?: string | undefined;
        maxUploads?: number | undefined;
      },
    ): Promise<UploadListing> {
      const { client, scope } = await open(actor, connection, 'read');
      const prefix = options.prefix ? resolveListPrefix(scope, options.prefix) : scope.prefix;
      const inScope = (k: string | undefined): k is string => k !== undefined && isKeyInScope(scope, k);
      try {
        const out = await client.send(
          new ListMultipartUploadsCommand({
            Bucket: scope.bucket,
            Prefix: prefix,
            Delimiter: options.delimiter || undefined,
            KeyMarker: options.keyMarker ? resolveListPrefix(scope, options.keyMarker) : undefined,
            UploadIdMarker: options.uploadIdMarker || undefined,
            MaxUploads: options.maxUploads,
          }),
        );
        return {
          uploads: (out.Uploads ?? [])
            .filter((u) => inScope(u.Key) && u.UploadId !== undefined)
            .map((u) => ({
              key: relativeKey(scope, u.Key as string),
              uploadId: u.UploadId as string,
              initiated: u.Initiated,
            })),
          commonPrefixes: (out.CommonPrefixes ?? [])
            .map((p) => p.Prefix)
            .filter(inScope)
            .map((p) => relativeKey(scope, p)),
          isTruncated: out.IsTruncated === true,
          nextKeyMarker: inScope(out.NextKeyMarker) ? relativeKey(scope, out.NextKeyMarker) : undefined,
          nextUploadIdMarker: out.NextUploadIdMarker,
        };
      } catch (e) {
        throw mapS3Error(e, { connection });
      }
    },

    /** Uploads started through this instance and not yet completed or aborted (for tests and metrics). */
    trackedUploads(): number {
      return tracked.size;
    },

    /** Aborts idle uploads now (the timer does this periodically). */
    sweep,

    /** Stops the idle sweep. */
    close(): void {
      clearInterval(timer);
    },
  };
}
