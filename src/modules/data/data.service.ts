import { type Readable, Transform } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { onMultipartCreated, type S3ClientPool } from '../../cloud/aws/s3.js';
import { mapS3Error } from '../../cloud/aws/s3-errors.js';
import type { Principal } from '../../domain/model.js';
import { isKeyInScope, relativeKey, resolveListPrefix, resolveObjectKey } from '../../domain/scope.js';
import { invalidInput, RolegateError } from '../../errors/errors.js';
import type { CredentialsService } from '../credentials/credentials.service.js';
import { explainDenied, openDataSession } from './data-session.js';
import type { PendingUploadsService } from './pending-uploads.service.js';

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly lastModified?: string | undefined;
  readonly etag?: string | undefined;
}

export interface Listing {
  readonly prefix: string;
  readonly folders: string[];
  readonly objects: ObjectInfo[];
  readonly nextCursor?: string | undefined;
}

export interface ObjectStream {
  readonly body: Readable;
  readonly status: 200 | 206;
  readonly contentLength?: number | undefined;
  readonly contentType?: string | undefined;
  readonly contentRange?: string | undefined;
  readonly etag?: string | undefined;
  readonly lastModified?: Date | undefined;
}

export interface DataServiceDeps {
  readonly credentials: Pick<CredentialsService, 'sessionForData'>;
  readonly s3: Pick<S3ClientPool, 'clientForBucket'>;
  /** Multipart part size for streamed uploads; memory per upload is about partSize × queueSize. */
  readonly uploadPartSize?: number;
  /** Where streamed multipart uploads are recorded until they end, so that a crash leaves none behind. */
  readonly pending?: Pick<PendingUploadsService, 'started' | 'finished' | 'abandon'>;
}

export type DataService = ReturnType<typeof createDataService>;

const RANGE = /^bytes=(\d+-\d*|-\d+)$/;
const MAX_LIST = 1000;

/** Reading and writing as the user: every S3 call runs under the user's own role session, inside its scope. */
export function createDataService(deps: DataServiceDeps) {
  const partSize = deps.uploadPartSize ?? 8 * 1024 * 1024;

  const open = async (actor: Principal, connection: string, intent: 'read' | 'write') =>
    openDataSession(deps, actor, connection, intent);

  return {
    async list(
      actor: Principal,
      connection: string,
      options: { prefix?: string | undefined; cursor?: string | undefined; limit?: number | undefined },
    ): Promise<Listing> {
      const relPrefix = options.prefix ?? '';
      if (relPrefix !== '' && !relPrefix.endsWith('/')) {
        throw invalidInput('prefix.invalid', 'prefix must be empty or end with "/" (a folder)');
      }
      const limit = Math.min(Math.max(options.limit ?? MAX_LIST, 1), MAX_LIST);
      const { client, scope } = await open(actor, connection, 'read');
      const fullPrefix = relPrefix === '' ? scope.prefix : resolveListPrefix(scope, relPrefix);
      try {
        const out = await client.send(
          new ListObjectsV2Command({
            Bucket: scope.bucket,
            Prefix: fullPrefix,
            Delimiter: '/',
            MaxKeys: limit,
            ContinuationToken: options.cursor,
          }),
        );
        const inScope = (k: string | undefined): k is string => k !== undefined && isKeyInScope(scope, k);
        return {
          prefix: relPrefix,
          folders: (out.CommonPrefixes ?? [])
            .map((p) => p.Prefix)
            .filter(inScope)
            .map((k) => relativeKey(scope, k)),
          objects: (out.Contents ?? [])
            .filter((o) => inScope(o.Key))
            .map((o) => ({
              key: relativeKey(scope, o.Key as string),
              size: o.Size ?? 0,
              lastModified: o.LastModified?.toISOString(),
              etag: o.ETag,
            })),
          nextCursor: out.IsTruncated ? out.NextContinuationToken : undefined,
        };
      } catch (e) {
        throw mapS3Error(e, { connection });
      }
    },

    async head(
      actor: Principal,
      connection: string,
      key: string,
    ): Promise<ObjectInfo & { contentType?: string | undefined }> {
      const { client, scope } = await open(actor, connection, 'read');
      const fullKey = resolveObjectKey(scope, key);
      try {
        const out = await client.send(new HeadObjectCommand({ Bucket: scope.bucket, Key: fullKey }));
        return {
          key,
          size: out.ContentLength ?? 0,
          lastModified: out.LastModified?.toISOString(),
          etag: out.ETag,
          contentType: out.ContentType,
        };
      } catch (e) {
        throw await explainDenied(e, { client, scope }, fullKey, connection, key);
      }
    },

    /** Streams an object (optionally a byte range); nothing is buffered in rolegate. */
    async get(actor: Principal, connection: string, key: string, range?: string | undefined): Promise<ObjectStream> {
      if (range !== undefined && !RANGE.test(range)) {
        throw invalidInput(
          'object.invalid_range',
          'Range must be a single range: bytes=START-END, bytes=START- or bytes=-SUFFIX',
        );
      }
      const { client, scope } = await open(actor, connection, 'read');
      const fullKey = resolveObjectKey(scope, key);
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: scope.bucket, Key: fullKey, Range: range }));
        return {
          body: out.Body as Readable,
          status: out.ContentRange ? 206 : 200,
          contentLength: out.ContentLength,
          contentType: out.ContentType,
          contentRange: out.ContentRange,
          etag: out.ETag,
          lastModified: out.LastModified,
        };
      } catch (e) {
        throw await explainDenied(e, { client, scope }, fullKey, connection, key);
      }
    },

    /**
     * Streams a body into S3 (multipart above one part). When `signal` aborts (client gone) or the body
     * errors or falls short of `contentLength`, the upload is aborted: no object and no dangling parts remain.
     */
    async put(
      actor: Principal,
      connection: string,
      key: string,
      body: Readable,
      options: {
        contentType?: string | undefined;
        contentLength?: number | undefined;
        signal?: AbortSignal | undefined;
      },
    ): Promise<ObjectInfo> {
      const { client, scope } = await open(actor, connection, 'write');
      const fullKey = resolveObjectKey(scope, key);
      let received = 0;
      // Counting in the stream itself lets a short or broken body fail the upload before S3 completes it,
      // so an earlier version of the object is never replaced by a truncated one.
      const counted = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          received += chunk.length;
          if (options.contentLength !== undefined && received > options.contentLength) {
            callback(
              invalidInput(
                'object.body_too_long',
                `the body is longer than its Content-Length (${options.contentLength})`,
              ),
            );
          } else {
            callback(null, chunk);
          }
        },
        flush(callback) {
          if (options.contentLength !== undefined && received !== options.contentLength) {
            callback(
              invalidInput(
                'object.body_incomplete',
                `received ${received} of ${options.contentLength} bytes; nothing was stored`,
              ),
            );
          } else {
            callback();
          }
        },
      });
      // The body may already have failed while the role session was being obtained (a checking stream in front
      // of it, say): a destroyed source must fail the upload, not leave it waiting for data that never comes.
      const interrupted = (e: unknown) =>
        invalidInput('object.body_incomplete', 'the upload body was interrupted; nothing was stored', { cause: e });
      if (body.destroyed || body.readableAborted) {
        throw body.errored instanceof RolegateError ? body.errored : interrupted(body.errored);
      }
      body.on('error', (e) => counted.destroy(interrupted(e)));
      body.pipe(counted);
      const upload = new Upload({
        client,
        params: { Bucket: scope.bucket, Key: fullKey, Body: counted, ContentType: options.contentType },
        partSize,
        queueSize: 2,
        leavePartsOnError: false,
      });
      const abort = () => {
        counted.destroy(
          invalidInput('object.body_incomplete', 'the client went away during the upload; nothing was stored'),
        );
        void upload.abort().catch(() => undefined);
      };
      options.signal?.addEventListener('abort', abort, { once: true });
      const pending = deps.pending;
      let uploadId: string | undefined;
      const record = async (id: string) => {
        try {
          await pending?.started({
            origin: 'api',
            bucket: scope.bucket,
            uploadId: id,
            key: fullKey,
            connection,
            actor,
          });
        } catch (e) {
          // Unrecorded, a crash would leave it behind: no part goes out, and the upload is aborted now.
          await abortQuietly(client, scope.bucket, fullKey, id);
          throw e;
        }
        uploadId = id;
      };
      let succeeded = false;
      try {
        const out = await onMultipartCreated(record, () => upload.done());
        succeeded = true;
        return { key, size: received, etag: out.ETag };
      } catch (e) {
        if (counted.errored instanceof RolegateError) throw counted.errored;
        if (e instanceof RolegateError) throw e;
        throw mapS3Error(e, { connection, key });
      } finally {
        options.signal?.removeEventListener('abort', abort);
        if (!succeeded && !body.readableEnded) {
          // Failed before the client finished sending: discard the rest (as Node does for a body nobody reads),
          // so the client gets its answer and the connection is not left stalled until it gives up.
          body.unpipe(counted);
          body.resume();
        }
        if (pending !== undefined && uploadId !== undefined) {
          // lib-storage aborts a failed upload itself, but that abort may have failed too: make sure.
          const gone = succeeded || (await abortQuietly(client, scope.bucket, fullKey, uploadId));
          await (gone ? pending.finished(scope.bucket, uploadId) : pending.abandon(scope.bucket, uploadId));
        }
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
  };
}

/** Aborts a multipart upload; true when it is gone (aborted now or already), false when S3 could not be told. */
async function abortQuietly(client: S3Client, bucket: string, key: string, uploadId: string): Promise<boolean> {
  try {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    return true;
  } catch (e) {
    return mapS3Error(e, { connection: '' }).code === 'object.not_found';
  }
}
