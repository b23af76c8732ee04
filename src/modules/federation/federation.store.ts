import type { Db } from '../../db/connect.js';
import { isUniqueViolation } from '../../db/connect.js';
import type { IdpRoleGrant } from '../../domain/entitlement.js';
import { conflict } from '../../errors/errors.js';

/** A rolegate session as stored; its token exists only as a hash. */
export interface SessionRecord {
  readonly id: string;
  readonly userId: string;
  readonly name: string;
  readonly roleArn: string | null;
  readonly createdAt: string;
  readonly expiresAt: string;
}

/** An admin-defined mount: `/mnt/<path>` → connection + prefix, optionally bound to one role. */
export interface MountRecord {
  /** Canonical: lower-case segments joined by '/', no leading or trailing '/'. */
  readonly path: string;
  readonly connection: string;
  /** '' or a canonical prefix ending in '/', relative to the connection's path. */
  readonly prefix: string;
  readonly roleArn: string | null;
  readonly description: string;
  readonly createdAt: string;
}

/** Sessions, IdP role grants and mounts. */
export interface FederationStore {
  createSession(record: SessionRecord, tokenHash: string): Promise<void>;
  findSessionByTokenHash(hash: string): Promise<SessionRecord | undefined>;
  findSession(id: string): Promise<SessionRecord | undefined>;
  listSessions(userId: string): Promise<SessionRecord[]>;
  setSessionRole(id: string, roleArn: string): Promise<void>;
  deleteSession(id: string): Promise<boolean>;
  idpRolesOf(userId: string): Promise<IdpRoleGrant[]>;
  /** Replaces every role `provider` granted the user (a login brings the complete list). */
  replaceIdpRoles(userId: string, provider: string, roleArns: readonly string[], now: string): Promise<void>;
  createMount(mount: MountRecord): Promise<void>;
  listMounts(): Promise<MountRecord[]>;
  deleteMount(path: string): Promise<boolean>;
}

type SessionRow = {
  id: string;
  user_id: string;
  name: string;
  role_arn: string | null;
  created_at: string;
  expires_at: string;
};

const toSession = (r: SessionRow): SessionRecord => ({
  id: r.id,
  userId: r.user_id,
  name: r.name,
  roleArn: r.role_arn,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

const SESSION_COLUMNS = ['id', 'user_id', 'name', 'role_arn', 'created_at', 'expires_at'] as const;

export function createFederationStore(db: Db): FederationStore {
  return {
    async createSession(record, tokenHash) {
      await db
        .insertInto('user_sessions')
        .values({
          id: record.id,
          user_id: record.userId,
          token_hash: tokenHash,
          name: record.name,
          role_arn: record.roleArn,
          created_at: record.createdAt,
          expires_at: record.expiresAt,
        })
        .execute();
    },
    async findSessionByTokenHash(hash) {
      const row = await db
        .selectFrom('user_sessions')
        .select(SESSION_COLUMNS)
        .where('token_hash', '=', hash)
        .executeTakeFirst();
      return row && toSession(row);
    },
    async findSession(id) {
      const row = await db.selectFrom('user_sessions').select(SESSION_COLUMNS).where('id', '=', id).executeTakeFirst();
      return row && toSession(row);
    },
    async listSessions(userId) {
      const rows = await db
        .selectFrom('user_sessions')
        .select(SESSION_COLUMNS)
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toSession);
    },
    async setSessionRole(id, roleArn) {
      await db.updateTable('user_sessions').set({ role_arn: roleArn }).where('id', '=', id).execute();
    },
    async deleteSession(id) {
      const res = await db.deleteFrom('user_sessions').where('id', '=', id).executeTakeFirst();
      return Number(res.numDeletedRows) > 0;
    },
    async idpRolesOf(userId) {
      const rows = await db
        .selectFrom('user_idp_roles')
        .select(['role_arn', 'provider'])
        .where('user_id', '=', userId)
        .orderBy('provider')
        .orderBy('role_arn')
        .execute();
      return rows.map((r) => ({ roleArn: r.role_arn, provider: r.provider }));
    },
    async replaceIdpRoles(userId, provider, roleArns, now) {
      await db.transaction().execute(async (tx) => {
        await tx.deleteFrom('user_idp_roles').where('user_id', '=', userId).where('provider', '=', provider).execute();
        const unique = [...new Set(roleArns)];
        if (unique.length > 0) {
          await tx
            .insertInto('user_idp_roles')
            .values(unique.map((role_arn) => ({ user_id: userId, role_arn, provider, updated_at: now })))
            .execute();
        }
      });
    },
    async createMount(mount) {
      try {
        await db
          .insertInto('mounts')
          .values({
            path: mount.path,
            connection: mount.connection,
            prefix: mount.prefix,
            role_arn: mount.roleArn,
            description: mount.description,
            created_at: mount.createdAt,
          })
          .execute();
      } catch (e) {
        if (isUniqueViolation(e)) throw conflict('mount.exists', `mount "/mnt/${mount.path}" already exists`);
        throw e;
      }
    },
    async listMounts() {
      const rows = await db.selectFrom('mounts').selectAll().orderBy('path').execute();
      return rows.map((r) => ({
        path: r.path,
        connection: r.connection,
        prefix: r.prefix,
        roleArn: r.role_arn,
        description: r.description,
        createdAt: r.created_at,
      }));
    },
    async deleteMount(path) {
      const res = await db.deleteFrom('mounts').where('path', '=', path).executeTakeFirst();
      return Number(res.numDeletedRows) > 0;
    },
  };
}
