import type { Connection, Principal } from '../../domain/model.js';
import { buildRevocationPolicy, REVOCATION_POLICY_NAME } from '../../domain/revocation.js';
import { notFound, RolegateError, upstreamRejected } from '../../errors/errors.js';
import type { Clock } from '../../lib/clock.js';
import { randomId } from '../../lib/tokens.js';
import type { ConnectionsService } from '../connections/connections.service.js';
import type { ConnectionStore } from '../connections/connections.store.js';
import type { CredentialEngine, IssuedRoleSession } from '../credentials/credential-engine.js';
import type { IdentityService } from '../identity/identity.service.js';
import { requireAdmin } from '../identity/identity.service.js';
import type { FastpathStore, RevocationRecord } from './fastpath.store.js';

export interface RevocationResult {
  readonly connection: string;
  readonly username: string;
  /** Role session names denied at the backend (no secret: names show in CloudTrail anyway). */
  readonly revokedSessions: Array<{ roleArn: string; sessionName: string }>;
  /** The new session-name generation: credentials issued from now on carry it. */
  readonly generation: number;
  /** Exec tokens of this user on this connection that were deleted with it. */
  readonly execTokensDeleted: number;
  readonly revokedAt: string;
}

export interface RevocationServiceDeps {
  readonly store: Pick<
    FastpathStore,
    | 'generation'
    | 'bumpGeneration'
    | 'recordIssued'
    | 'issuedSessions'
    | 'deleteExpiredIssued'
    | 'addRevocations'
    | 'activeRevocations'
    | 'listRevocations'
    | 'deleteExecTokensOf'
  >;
  readonly connectionStore: Pick<ConnectionStore, 'find'>;
  readonly connections: Pick<ConnectionsService, 'resolveForUse'>;
  readonly identity: Pick<IdentityService, 'principalFor'>;
  readonly engine: Pick<CredentialEngine, 'forgetUserConnection' | 'roleIdOf' | 'putRolePolicy'>;
  /** Told once a revocation took effect here: the other instances must drop their sessions and generation too. */
  readonly onRevoked?: (userId: string, connection: string) => void;
  readonly clock: Clock;
}

export type RevocationService = ReturnType<typeof createRevocationService>;

/**
 * Revoking a user's issued role sessions on a connection before they expire (see domain/revocation.ts):
 * rotate the session name, drop cached sessions and exec tokens, deny the issued names on their roles, record.
 * Also the source of session-name generations and the record of issued sessions the engine uses.
 */
export function createRevocationService(deps: RevocationServiceDeps) {
  const { store, clock } = deps;
  const nowIso = () => new Date(clock.now()).toISOString();
  // Generations change through a revocation: this instance's writes through, another's arrives as a change
  // (onRevoked there, forgetGeneration here), so they are cached without expiry.
  const generations = new Map<string, number>();
  const key = (userId: string, connection: string) => `${userId}\u0000${connection}`;
  // Read-modify-write of one role's policy is serialised per role within this process.
  const roleLocks = new Map<string, Promise<unknown>>();

  function serialised<T>(lockKey: string, fn: () => Promise<T>): Promise<T> {
    const previous = roleLocks.get(lockKey) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
    roleLocks.set(lockKey, next);
    const release = () => {
      if (roleLocks.get(lockKey) === next) roleLocks.delete(lockKey);
    };
    // The caller gets `next` and its failure; this bookkeeping branch must not reject unhandled.
    next.then(release, release);
    return next;
  }

  /** The connection as stored: admins revoke on connections they may not use themselves. */
  async function connectionFor(actor: Principal, name: string): Promise<Connection> {
    if (actor.role !== 'admin') return (await deps.connections.resolveForUse(actor, name)).connection;
    const record = await deps.connectionStore.find(name);
    if (record === undefined) throw notFound('connection.not_found', `connection "${name}" does not exist`);
    return record.connection;
  }

  /** Denies `names` (all of one role) at the backend and rebuilds the role's revocation policy. */
  async function denyOnRole(
    connection: Connection,
    roleArn: string,
    issued: readonly IssuedRoleSession[],
    meta: { userId: string; username: string; revokedBy: string; revokedAt: string },
  ): Promise<void> {
    await serialised(roleArn, async () => {
      const roleId = await deps.engine.roleIdOf(connection, roleArn);
      const records: RevocationRecord[] = issued.map((s) => ({
        id: randomId('rvk'),
        userId: meta.userId,
        username: meta.username,
        connection: connection.name,
        roleArn,
        roleId,
        sessionName: s.sessionName,
        revokedBy: meta.revokedBy,
        revokedAt: meta.revokedAt,
        denyUntil: s.expiresAt.toISOString(),
      }));
      await store.addRevocations(records);
      // Rebuilt from every unexpired revocation of this role (other users', other connections'), so expired
      // entries fall out and the policy stays small.
      const active = (await store.activeRevocations(roleArn, nowIso())).filter((r) => r.roleId === roleId);
      await deps.engine.putRolePolicy(connection, roleArn, REVOCATION_POLICY_NAME, buildRevocationPolicy(active));
    });
  }

  return {
    /** For the credential engine: the session-name generation of (user, connection). */
    async currentGeneration(userId: string, connection: string): Promise<number> {
      const k = key(userId, connection);
      const cached = generations.get(k);
      if (cached !== undefined) return cached;
      const g = await store.generation(userId, connection);
      generations.set(k, g);
      return g;
    },

    /** Forgets a generation another instance bumped: the next session is named after the stored one. */
    forgetGeneration(userId: string, connection: string): void {
      generations.delete(key(userId, connection));
    },

    /** Forgets every cached generation (this instance may have missed other instances' revocations). */
    forgetAllGenerations(): void {
      generations.clear();
    },

    /** For the credential engine: remember an issued session so that it can be revoked. */
    async recordIssued(issued: IssuedRoleSession): Promise<void> {
      await store.recordIssued({
        userId: issued.userId,
        connection: issued.connection,
        roleArn: issued.roleArn,
        sessionName: issued.sessionName,
        expiresAt: issued.expiresAt.toISOString(),
      });
    },

    /**
     * Revokes every unexpired role session issued to `username` on `connectionName`. Admins revoke anyone's;
     * users their own. Rolegate stops handing the sessions out first (new name, cache and exec tokens dropped),
     * then makes the backend refuse them.
     *
     * @throws RolegateError `revocation.backend_refused` when the role policy could not be written: rolegate no
     *   longer hands the sessions out, but they stay valid at S3 until they expire.
     */
    async revoke(actor: Principal, connectionName: string, username: string): Promise<RevocationResult> {
      const target = await deps.identity.principalFor(actor, username);
      const connection = await connectionFor(actor, connectionName);
      const revokedAt = nowIso();
      const generation = await store.bumpGeneration(target.userId, connection.name, revokedAt);
      generations.set(key(target.userId, connection.name), generation);
      deps.engine.forgetUserConnection(target.userId, connection.name);
      deps.onRevoked?.(target.userId, connection.name);
      const execTokensDeleted = await store.deleteExecTokensOf(target.userId, connection.name);
      await store.deleteExpiredIssued(revokedAt);

      // Everything issued before the bump carries an older generation. A session whose STS call was already
      // in flight is recorded before it is handed out, so reading after the bump sees all but that race.
      const issued = await store.issuedSessions(target.userId, connection.name, revokedAt);
      const byRole = new Map<string, IssuedRoleSession[]>();
      for (const s of issued) {
        const list = byRole.get(s.roleArn) ?? [];
        list.push({ ...s, expiresAt: new Date(s.expiresAt) });
        byRole.set(s.roleArn, list);
      }
      const meta = { userId: target.userId, username: target.username, revokedBy: actor.username, revokedAt };
      for (const [roleArn, sessions] of byRole) {
        try {
          await denyOnRole(connection, roleArn, sessions, meta);
        } catch (error) {
          const why = error instanceof RolegateError ? `${error.message} [${error.code}]` : 'unexpected error';
          throw upstreamRejected(
            'revocation.backend_refused',
            `rolegate no longer hands out ${username}'s sessions on "${connection.name}", but could not make the ` +
              `backend refuse the ones already issued (they stay valid until they expire): ${why}`,
            { cause: error, details: { connection: connection.name } },
          );
        }
      }
      return {
        connection: connection.name,
        username: target.username,
        revokedSessions: issued.map((s) => ({ roleArn: s.roleArn, sessionName: s.sessionName })),
        generation,
        execTokensDeleted,
        revokedAt,
      };
    },

    /** The revocation record of a connection (admins). */
    async list(actor: Principal, connectionName: string): Promise<RevocationRecord[]> {
      requireAdmin(actor);
      return store.listRevocations(connectionName);
    },
  };
}
