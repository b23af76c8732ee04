/**
 * Multipart uploads rolegate started, recorded in the store until they complete or are aborted, and a sweep that
 * aborts the ones a crash (or a client that went away) left behind in S3 — as their owner, through the user's own
 * role session (the credential engine is the only holder of master credentials), each abort audited.
 *
 * Which records are abandoned:
 * - `api` (the user API's streamed uploads): rolegate's own. The instance streaming one holds it and keeps a
 *   heartbeat on it; once no live instance holds it, nobody will ever send its next part. On a store no other
 *   instance shares (SQLite), every record left at start-up is dead; on PostgreSQL, one whose holder's heartbeat
 *   is older than the lease.
 * - `gateway` (CreateMultipartUpload by an S3 client): the client's. It may still be sending parts, through any
 *   instance, after a restart: it is aborted only past an age bound counted from its start (as S3's own
 *   AbortIncompleteMultipartUpload lifecycle rule counts).
 */
import { AbortMultipartUploadCommand } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { mapS3Error } from '../../cloud/aws/s3-errors.js';
import type { Principal } from '../../domain/model.js';
import { isKeyInScope } from '../../domain/scope.js';
import { isRolegateError, notFound, permissionDenied, upstreamUnavailable } from '../../errors/errors.js';
import type { Clock } from '../../lib/clock.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { outcomeOf } from '../audit/audited-credentials.js';
import { type DataSessionDeps, openDataSession } from './data-session.js';
import type { PendingUpload, PendingUploadStore, UploadOrigin } from './pending-uploads.store.js';

export interface PendingUploadsDeps extends DataSessionDeps {
  readonly store: PendingUploadStore;
  /** The owner of a record as a principal (through the session it used, when it still exists); undefined: gone. */
  readonly owners: { principalOf(userId: string, sessionId: string | null): Promise<Principal | undefined> };
  readonly trail: Pick<AuditTrail, 'record'>;
  readonly clock: Clock;
  readonly logger: Pick<Logger, 'warn' | 'info'>;
  /** This process, as holder of the uploads it streams. */
  readonly instanceId: string;
  /** True when no other instance shares the store (SQLite): whatever another holder left is dead at start-up. */
  readonly exclusiveStore: boolean;
  /** How often to sweep and renew this instance's heartbeat. */
  readonly sweepIntervalMs: number;
  /** A gateway upload still open this long after its start is aborted. */
  readonly gatewayMaxAgeMs: number;
}

/** One upload the sweep dealt with: aborted (or found gone), kept for the next sweep, or given up. */
export interface SweptUpload {
  readonly connection: string;
  readonly key: string;
  readonly origin: UploadOrigin;
  readonly outcome: 'aborted' | 'retry' | 'given-up';
  readonly reasonCode?: string | undefined;
}

export type PendingUploadsService = ReturnType<typeof createPendingUploadsService>;

/** A holder that missed this many heartbeats is gone. */
const LEASE_BEATS = 3;
const SWEEP_BATCH = 200;

export function createPendingUploadsService(deps: PendingUploadsDeps) {
  const { store, clock, instanceId } = deps;
  const iso = (ms: number) => new Date(ms).toISOString();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<SweptUpload[]> | undefined;
  let startedUp = false;

  /** Aborts one abandoned upload as its owner; throws a RolegateError saying why it could not. */
  async function abortAsOwner(u: PendingUpload): Promise<Principal> {
    const owner = await deps.owners.principalOf(u.userId, u.sessionId);
    if (owner === undefined) {
      throw notFound('upload.owner_gone', `the user who started the upload in connection "${u.connection}" is gone`);
    }
    const { client, scope } = await openDataSession(deps, owner, u.connection, 'write');
    if (scope.bucket !== u.bucket || !isKeyInScope(scope, u.key)) {
      // The connection moved since: its role session may not touch the old place, and must not be widened to.
      throw permissionDenied(
        'upload.out_of_scope',
        `the upload lies outside connection "${u.connection}" as it is now configured`,
      );
    }
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: u.bucket, Key: u.key, UploadId: u.uploadId }));
    } catch (e) {
      const mapped = mapS3Error(e, { connection: u.connection, key: u.key });
      // Completed or aborted meanwhile (by its client, or another instance): nothing is left to clean.
      if (mapped.code !== 'object.not_found') throw mapped;
    }
    return owner;
  }

  async function sweepOne(u: PendingUpload, trigger: 'start-up' | 'periodic'): Promise<SweptUpload> {
    const started = clock.now();
    const base = {
      action: 'upload.sweep_abort',
      connection: u.connection,
      bucket: u.bucket,
      key: u.key,
      details: {
        origin: u.origin,
        uploadId: u.uploadId,
        trigger,
        userId: u.userId,
        ageSeconds: Math.round((started - Date.parse(u.createdAt)) / 1000),
      },
    };
    try {
      const owner = await abortAsOwner(u);
      await deps.trail.record({
        ...base,
        actor: owner.username,
        outcome: 'allowed',
        durationMs: clock.now() - started,
      });
      await store.remove(u.bucket, u.uploadId);
      return { connection: u.connection, key: u.key, origin: u.origin, outcome: 'aborted' };
    } catch (error) {
      const { outcome, reasonCode } = outcomeOf(error);
      // STS, S3, the store or the audit trail unavailable: the next sweep tries again. Anything else (the owner,
      // the connection or the right is gone) will not heal by itself: the record goes, the audit event stays.
      const retry = !isRolegateError(error) || error.retryable;
      try {
        await deps.trail.record({ ...base, outcome, reasonCode, durationMs: clock.now() - started });
        await (retry ? store.release(u.bucket, u.uploadId) : store.remove(u.bucket, u.uploadId));
      } catch (err) {
        deps.logger.warn({ err, connection: u.connection }, 'could not record a failed multipart sweep');
      }
      deps.logger.warn(
        { err: error, connection: u.connection, origin: u.origin, reasonCode },
        retry ? 'could not abort an abandoned multipart upload; retrying later' : 'gave up an abandoned upload',
      );
      return {
        connection: u.connection,
        key: u.key,
        origin: u.origin,
        outcome: retry ? 'retry' : 'given-up',
        reasonCode,
      };
    }
  }

  async function sweepNow(trigger: 'start-up' | 'periodic'): Promise<SweptUpload[]> {
    const now = clock.now();
    await store.heartbeat(instanceId, iso(now));
    const candidates = await store.abandoned({
      instanceId,
      staleBefore: iso(now - LEASE_BEATS * deps.sweepIntervalMs),
      gatewayBefore: iso(now - deps.gatewayMaxAgeMs),
      othersGone: trigger === 'start-up' && deps.exclusiveStore,
      limit: SWEEP_BATCH,
    });
    const swept: SweptUpload[] = [];
    for (const u of candidates) {
      // Another instance may be sweeping the same record: only the one that claims it aborts it.
      if (!(await store.claim(u, instanceId, iso(clock.now())))) continue;
      swept.push(await sweepOne(u, trigger));
    }
    const aborted = swept.filter((s) => s.outcome === 'aborted').length;
    if (swept.length > 0) deps.logger.info({ trigger, aborted, of: swept.length }, 'swept abandoned multipart uploads');
    return swept;
  }

  /**
   * Sweeps now; the first sweep that gets through is the start-up one. One sweep at a time per instance.
   * Rejects only when the store itself failed.
   */
  function sweep(): Promise<SweptUpload[]> {
    if (running === undefined) {
      running = sweepNow(startedUp ? 'periodic' : 'start-up')
        .then((swept) => {
          startedUp = true;
          return swept;
        })
        .finally(() => {
          running = undefined;
        });
    }
    return running;
  }

  return {
    /** Records an upload S3 has just created; throws `store.unavailable` when it could not be recorded. */
    async started(upload: {
      origin: UploadOrigin;
      bucket: string;
      uploadId: string;
      key: string;
      connection: string;
      actor: Principal;
    }): Promise<void> {
      const now = iso(clock.now());
      try {
        await store.add({
          bucket: upload.bucket,
          uploadId: upload.uploadId,
          key: upload.key,
          origin: upload.origin,
          connection: upload.connection,
          userId: upload.actor.userId,
          sessionId: upload.actor.session?.id ?? null,
          // A client's upload is held by no instance: it may go on through any of them.
          instanceId: upload.origin === 'api' ? instanceId : null,
          createdAt: now,
          heartbeatAt: now,
        });
      } catch (e) {
        throw upstreamUnavailable('store.unavailable', 'the store could not record the upload; nothing was stored', {
          cause: e,
        });
      }
    },

    /** Forgets an upload that completed or was aborted. Never throws: a record left over is swept later. */
    async finished(bucket: string, uploadId: string): Promise<void> {
      await store.remove(bucket, uploadId).catch((err: unknown) => {
        deps.logger.warn({ err }, 'could not forget a finished multipart upload; the sweep will');
      });
    },

    /**
     * Notes that a client used its upload through this instance, for the instance that watches its idle time
     * (the one it was started on). Never throws: a note lost makes the upload look idle sooner, no more.
     */
    async used(bucket: string, uploadId: string): Promise<void> {
      await store.touch(bucket, uploadId, iso(clock.now())).catch((err: unknown) => {
        deps.logger.warn({ err }, 'could not note the use of a multipart upload');
      });
    },

    /** When a client last used its upload through any instance (epoch ms), or undefined when not recorded. */
    async lastUsed(bucket: string, uploadId: string): Promise<number | undefined> {
      const at = await store.lastUsed(bucket, uploadId);
      return at === undefined ? undefined : Date.parse(at);
    },

    /** Lets go of an upload that could not be aborted just now: the next sweep aborts it. Never throws. */
    async abandon(bucket: string, uploadId: string): Promise<void> {
      await store.release(bucket, uploadId).catch((err: unknown) => {
        deps.logger.warn({ err }, 'could not release an abandoned multipart upload; its lease will run out');
      });
    },

    sweep,

    /** Sweeps at start-up and then every interval (failures are logged; the next sweep tries again). */
    start(): void {
      if (timer !== undefined) return;
      const run = () =>
        void sweep().catch((err: unknown) => deps.logger.warn({ err }, 'the multipart upload sweep failed'));
      run();
      timer = setInterval(run, deps.sweepIntervalMs);
      timer.unref();
    },

    /** Stops the periodic sweep and waits for one in progress. */
    async close(): Promise<void> {
      clearInterval(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}
