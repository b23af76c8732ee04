import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../../db/connect.js';
import type { RoleSession } from '../../domain/model.js';
import type { SecretBox } from '../../lib/secret-box.js';

/** A role session with the instants the engine refreshes and drops it at (epoch ms). */
export interface TimedRoleSession {
  readonly session: RoleSession;
  readonly refreshAt: number;
  readonly expiresAt: number;
}

/** What identifies a shared session besides its key, so that forgetting a user or connection reaches it. */
export interface SharedSessionOwner {
  readonly userId: string;
  readonly connection: string;
}

/**
 * Role sessions shared by every instance on one PostgreSQL: the first instance to need one takes an advisory
 * lock on its key, calls STS and stores it sealed with the vault key; the others wait on the lock and read it.
 * So concurrent first requests spread over N instances make one STS call, not N.
 */
export interface SharedSessionStore {
  getOrIssue(
    key: string,
    owner: SharedSessionOwner,
    now: number,
    issue: () => Promise<TimedRoleSession>,
  ): Promise<TimedRoleSession>;
  forgetUser(userId: string): Promise<void>;
  forgetConnection(connection: string): Promise<void>;
  forgetUserConnection(userId: string, connection: string): Promise<void>;
  deleteExpired(now: number): Promise<number>;
}

interface SealedSession {
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: string };
  readonly roleArn?: string;
  readonly sessionName?: string;
  readonly scope: RoleSession['scope'];
  readonly issuedAt: string;
}

const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');
const aad = (hashed: string) => `shared-role-session/${hashed}`;
const iso = (ms: number) => new Date(ms).toISOString();

function seal(box: SecretBox, hashed: string, s: RoleSession): string {
  const body: SealedSession = {
    credentials: {
      accessKeyId: s.credentials.accessKeyId,
      secretAccessKey: s.credentials.secretAccessKey,
      ...(s.credentials.sessionToken === undefined ? {} : { sessionToken: s.credentials.sessionToken }),
      ...(s.credentials.expiration === undefined ? {} : { expiration: s.credentials.expiration.toISOString() }),
    },
    ...(s.roleArn === undefined ? {} : { roleArn: s.roleArn }),
    ...(s.sessionName === undefined ? {} : { sessionName: s.sessionName }),
    scope: s.scope,
    issuedAt: s.issuedAt.toISOString(),
  };
  return box.seal(JSON.stringify(body), aad(hashed));
}

function open(box: SecretBox, hashed: string, sealed: string): RoleSession {
  const b = JSON.parse(box.open(sealed, aad(hashed))) as SealedSession;
  return {
    credentials: {
      accessKeyId: b.credentials.accessKeyId,
      secretAccessKey: b.credentials.secretAccessKey,
      sessionToken: b.credentials.sessionToken,
      expiration: b.credentials.expiration === undefined ? undefined : new Date(b.credentials.expiration),
    },
    roleArn: b.roleArn,
    sessionName: b.sessionName,
    scope: b.scope,
    issuedAt: new Date(b.issuedAt),
  };
}

/** PostgreSQL only: it relies on `pg_advisory_xact_lock`. */
export function createSharedSessionStore(db: Db, box: SecretBox): SharedSessionStore {
  return {
    async getOrIssue(key, owner, now, issue) {
      const hashed = hashKey(key);
      // The transaction holds one pooled connection while STS answers; the engine's single-flight keeps that to
      // one per key per instance.
      return db.transaction().execute(async (tx) => {
        await sql`select pg_advisory_xact_lock(hashtextextended(${hashed}, 0))`.execute(tx);
        const row = await tx
          .selectFrom('shared_role_sessions')
          .select(['sealed', 'refresh_at', 'expires_at'])
          .where('key', '=', hashed)
          .executeTakeFirst();
        if (row !== undefined && Date.parse(row.refresh_at) > now) {
          return {
            session: open(box, hashed, row.sealed),
            refreshAt: Date.parse(row.refresh_at),
            expiresAt: Date.parse(row.expires_at),
          };
        }
        const fresh = await issue();
        const values = {
          sealed: seal(box, hashed, fresh.session),
          refresh_at: iso(Math.min(fresh.refreshAt, 8.64e15)),
          expires_at: iso(Math.min(fresh.expiresAt, 8.64e15)),
        };
        await tx
          .insertInto('shared_role_sessions')
          .values({ key: hashed, user_id: owner.userId, connection: owner.connection, ...values })
          .onConflict((oc) => oc.column('key').doUpdateSet(values))
          .execute();
        return fresh;
      });
    },
    async forgetUser(userId) {
      await db.deleteFrom('shared_role_sessions').where('user_id', '=', userId).execute();
    },
    async forgetConnection(connection) {
      await db.deleteFrom('shared_role_sessions').where('connection', '=', connection).execute();
    },
    async forgetUserConnection(userId, connection) {
      await db
        .deleteFrom('shared_role_sessions')
        .where('user_id', '=', userId)
        .where('connection', '=', connection)
        .execute();
    },
    async deleteExpired(now) {
      const r = await db.deleteFrom('shared_role_sessions').where('expires_at', '<=', iso(now)).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}
