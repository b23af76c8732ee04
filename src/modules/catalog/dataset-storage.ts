import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { parquetMetadataAsync, parquetSchema } from 'hyparquet';
import type { S3ClientPool } from '../../cloud/aws/s3.js';
import { mapS3Error } from '../../cloud/aws/s3-errors.js';
import type { Column } from '../../domain/dataset-schema.js';
import type { Principal, RoleSession, Scope } from '../../domain/model.js';
import { columnsOfParquet } from '../../domain/parquet-schema.js';
import { isKeyInScope, relativeKey, resolveListPrefix, resolveObjectKey } from '../../domain/scope.js';
import { invalidInput } from '../../errors/errors.js';
import type { ConnectionRecord } from '../connections/connections.store.js';
import type { CredentialsService } from '../credentials/credentials.service.js';
import { type GlueBinding, glueScopeOf } from './catalog.store.js';

export interface DatasetStorageDeps {
  readonly credentials: Pick<CredentialsService, 'sessionForData'>;
  readonly s3: Pick<S3ClientPool, 'clientForBucket'>;
  /** The connection's Glue binding, so the role session may also use that Glue database. */
  readonly findBinding: (connection: string) => Promise<GlueBinding | undefined>;
}

/**
 * One user's view of a connection's bucket, for one operation: every call runs under the user's own role
 * session (obtained, and audited, once per operation), with keys relative to the connection's path.
 */
export interface UserBucket {
  readonly connection: string;
  readonly record: ConnectionRecord;
  readonly session: RoleSession;
  readonly scope: Scope;
  /** `s3://bucket/<connection path><relative>`. */
  uri(relative: string): string;
  size(key: string): Promise<number>;
  stream(key: string, range?: string | undefined): Promise<Readable>;
  copy(from: string, to: string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Relative keys of every object under a relative folder. */
  list(prefix: string): Promise<string[]>;
  /** Columns and row count from a Parquet footer, read with ranged GETs (never the whole file). */
  parquetFooter(key: string, file: string): Promise<{ columns: Column[]; rows: number }>;
}

export type DatasetStorage = ReturnType<typeof createDatasetStorage>;

/** Runs `fn` over `items`, at most `limit` at a time. */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export function createDatasetStorage(deps: DatasetStorageDeps) {
  return {
    async open(actor: Principal, connection: string, intent: 'read' | 'write'): Promise<UserBucket> {
      const glue = glueScopeOf(await deps.findBinding(connection));
      const { record, session, scope } = await deps.credentials.sessionForData(actor, connection, intent, { glue });
      const client: S3Client = await deps.s3
        .clientForBucket(record.connection.target, session.credentials)
        .catch((e: unknown) => {
          throw mapS3Error(e, { connection });
        });
      const Bucket = scope.bucket;
      const full = (key: string) => resolveObjectKey(scope, key);
      const fail = (key: string) => (e: unknown) => {
        throw mapS3Error(e, { connection, key });
      };

      const bucket: UserBucket = {
        connection,
        record,
        session,
        scope,
        uri: (relative) => `s3://${Bucket}/${scope.prefix}${relative}`,
        async size(key) {
          const out = await client.send(new HeadObjectCommand({ Bucket, Key: full(key) })).catch(fail(key));
          return out.ContentLength ?? 0;
        },
        async stream(key, range) {
          const out = await client
            .send(new GetObjectCommand({ Bucket, Key: full(key), Range: range }))
            .catch(fail(key));
          return out.Body as Readable;
        },
        async copy(from, to) {
          const source = `${Bucket}/${full(from)}`.split('/').map(encodeURIComponent).join('/');
          await client.send(new CopyObjectCommand({ Bucket, Key: full(to), CopySource: source })).catch(fail(to));
        },
        async delete(key) {
          await client.send(new DeleteObjectCommand({ Bucket, Key: full(key) })).catch(fail(key));
        },
        async list(prefix) {
          const fullPrefix = resolveListPrefix(scope, prefix);
          const keys: string[] = [];
          let token: string | undefined;
          do {
            const out = await client
              .send(new ListObjectsV2Command({ Bucket, Prefix: fullPrefix, ContinuationToken: token }))
              .catch(fail(prefix));
            for (const o of out.Contents ?? []) {
              if (o.Key !== undefined && isKeyInScope(scope, o.Key)) keys.push(relativeKey(scope, o.Key));
            }
            token = out.IsTruncated ? out.NextContinuationToken : undefined;
          } while (token !== undefined);
          return keys;
        },
        async parquetFooter(key, file) {
          const byteLength = await bucket.size(key);
          const slice = async (start: number, end?: number) => {
            const body = await bucket.stream(key, `bytes=${start}-${(end ?? byteLength) - 1}`);
            const chunks: Buffer[] = [];
            for await (const chunk of body) chunks.push(chunk as Buffer);
            const buf = Buffer.concat(chunks);
            return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
          };
          try {
            // The footer is usually small: 64 KiB from the end saves a second round trip in most files.
            const metadata = await parquetMetadataAsync({ byteLength, slice }, { initialFetchSize: 64 * 1024 });
            return { columns: columnsOfParquet(parquetSchema(metadata)), rows: Number(metadata.num_rows) };
          } catch (e) {
            if (e instanceof Error && e.name === 'RolegateError') throw e;
            throw invalidInput('dataset.file_invalid', `File ${JSON.stringify(file)} is not a valid Parquet file`, {
              cause: e,
              details: { file },
            });
          }
        },
      };
      return bucket;
    },
  };
}
