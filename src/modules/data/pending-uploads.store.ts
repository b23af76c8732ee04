import type { Db } from '../../db/connect.js';
import type { PendingUploadsTable } from '../../db/tables.js';

/** Who started a multipart upload: the user API streaming a body (rolegate's own), or a gateway client. */
export type UploadOrigin = 'api' | 'gateway';

/** A multipart upload rolegate started and has not yet seen completed or aborted. */
export interface PendingUpload {
  readonly bucket: string;
  readonly uploadId: string;
  /** The full key in the bucket (not relative to the connection: its path may change meanwhile). */
  readonly key: string;
  readonly origin: UploadOrigin;
  readonly connection: string;
  readonly userId: string;
  /** The rolegate session the upload was made through (its role may be the connection's), if any. */
  readonly sessionId: string | null;
  /** The instance that streams it (user API) or is sweeping it; null when no instance holds it. */
  readonly instanceId: string | null;
  readonly createdAt: string;
  readonly heartbeatAt: string;
}

/** Which records a sweep may abort now (times are ISO-8601, compared as text). */
export interface AbandonedQuery {
  /** The sweeping instance: what it holds itself is alive. */
  readonly instanceId: string;
  /** A holder whose heartbeat is older than this is gone. */
  readonly staleBefore: string;
  /** Gateway uploads started before this are abandoned by their clients. */
  readonly gatewayBefore: string;
  /** Every other holder is gone (start-up on a store no other instance uses). */
  readonly othersGone: boolean;
  readonly limit: number;
}

/** Pending multipart uploads, so that a restart (or another instance) can abort what a crash left in S3. */
export interface PendingUploadStore {
  add(upload: PendingUpload): Promise<void>;
  remove(bucket: string, uploadId: string): Promise<void>;
  /** Lets go of an upload its holder could not clean up: the next sweep, anywhere, takes it. */
  release(bucket: string, uploadId: string): Promise<void>;
  /** Marks what `instanceId` holds as alive at `at`. */
  heartbeat(instanceId: string, at: string): Promise<void>;
  /** Marks a client's (gateway) upload as used at `at`, through whichever instance: its idle time restarts. */
  touch(bucket: string, uploadId: string, at: string): Promise<void>;
  /** When a client's upload was last used through any instance (or started), or undefined when not recorded. */
  lastUsed(bucket: string, uploadId: string): Promise<string | undefined>;
  abandoned(query: AbandonedQuery): Promise<PendingUpload[]>;
  /**
   * Takes `upload` for `instanceId` if nobody changed it since it was read (compare-and-set on holder and
   * heartbeat), so that two instances sweeping at once never both abort it.
   */
  claim(upload: PendingUpload, instanceId: string, at: string): Promise<boolean>;
  list(): Promise<PendingUpload[]>;
}

const toRecord = (r: PendingUploadsTable): PendingUpload => ({
  bucket: r.bucket,
  uploadId: r.upload_id,
  key: r.object_key,
  origin: r.origin,
  connection: r.connection,
  userId: r.user_id,
  sessionId: r.session_id,
  instanceId: r.instance_id,
  createdAt: r.created_at,
  heartbeatAt: r.heartbeat_at,
});

export function createPendingUploadStore(db: Db): PendingUploadStore {
  return {
    async add(u) {
      await db
        .insertInto('pending_uploads')
        .values({
          bucket: u.bucket,
          upload_id: u.uploadId,
          object_key: u.key,
          origin: u.origin,
          connection: u.connection,
          user_id: u.userId,
          session_id: u.sessionId,
          instance_id: u.instanceId,
          created_at: u.createdAt,
          heartbeat_at: u.heartbeatAt,
        })
        .execute();
    },

    async remove(bucket, uploadId) {
      await db.deleteFrom('pending_uploads').where('bucket', '=', bucket).where('upload_id', '=', uploadId).execute();
    },

    async release(bucket, uploadId) {
      await db
        .updateTable('pending_uploads')
        .set({ instance_id: null })
        .where('bucket', '=', bucket)
        .where('upload_id', '=', uploadId)
        .execute();
    },

    async heartbeat(instanceId, at) {
      await db.updateTable('pending_uploads').set({ heartbeat_at: at }).where('instance_id', '=', instanceId).execute();
    },

    async touch(bucket, uploadId, at) {
      // A gateway record's heartbeat is its last use: no instance holds a client's upload.
      await db
        .updateTable('pending_uploads')
        .set({ heartbeat_at: at })
        .where('bucket', '=', bucket)
        .where('upload_id', '=', uploadId)
        .where('origin', '=', 'gateway')
        .where('heartbeat_at', '<', at)
        .execute();
    },

    async lastUsed(bucket, uploadId) {
      const row = await db
        .selectFrom('pending_uploads')
        .select('heartbeat_at')
        .where('bucket', '=', bucket)
        .where('upload_id', '=', uploadId)
        .where('origin', '=', 'gateway')
        .executeTakeFirst();
      return row?.heartbeat_at;
    },

    async abandoned(q) {
      const rows = await db
        .selectFrom('pending_uploads')
        .selectAll()
        .where((eb) => {
          // Not held by anyone alive: nobody, a holder whose heartbeat stopped, or (start-up) anyone else.
          const unheld = eb.or([
            eb('instance_id', 'is', null),
            eb.and([
              eb('instance_id', '!=', q.instanceId),
              q.othersGone ? eb.lit(true) : eb('heartbeat_at', '<', q.staleBefore),
            ]),
          ]);
          return eb.or([
            // Rolegate's own streamed uploads: dead once unheld.
            eb.and([eb('origin', '=', 'api'), unheld]),
            // A client's: it may still be uploading parts through any instance, until the age bound.
            eb.and([eb('origin', '=', 'gateway'), eb('created_at', '<', q.gatewayBefore), unheld]),
          ]);
        })
        .orderBy('created_at')
        .limit(q.limit)
        .execute();
      return rows.map(toRecord);
    },

    async claim(u, instanceId, at) {
      const result = await db
        .updateTable('pending_uploads')
        .set({ instance_id: instanceId, heartbeat_at: at })
        .where('bucket', '=', u.bucket)
        .where('upload_id', '=', u.uploadId)
        .where('heartbeat_at', '=', u.heartbeatAt)
        .where((eb) => (u.instanceId === null ? eb('instance_id', 'is', null) : eb('instance_id', '=', u.instanceId)))
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async list() {
      const rows = await db.selectFrom('pending_uploads').selectAll().orderBy('created_at').execute();
      return rows.map(toRecord);
    },
  };
}
