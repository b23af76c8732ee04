import type { Db } from '../../db/connect.js';
import { isUniqueViolation } from '../../db/connect.js';
import type { UserRole } from '../../domain/model.js';
import { conflict } from '../../errors/errors.js';

export interface UserRecord {
  readonly id: string;
  readonly username: string;
  readonly role: UserRole;
  readonly createdAt: string;
}

export interface GroupRecord {
  readonly name: string;
  readonly description: string;
  readonly createdAt: string;
}

export interface TokenRecord {
  readonly id: string;
  readonly userId: string;
  readonly name: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
}

/** Users, groups, memberships, admin properties and API tokens. */
export interface IdentityStore {
  createUser(user: UserRecord): Promise<void>;
  findUserByName(username: string): Promise<UserRecord | undefined>;
  findUserById(id: string): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  deleteUser(id: string): Promise<boolean>;
  countAdmins(): Promise<number>;

  createGroup(group: GroupRecord): Promise<void>;
  findGroup(name: string): Promise<GroupRecord | undefined>;
  listGroups(): Promise<GroupRecord[]>;
  deleteGroup(name: string): Promise<boolean>;
  addMember(group: string, userId: string): Promise<void>;
  removeMember(group: string, userId: string): Promise<boolean>;
  groupsOf(userId: string): Promise<string[]>;
  membersOf(group: string): Promise<string[]>;

  setProperty(userId: string, name: string, value: string, now: string): Promise<void>;
  deleteProperty(userId: string, name: string): Promise<boolean>;
  propertiesOf(userId: string): Promise<Record<string, string>>;

  createToken(token: TokenRecord, tokenHash: string): Promise<void>;
  findTokenByHash(tokenHash: string): Promise<TokenRecord | undefined>;
  listTokens(userId: string): Promise<TokenRecord[]>;
  deleteToken(id: string): Promise<boolean>;
  touchToken(id: string, now: string): Promise<void>;
}

export function createIdentityStore(db: Db): IdentityStore {
  const toUser = (r: { id: string; username: string; role: UserRole; created_at: string }): UserRecord => ({
    id: r.id,
    username: r.username,
    role: r.role,
    createdAt: r.created_at,
  });
  const toToken = (r: {
    id: string;
    user_id: string;
    name: string;
    created_at: string;
    expires_at: string | null;
    last_used_at: string | null;
  }): TokenRecord => ({
    id: r.id,
    userId: r.user_id,
    name: r.name,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    lastUsedAt: r.last_used_at,
  });

  return {
    async createUser(user) {
      try {
        await db
          .insertInto('users')
          .values({ id: user.id, username: user.username, role: user.role, created_at: user.createdAt })
          .execute();
      } catch (e) {
        if (isUniqueViolation(e)) throw conflict('user.exists', `user "${user.username}" already exists`);
        throw e;
      }
    },
    async findUserByName(username) {
      const row = await db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
      return row && toUser(row);
    },
    async findUserById(id) {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toUser(row);
    },
    async listUsers() {
      const rows = await db.selectFrom('users').selectAll().orderBy('username').execute();
      return rows.map(toUser);
    },
    async deleteUser(id) {
      const r = await db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async countAdmins() {
      const r = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('role', '=', 'admin')
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },

    async createGroup(group) {
      try {
        await db
          .insertInto('groups')
          .values({ name: group.name, description: group.description, created_at: group.createdAt })
          .execute();
      } catch (e) {
        if (isUniqueViolation(e)) throw conflict('group.exists', `group "${group.name}" already exists`);
        throw e;
      }
    },
    async findGroup(name) {
      const row = await db.selectFrom('groups').selectAll().where('name', '=', name).executeTakeFirst();
      return row && { name: row.name, description: row.description, createdAt: row.created_at };
    },
    async listGroups() {
      const rows = await db.selectFrom('groups').selectAll().orderBy('name').execute();
      return rows.map((r) => ({ name: r.name, description: r.description, createdAt: r.created_at }));
    },
    async deleteGroup(name) {
      const r = await db.deleteFrom('groups').where('name', '=', name).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async addMember(group, userId) {
      await db
        .insertInto('group_members')
        .values({ group_name: group, user_id: userId })
        .onConflict((oc) => oc.doNothing())
        .execute();
    },
    async removeMember(group, userId) {
      const r = await db
        .deleteFrom('group_members')
        .where('group_name', '=', group)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async groupsOf(userId) {
      const rows = await db
        .selectFrom('group_members')
        .select('group_name')
        .where('user_id', '=', userId)
        .orderBy('group_name')
        .execute();
      return rows.map((r) => r.group_name);
    },
    async membersOf(group) {
      const rows = await db
        .selectFrom('group_members')
        .innerJoin('users', 'users.id', 'group_members.user_id')
        .select('users.username')
        .where('group_members.group_name', '=', group)
        .orderBy('users.username')
        .execute();
      return rows.map((r) => r.username);
    },

    async setProperty(userId, name, value, now) {
      await db
        .insertInto('user_properties')
        .values({ user_id: userId, name, value, updated_at: now })
        .onConflict((oc) => oc.columns(['user_id', 'name']).doUpdateSet({ value, updated_at: now }))
        .execute();
    },
    async deleteProperty(userId, name) {
      const r = await db
        .deleteFrom('user_properties')
        .where('user_id', '=', userId)
        .where('name', '=', name)
        .executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async propertiesOf(userId) {
      const rows = await db
        .selectFrom('user_properties')
        .select(['name', 'value'])
        .where('user_id', '=', userId)
        .orderBy('name')
        .execute();
      return Object.fromEntries(rows.map((r) => [r.name, r.value]));
    },

    async createToken(token, tokenHash) {
      await db
        .insertInto('api_tokens')
        .values({
          id: token.id,
          user_id: token.userId,
          name: token.name,
          token_hash: tokenHash,
          created_at: token.createdAt,
          expires_at: token.expiresAt,
          last_used_at: null,
        })
        .execute();
    },
    async findTokenByHash(tokenHash) {
      const row = await db
        .selectFrom('api_tokens')
        .select(['id', 'user_id', 'name', 'created_at', 'expires_at', 'last_used_at'])
        .where('token_hash', '=', tokenHash)
        .executeTakeFirst();
      return row && toToken(row);
    },
    async listTokens(userId) {
      const rows = await db
        .selectFrom('api_tokens')
        .select(['id', 'user_id', 'name', 'created_at', 'expires_at', 'last_used_at'])
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .execute();
      return rows.map(toToken);
    },
    async deleteToken(id) {
      const r = await db.deleteFrom('api_tokens').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async touchToken(id, now) {
      await db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
    },
  };
}
