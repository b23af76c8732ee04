import type { Db } from '../../db/connect.js';

/** A per-process credentials token: who, which connection, what narrowing, until when. Never the token itself. */
export interface ExecTokenRecord {
  readonly id: string;
  readonly userId: string;
  readonly connection: string;
  readonly name: string;
  readonly prefix: string | null;
  readonly readOnly: boolean;
  readonly durationSeconds: number | null;
  readonly createdAt: string;
  readonly expiresAt: string;
}

export interface IssuedSessionRecord {
  readonly userId: string;
  readonly connection: string;
  readonly roleArn: string;
  readonly sessionName: string;
  readonly expiresAt: string;
}

export interface RevocationRecord {
  readonly id: string;
  readonly userId: string;
  readonly username: string;
  readonly connection: string;
  readonly roleArn: string;
  readonly roleId: string;
  readonly sessionName: string;
  readonly revokedBy: string;
  readonly revokedAt: string;
  /** Until when the deny must stay: the latest expiry of a session with this name. */
  readonly denyUntil: string;
}

/** Exec tokens, session-name generations, issued role sessions and revocations. */
export interface FastpathStore {
  createExecToken(record: ExecTokenRecord, tokenHash: string): Promise<void>;
  findExecTokenByHash(tokenHash: string): Promise<ExecTokenRecord | undefined>;
  findExecToken(id: string): Promise<ExecTokenRecord | undefined>;
  listExecTokens(userId: string): Promise<ExecTokenRecord[]>;
  deleteExecToken(id: string): Promise<boolean>;
  deleteExecTokensOf(userId: string, connection: string): Promise<number>;
  deleteExpiredExecTokens(now: string): Promise<number>;

  generation(userId: string, connection: string): Promise<number>;
  /** Increments the generation and returns the new one. */
  bumpGeneration(userId: string, connection: string, now: string): Promise<number>;

  /** Records an issued session; a name seen again keeps the later expiry. */
  recordIssued(record: IssuedSessionRecord): Promise<void>;
  /** Unexpired issued sessions of (user, connection). */
  issuedSessions(userId: string, connection: string, now: string): Promise<IssuedSessionRecord[]>;
  deleteExpiredIssued(now: string): Promise<number>;

  addRevocations(records: readonly RevocationRecord[]): Promise<void>;
  /** Revocations whose deny is still needed on `roleArn`. */
  activeRevocations(roleArn: string, now: string): Promise<RevocationRecord[]>;
  listRevocations(connection: string): Promise<RevocationRecord[]>;
}

type ExecRow = {
  id: string;
  user_id: string;
  connection: string;
  name: string;
  prefix: string | null;
  read_only: number;
  duration_seconds: number | null;
  created_at: string;
  expires_at: string;
};

const toExec = (r: ExecRow): ExecTokenRecord => ({
  id: r.id,
  userId: r.user_id,
  connection: r.connection,
  name: r.name,
  prefix: r.prefix,
  readOnly: r.read_only === 1,
  durationSeconds: r.duration_seconds,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

const EXEC_COLUMNS = [
  'id',
  'user_id',
  'connection',
  'name',
  'prefix',
  'read_only',
  'duration_seconds',
  'created_at',
  'expires_at',
] as const;

type RevocationRow = {
  id: string;
  user_id: string;
  username: string;
  connection: string;
  role_arn: string;
  role_id: string;
  session_name: string;
  revoked_by: string;
  revoked_at: string;
  deny_until: string;
};

const toRevocation = (r: RevocationRow): RevocationRecord => ({
  id: r.id,
  userId: r.user_id,
  username: r.username,
  connection: r.connection,
  roleArn: r.role_arn,
  roleId: r.role_id,
  sessionName: r.session_name,
  revokedBy: r.revoked_by,
  revokedAt: r.revoked_at,
  denyUntil: r.deny_until,
});

export function createFastpathStore(db: Db): FastpathStore {
  return {
    async createExecToken(record, tokenHash) {
      await db
        .insertInto('exec_tokens')
        .values({
          id: record.id,
          token_hash: tokenHash,
          user_id: record.userId,
          connection: record.connection,
          name: record.name,
          prefix: record.prefix,
          read_only: record.readOnly ? 1 : 0,
          duration_seconds: record.durationSeconds,
          created_at: record.createdAt,
          expires_at: record.expiresAt,
        })
        .execute();
    },
    async findExecTokenByHash(tokenHash) {
      const row = await db
        .selectFrom('exec_tokens')
        .select(EXEC_COLUMNS)
        .where('token_hash', '=', tokenHash)
        .executeTakeFirst();
      return row && toExec(row);
    },
    async findExecToken(id) {
      const row = await db.selectFrom('exec_tokens').select(EXEC_COLUMNS).where('id', '=', id).executeTakeFirst();
      return row && toExec(row);
    },
    async listExecTokens(userId) {
      const rows = await db
        .selectFrom('exec_tokens')
        .select(EXEC_COLUMNS)
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .execute();
      return rows.map(toExec);
    },
    async deleteExecToken(id) {
      const r = await db.deleteFrom('exec_tokens').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async deleteExecTokensOf(userId, connection) {
      const r = await db
        .deleteFrom('exec_tokens')
        .where('user_id', '=', userId)
        .where('connection', '=', connection)
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    async deleteExpiredExecTokens(now) {
      const r = await db.deleteFrom('exec_tokens').where('expires_at', '<=', now).executeTakeFirst();
      return Number(r.numDeletedRows);
    },

    async generation(userId, connection) {
      const row = await db
        .selectFrom('session_generations')
        .select('generation')
        .where('user_id', '=', userId)
        .where('connection', '=', connection)
        .executeTakeFirst();
      return row?.generation ?? 0;
    },
    async bumpGeneration(userId, connection, now) {
      return db.transaction().execute(async (tx) => {
        const row = await tx
          .selectFrom('session_generations')
          .select('generation')
          .where('user_id', '=', userId)
          .where('connection', '=', connection)
          .executeTakeFirst();
        const next = (row?.generation ?? 0) + 1;
        await tx
          .insertInto('session_generations')
          .values({ user_id: userId, connection, generation: next, updated_at: now })
          .onConflict((oc) => oc.columns(['user_id', 'connection']).doUpdateSet({ generation: next, updated_at: now }))
          .execute();
        return next;
      });
    },

    async recordIssued(record) {
      await db
        .insertInto('issued_role_sessions')
        .values({
          user_id: record.userId,
          connection: record.connection,
          role_arn: record.roleArn,
          session_name: record.sessionName,
          expires_at: record.expiresAt,
        })
        .onConflict((oc) =>
          oc
            .columns(['user_id', 'connection', 'role_arn', 'session_name'])
            .doUpdateSet({ expires_at: record.expiresAt })
            // ISO-8601 UTC strings order like the instants they name.
            .where('issued_role_sessions.expires_at', '<', record.expiresAt),
        )
        .execute();
    },
    async issuedSessions(userId, connection, now) {
      const rows = await db
        .selectFrom('issued_role_sessions')
        .selectAll()
        .where('user_id', '=', userId)
        .where('connection', '=', connection)
        .where('expires_at', '>', now)
        .execute();
      return rows.map((r) => ({
        userId: r.user_id,
        connection: r.connection,
        roleArn: r.role_arn,
        sessionName: r.session_name,
        expiresAt: r.expires_at,
      }));
    },
    async deleteExpiredIssued(now) {
      const r = await db.deleteFrom('issued_role_sessions').where('expires_at', '<=', now).executeTakeFirst();
      return Number(r.numDeletedRows);
    },

    async addRevocations(records) {
      if (records.length === 0) return;
      await db
        .insertInto('session_revocations')
        .values(
          records.map((r) => ({
            id: r.id,
            user_id: r.userId,
            username: r.username,
            connection: r.connection,
            role_arn: r.roleArn,
            role_id: r.roleId,
            session_name: r.sessionName,
            revoked_by: r.revokedBy,
            revoked_at: r.revokedAt,
            deny_until: r.denyUntil,
          })),
        )
        .execute();
    },
    async activeRevocations(roleArn, now) {
      const rows = await db
        .selectFrom('session_revocations')
        .selectAll()
        .where('role_arn', '=', roleArn)
        .where('deny_until', '>', now)
        .execute();
      return rows.map(toRevocation);
    },
    async listRevocations(connection) {
      const rows = await db
        .selectFrom('session_revocations')
        .selectAll()
        .where('connection', '=', connection)
        .orderBy('revoked_at', 'desc')
        .execute();
      return rows.map(toRevocation);
    },
  };
}
