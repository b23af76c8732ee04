import type { Principal, UserRole } from '../../domain/model.js';
import { conflict, invalidInput, notFound, permissionDenied, unauthenticated } from '../../errors/errors.js';
import type { Clock } from '../../lib/clock.js';
import { generateApiToken, hashToken, looksLikeApiToken, randomId } from '../../lib/tokens.js';
import { TtlCache } from '../../lib/ttl-cache.js';
import type { IdentityStore, TokenRecord, UserRecord } from './identity.store.js';

export const USERNAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;
export const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const PROPERTY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_PROPERTY_VALUE = 2048;

export interface UserView {
  readonly username: string;
  readonly role: UserRole;
  readonly groups: string[];
  /** Names only: values are admin-set and never echoed back. */
  readonly propertyNames: string[];
  readonly createdAt: string;
}

export interface IssuedToken {
  readonly id: string;
  readonly name: string;
  /** Shown once; only its hash is stored. */
  readonly token: string;
  readonly expiresAt: string | null;
}

export interface IdentityServiceDeps {
  readonly store: IdentityStore;
  readonly clock: Clock;
  /** How long an authenticated token stays cached (0 disables the cache). */
  readonly authCacheTtlMs?: number;
  /** Told when a user's properties or groups change, so cached role sessions are dropped. */
  readonly onUserChanged?: (userId: string) => void;
  /** Told when one of a user's tokens is revoked (other instances drop their cached principals of the user). */
  readonly onTokenRevoked?: (userId: string) => void;
}

export type IdentityService = ReturnType<typeof createIdentityService>;

export function requireAdmin(actor: Principal): void {
  if (actor.role !== 'admin') throw permissionDenied('auth.admin_required', 'this operation requires an administrator');
}

/** Users, groups, admin properties and API tokens: rules and permission checks. */
export function createIdentityService(deps: IdentityServiceDeps) {
  const { store, clock } = deps;
  const nowIso = () => new Date(clock.now()).toISOString();
  // Authentication runs on every request; its four lookups are cached per token and dropped on any change
  // to the user. The TTL bounds how long a change made by another instance can go unseen.
  const principals = new TtlCache<string, { principal: Principal; tokenId: string }>({
    ttlMs: deps.authCacheTtlMs ?? 5_000,
    maxEntries: 10_000,
    clock,
  });
  const changed = (userId: string) => {
    principals.deleteWhere((p) => p.principal.userId === userId);
    deps.onUserChanged?.(userId);
  };

  async function userByName(username: string): Promise<UserRecord> {
    const user = await store.findUserByName(username);
    if (user === undefined) throw notFound('user.not_found', `user "${username}" does not exist`);
    return user;
  }

  async function principalOf(user: UserRecord): Promise<Principal> {
    const [groups, adminProperties] = await Promise.all([store.groupsOf(user.id), store.propertiesOf(user.id)]);
    return Object.freeze({
      userId: user.id,
      username: user.username,
      role: user.role,
      groups: Object.freeze(groups),
      adminProperties: Object.freeze(adminProperties),
    });
  }

  async function view(user: UserRecord): Promise<UserView> {
    const p = await principalOf(user);
    return {
      username: user.username,
      role: user.role,
      groups: [...p.groups],
      propertyNames: Object.keys(p.adminProperties),
      createdAt: user.createdAt,
    };
  }

  async function issueToken(user: UserRecord, name: string, expiresInDays: number | undefined): Promise<IssuedToken> {
    if (name.length < 1 || name.length > 100)
      throw invalidInput('token.invalid_name', 'token name must be 1–100 characters');
    const token = generateApiToken();
    const now = clock.now();
    const expiresAt = expiresInDays === undefined ? null : new Date(now + expiresInDays * 86_400_000).toISOString();
    const record: TokenRecord = {
      id: randomId('tok'),
      userId: user.id,
      name,
      createdAt: new Date(now).toISOString(),
      expiresAt,
      lastUsedAt: null,
    };
    await store.createToken(record, hashToken(token));
    return { id: record.id, name, token, expiresAt };
  }

  return {
    /** Resolves an API token to its principal. Unknown, malformed and expired tokens look the same to the caller. */
    async authenticate(token: string): Promise<Principal> {
      const denied = () => unauthenticated('auth.invalid_token', 'the API token is missing, invalid or expired');
      if (!looksLikeApiToken(token)) throw denied();
      const hash = hashToken(token);
      const cached = principals.get(hash);
      if (cached !== undefined) return cached.principal;
      const record = await store.findTokenByHash(hash);
      if (record === undefined) throw denied();
      const expiresAt = record.expiresAt === null ? Number.POSITIVE_INFINITY : Date.parse(record.expiresAt);
      if (expiresAt <= clock.now()) throw denied();
      const user = await store.findUserById(record.userId);
      if (user === undefined) throw denied();
      const principal = await principalOf(user);
      principals.set(hash, { principal, tokenId: record.id }, expiresAt);
      return principal;
    },

    async createUser(actor: Principal, input: { username: string; role: UserRole }): Promise<UserView> {
      requireAdmin(actor);
      return this.createUserUnchecked(input);
    },

    /** For bootstrap (`rolegate init`, the demo): no actor exists yet. */
    async createUserUnchecked(input: { username: string; role: UserRole }): Promise<UserView> {
      if (!USERNAME.test(input.username)) {
        throw invalidInput(
          'user.invalid_name',
          'username: 1–64 lower-case letters, digits and ._@- starting with a letter or digit',
        );
      }
      const user: UserRecord = { id: randomId('usr'), username: input.username, role: input.role, createdAt: nowIso() };
      await store.createUser(user);
      return view(user);
    },

    async listUsers(actor: Principal): Promise<UserView[]> {
      requireAdmin(actor);
      return Promise.all((await store.listUsers()).map(view));
    },

    /** The principal of a user by id, for credentials that stand for one (exec tokens); undefined when gone. */
    async principalById(userId: string): Promise<Principal | undefined> {
      const user = await store.findUserById(userId);
      return user === undefined ? undefined : principalOf(user);
    },

    /**
     * Single sign-on: the user with id `userId`, or a new analyst named `username` when `userId` is undefined,
     * member of exactly `groups` afterwards (missing groups are created: the identity provider is the source of
     * truth for its users' groups). A new name that a user already has is refused: a login never takes over a
     * user it is not linked to.
     */
    async syncFederatedUser(input: {
      userId: string | undefined;
      username: string;
      groups: readonly string[];
    }): Promise<Principal> {
      let user: UserRecord | undefined;
      if (input.userId !== undefined) {
        user = await store.findUserById(input.userId);
        if (user === undefined) throw notFound('user.not_found', 'the linked user no longer exists');
      } else {
        if ((await store.findUserByName(input.username)) !== undefined) {
          throw permissionDenied(
            'auth.oidc_user_exists',
            `user "${input.username}" exists and is not linked to this identity provider`,
          );
        }
        await this.createUserUnchecked({ username: input.username, role: 'analyst' });
        user = await userByName(input.username);
      }
      const current = new Set(await store.groupsOf(user.id));
      const wanted = new Set(input.groups.filter((g) => GROUP_NAME.test(g)));
      let changes = 0;
      for (const group of wanted) {
        if (current.has(group)) continue;
        if ((await store.findGroup(group)) === undefined) {
          await store.createGroup({ name: group, description: 'from single sign-on', createdAt: nowIso() });
        }
        await store.addMember(group, user.id);
        changes++;
      }
      for (const group of current) {
        if (!wanted.has(group) && (await store.removeMember(group, user.id))) changes++;
      }
      if (changes > 0) changed(user.id);
      return principalOf(user);
    },

    /** The principal of another user, as rolegate would see them (admins, or users asking about themselves). */
    async principalFor(actor: Principal, username: string): Promise<Principal> {
      if (actor.role !== 'admin' && actor.username !== username) {
        throw notFound('user.not_found', `user "${username}" does not exist`);
      }
      return principalOf(await userByName(username));
    },

    async getUser(actor: Principal, username: string): Promise<UserView> {
      if (actor.role !== 'admin' && actor.username !== username)
        throw notFound('user.not_found', `user "${username}" does not exist`);
      return view(await userByName(username));
    },

    async deleteUser(actor: Principal, username: string): Promise<void> {
      requireAdmin(actor);
      const user = await userByName(username);
      if (user.id === actor.userId) throw conflict('user.delete_self', 'administrators cannot delete themselves');
      await store.deleteUser(user.id);
      changed(user.id);
    },

    async countAdmins(): Promise<number> {
      return store.countAdmins();
    },

    async setProperty(actor: Principal, username: string, name: string, value: string): Promise<void> {
      requireAdmin(actor);
      if (!PROPERTY_NAME.test(name))
        throw invalidInput('property.invalid_name', 'property name: 1–64 letters, digits and _.-');
      if (value.length === 0 || value.length > MAX_PROPERTY_VALUE) {
        throw invalidInput(
          'property.invalid_value',
          `property "${name}": value must be 1–${MAX_PROPERTY_VALUE} characters`,
        );
      }
      const user = await userByName(username);
      await store.setProperty(user.id, name, value, nowIso());
      changed(user.id);
    },

    async deleteProperty(actor: Principal, username: string, name: string): Promise<void> {
      requireAdmin(actor);
      const user = await userByName(username);
      if (!(await store.deleteProperty(user.id, name))) {
        throw notFound('property.not_found', `user "${username}" has no property "${name}"`);
      }
      changed(user.id);
    },

    async createGroup(actor: Principal, input: { name: string; description?: string | undefined }) {
      requireAdmin(actor);
      if (!GROUP_NAME.test(input.name))
        throw invalidInput('group.invalid_name', 'group name: 1–64 letters, digits and ._-');
      const group = { name: input.name, description: input.description ?? '', createdAt: nowIso() };
      await store.createGroup(group);
      return { ...group, members: [] as string[] };
    },

    async listGroups(actor: Principal) {
      requireAdmin(actor);
      const groups = await store.listGroups();
      return Promise.all(groups.map(async (g) => ({ ...g, members: await store.membersOf(g.name) })));
    },

    async deleteGroup(actor: Principal, name: string): Promise<void> {
      requireAdmin(actor);
      const members = await store.membersOf(name);
      if (!(await store.deleteGroup(name))) throw notFound('group.not_found', `group "${name}" does not exist`);
      for (const username of members) {
        const u = await store.findUserByName(username);
        if (u) changed(u.id);
      }
    },

    async addMember(actor: Principal, group: string, username: string): Promise<void> {
      requireAdmin(actor);
      if ((await store.findGroup(group)) === undefined)
        throw notFound('group.not_found', `group "${group}" does not exist`);
      const user = await userByName(username);
      await store.addMember(group, user.id);
      changed(user.id);
    },

    async removeMember(actor: Principal, group: string, username: string): Promise<void> {
      requireAdmin(actor);
      const user = await userByName(username);
      if (!(await store.removeMember(group, user.id))) {
        throw notFound('group.member_not_found', `user "${username}" is not a member of group "${group}"`);
      }
      changed(user.id);
    },

    /** Admins issue tokens for anyone; users for themselves. */
    async createToken(actor: Principal, username: string, input: { name: string; expiresInDays?: number | undefined }) {
      if (actor.role !== 'admin' && actor.username !== username)
        throw notFound('user.not_found', `user "${username}" does not exist`);
      return issueToken(await userByName(username), input.name, input.expiresInDays);
    },

    /** Bootstrap: a token for a user, without an actor. */
    async createTokenUnchecked(username: string, name: string): Promise<IssuedToken> {
      return issueToken(await userByName(username), name, undefined);
    },

    async listTokens(actor: Principal, username: string): Promise<TokenRecord[]> {
      if (actor.role !== 'admin' && actor.username !== username)
        throw notFound('user.not_found', `user "${username}" does not exist`);
      return store.listTokens((await userByName(username)).id);
    },

    async revokeToken(actor: Principal, username: string, tokenId: string): Promise<void> {
      if (actor.role !== 'admin' && actor.username !== username)
        throw notFound('user.not_found', `user "${username}" does not exist`);
      const user = await userByName(username);
      const owned = (await store.listTokens(user.id)).some((t) => t.id === tokenId);
      if (!owned || !(await store.deleteToken(tokenId)))
        throw notFound('token.not_found', `token ${tokenId} does not exist`);
      principals.deleteWhere((p) => p.tokenId === tokenId);
      deps.onTokenRevoked?.(user.id);
    },

    /** Drops this instance's cached principals of a user (another instance changed it). */
    forgetCachedUser(userId: string): void {
      principals.deleteWhere((p) => p.principal.userId === userId);
    },

    /** Drops every cached principal (changes may have been missed). */
    forgetAllCached(): void {
      principals.clear();
    },

    async me(actor: Principal): Promise<UserView> {
      return view(await userByName(actor.username));
    },
  };
}
