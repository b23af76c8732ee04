import { randomBytes } from 'node:crypto';
import { type EntitledRole, entitledRoles, isEntitled } from '../../domain/entitlement.js';
import type { Principal } from '../../domain/model.js';
import { invalidInput, notFound, permissionDenied, unauthenticated } from '../../errors/errors.js';
import type { Clock } from '../../lib/clock.js';
import { hashToken, randomId } from '../../lib/tokens.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { outcomeOf, withRequestFacts } from '../audit/audited-credentials.js';
import type { IdentityService } from '../identity/identity.service.js';
import type { FederationStore, SessionRecord } from './federation.store.js';

/** Session tokens look like `rgs_<43 base64url chars>`: told apart from API tokens (`rg_`) by their prefix. */
const SESSION_TOKEN = /^rgs_[A-Za-z0-9_-]{43}$/;
const SESSION_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._@:-]{0,99}$/;

export function isSessionToken(token: string): boolean {
  return token.startsWith('rgs_');
}

export interface SessionView {
  readonly id: string;
  readonly name: string;
  readonly roleArn: string | null;
  readonly createdAt: string;
  readonly expiresAt: string;
}

export interface SessionsServiceDeps {
  readonly store: Pick<
    FederationStore,
    | 'createSession'
    | 'findSession'
    | 'findSessionByTokenHash'
    | 'listSessions'
    | 'setSessionRole'
    | 'deleteSession'
    | 'idpRolesOf'
  >;
  readonly identity: Pick<IdentityService, 'principalById'>;
  readonly trail: Pick<AuditTrail, 'record'>;
  readonly clock: Clock;
  /** How long a session token is valid; default 12 hours. */
  readonly sessionTtlSeconds?: number;
}

export type SessionsService = ReturnType<typeof createSessionsService>;

const view = (r: SessionRecord): SessionView => ({
  id: r.id,
  name: r.name,
  roleArn: r.roleArn,
  createdAt: r.createdAt,
  expiresAt: r.expiresAt,
});

/**
 * Rolegate sessions (a notebook, a job, a CLI shell), each with a current role chosen among the user's
 * entitled roles. A session has a bearer token of its own: requests made with it carry the session, so
 * connections whose role ARN is `${sessionRole}` use that role. Role switches are audited, fail-closed.
 */
export function createSessionsService(deps: SessionsServiceDeps) {
  const { store, clock } = deps;
  const ttlMs = (deps.sessionTtlSeconds ?? 12 * 3600) * 1000;

  async function rolesOf(principal: Principal): Promise<EntitledRole[]> {
    return entitledRoles(principal.adminProperties, await store.idpRolesOf(principal.userId));
  }

  async function owned(actor: Principal, id: string): Promise<SessionRecord> {
    const record = await store.findSession(id);
    // Another user's session does not exist for this caller.
    if (record === undefined || record.userId !== actor.userId) {
      throw notFound('session.not_found', `session ${JSON.stringify(id)} does not exist`);
    }
    return record;
  }

  async function audited<T>(
    actor: Principal,
    action: string,
    facts: { roleArn?: string | undefined; details?: Record<string, string> },
    run: () => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    const base = withRequestFacts(actor, { action, roleArn: facts.roleArn, details: facts.details });
    // Before the change, fail-closed, as the server does for every change it serves: none is made unrecorded.
    await deps.trail.record({ ...base, outcome: 'requested' });
    let result: T;
    try {
      result = await run();
    } catch (error) {
      await deps.trail.record({ ...base, ...outcomeOf(error), durationMs: performance.now() - started });
      throw error;
    }
    await deps.trail.record({ ...base, outcome: 'allowed', durationMs: performance.now() - started });
    return result;
  }

  function requireEntitled(roles: readonly EntitledRole[], roleArn: string): void {
    if (!isEntitled(roles, roleArn)) {
      // The ARN is the caller's own input: naming it leaks nothing; which roles exist is not told.
      throw permissionDenied('session.role_not_entitled', 'you are not entitled to this role', {
        details: { roleArn },
      });
    }
  }

  return {
    /** The roles the caller may assume, with where each comes from. */
    async entitledRoles(actor: Principal): Promise<EntitledRole[]> {
      return rolesOf(actor);
    },

    /** Creates a session; its role is `roleArn` (must be entitled) or the first entitled role. Token shown once. */
    async create(
      actor: Principal,
      input: { name?: string | undefined; roleArn?: string | undefined },
    ): Promise<SessionView & { token: string }> {
      const name = input.name ?? 'session';
      if (!SESSION_NAME.test(name)) {
        throw invalidInput('session.invalid_name', 'session name: 1–100 letters, digits, spaces and ._@:-');
      }
      return audited(actor, 'session.create', { roleArn: input.roleArn }, async () => {
        const roles = await rolesOf(actor);
        if (input.roleArn !== undefined) requireEntitled(roles, input.roleArn);
        const now = clock.now();
        const record: SessionRecord = {
          id: randomId('ses'),
          userId: actor.userId,
          name,
          roleArn: input.roleArn ?? roles[0]?.roleArn ?? null,
          createdAt: new Date(now).toISOString(),
          expiresAt: new Date(now + ttlMs).toISOString(),
        };
        const token = `rgs_${randomBytes(32).toString('base64url')}`;
        await store.createSession(record, hashToken(token));
        return { ...view(record), token };
      });
    },

    async list(actor: Principal): Promise<SessionView[]> {
      const now = clock.now();
      return (await store.listSessions(actor.userId)).filter((s) => Date.parse(s.expiresAt) > now).map(view);
    },

    /** Switches a session's role; refused (and audited as denied) when the caller is not entitled to it. */
    async setRole(actor: Principal, id: string, roleArn: string): Promise<SessionView> {
      return audited(actor, 'session.role_switch', { roleArn, details: { session: id } }, async () => {
        const record = await owned(actor, id);
        requireEntitled(await rolesOf(actor), roleArn);
        await store.setSessionRole(record.id, roleArn);
        return view({ ...record, roleArn });
      });
    },

    /** Ends a session (a logout): its token stops working at once. */
    async delete(actor: Principal, id: string): Promise<void> {
      await audited(actor, 'session.delete', { details: { session: id } }, async () => {
        await owned(actor, id);
        await store.deleteSession(id);
      });
    },

    /**
     * The principal of a session's user carrying the session (its role only while still entitled), expired or
     * not: for cleaning up after it (aborting an upload it left), never to authenticate a request. Undefined when
     * the user is gone; the user's plain principal when the session is.
     */
    async principalOfSession(userId: string, sessionId: string): Promise<Principal | undefined> {
      const principal = await deps.identity.principalById(userId);
      if (principal === undefined) return undefined;
      const record = await store.findSession(sessionId);
      if (record === undefined || record.userId !== userId) return principal;
      const roleArn =
        record.roleArn !== null && isEntitled(await rolesOf(principal), record.roleArn) ? record.roleArn : undefined;
      return Object.freeze({ ...principal, session: Object.freeze({ id: record.id, roleArn }) });
    },

    /**
     * Resolves a session token to its user's principal carrying the session. The session's role is re-checked
     * against the current entitlements on every request: a role taken away stops working at once.
     */
    async authenticate(token: string): Promise<Principal> {
      const denied = () => unauthenticated('auth.invalid_token', 'the API token is missing, invalid or expired');
      if (!SESSION_TOKEN.test(token)) throw denied();
      const record = await store.findSessionByTokenHash(hashToken(token));
      if (record === undefined || Date.parse(record.expiresAt) <= clock.now()) throw denied();
      const principal = await deps.identity.principalById(record.userId);
      if (principal === undefined) throw denied();
      const roleArn =
        record.roleArn !== null && isEntitled(await rolesOf(principal), record.roleArn) ? record.roleArn : undefined;
      return Object.freeze({ ...principal, session: Object.freeze({ id: record.id, roleArn }) });
    },
  };
}
