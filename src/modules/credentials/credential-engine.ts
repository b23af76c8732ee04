import type { CredentialSource } from '../../cloud/aws/environment-credentials.js';
import type { IamGateway } from '../../cloud/aws/iam.js';
import type { SamlStsGateway, StsGateway, WebIdentityStsGateway } from '../../cloud/aws/sts.js';
import type { AwsCredentials, Connection, Principal, RoleSession, Scope } from '../../domain/model.js';
import { parseRoleArn } from '../../domain/role-arn.js';
import { planRoleSession, type RoleSessionPlan, sessionPolicyOf } from '../../domain/role-session-plan.js';
import { internal, invalidInput, permissionDenied, unauthenticated } from '../../errors/errors.js';
import type { Clock } from '../../lib/clock.js';
import { LruMap } from '../../lib/lru-map.js';
import { SingleFlight } from '../../lib/single-flight.js';
import type { SharedSessionStore } from '../cluster/shared-sessions.store.js';
import { connectionSecretId, userKeypairId, type VaultStore } from './vault.store.js';

export interface CredentialEngineSettings {
  readonly refreshAheadSeconds: number;
  readonly cacheMaxEntries: number;
}

export interface CredentialEngineDeps {
  readonly sts: StsGateway;
  readonly vault: Pick<VaultStore, 'get'>;
  readonly environmentCredentials: CredentialSource;
  readonly clock: Clock;
  readonly settings: CredentialEngineSettings;
  /** Called when a background refresh fails (the cached session keeps serving until it expires). */
  readonly onRefreshError?: (error: unknown) => void;
  /** The session-name generation of (user, connection), bumped by revocation; default always 0. */
  readonly sessionGenerations?: { current(userId: string, connection: string): Promise<number> };
  /** Told of every role session STS issued, before it is handed out, so it can be revoked later. */
  readonly onIssued?: (issued: IssuedRoleSession) => Promise<void>;
  /** For revocation: role ids and inline role policies, with the connection's master credentials. */
  readonly iam?: IamGateway;
  /** Role sessions shared with the other instances on one PostgreSQL (one STS call per key cluster-wide). */
  readonly sharedSessions?: SharedSessionStore;
  /** Direct mode: AssumeRoleWithWebIdentity with the ID token kept with the caller's rolegate session. */
  readonly webIdentity?: {
    readonly sts: WebIdentityStsGateway;
    readonly idTokenOf: (sessionId: string) => Promise<string | undefined>;
  };
  /** Direct SAML: AssumeRoleWithSAML with the SAML response kept with the caller's rolegate session. */
  readonly saml?: {
    readonly sts: SamlStsGateway;
    readonly assertionOf: (
      sessionId: string,
    ) => Promise<{ samlResponse: string; providerArns: Readonly<Record<string, string>> } | undefined>;
  };
}

/** What revocation needs to know about an issued role session (no secret). */
export interface IssuedRoleSession {
  readonly userId: string;
  readonly connection: string;
  readonly roleArn: string;
  readonly sessionName: string;
  readonly expiresAt: Date;
}

/** Per-request choices on top of the scope. */
export interface ObtainOptions {
  /** Already bounded by the connection's duration; default the connection's. */
  readonly durationSeconds?: number | undefined;
}

export interface CredentialEngineStats {
  hits: number;
  misses: number;
  refreshes: number;
  stsCalls: number;
}

/**
 * Obtains role sessions. The only place that holds master credentials and calls STS.
 * Role sessions are cached per (user, connection version, role, scope), refreshed ahead of expiry,
 * and concurrent requests for the same key share one STS call.
 */
export interface CredentialEngine {
  obtain(
    principal: Principal,
    connection: Connection,
    connectionVersion: number,
    scope: Scope,
    options?: ObtainOptions,
  ): Promise<RoleSession>;
  /**
   * Drops cached sessions of a connection (after an edit or delete); `'local'` leaves the shared ones alone
   * (the instance that made the change dropped those).
   */
  forgetConnection(name: string, reach?: ForgetReach): void;
  /** Drops cached sessions of a user (after a property change or deletion). */
  forgetUser(userId: string, reach?: ForgetReach): void;
  /** Drops cached sessions of one user on one connection (after a revocation). */
  forgetUserConnection(userId: string, name: string, reach?: ForgetReach): void;
  /** Drops this instance's cached sessions (it may have missed changes made by other instances). */
  forgetAll(): void;
  /** The unique id of an assume-role connection's role (IAM GetRole with the master credentials). */
  roleIdOf(connection: Connection, roleArn: string): Promise<string>;
  /** Writes, or for `null` deletes, an inline policy of the role, with the connection's master credentials. */
  putRolePolicy(connection: Connection, roleArn: string, policyName: string, policy: string | null): Promise<void>;
  stats(): CredentialEngineStats;
}

/** Whether a forget also drops the sessions shared with other instances (default) or this instance's only. */
export type ForgetReach = 'cluster' | 'local';

/** Below this much remaining life a session is not handed out: the caller waits for a fresh one. */
const MIN_REMAINING_MS = 60_000;

interface CacheEntry {
  readonly session: RoleSession;
  readonly refreshAt: number;
  readonly expiresAt: number;
}

export function createCredentialEngine(deps: CredentialEngineDeps): CredentialEngine {
  const cache = new LruMap<string, CacheEntry>(deps.settings.cacheMaxEntries);
  const flights = new SingleFlight<string, CacheEntry>();
  /** Bumped by every forget, so that refreshes started before it do not re-cache what was forgotten. */
  let epoch = 0;
  /** Deletions of shared sessions in flight: an issue waits for them, so it never reads a forgotten session. */
  let forgetting: Promise<unknown> = Promise.resolve();
  const forgetShared = (reach: ForgetReach, drop: (shared: SharedSessionStore) => Promise<void>) => {
    if (reach === 'local' || deps.sharedSessions === undefined) return;
    const deletion = drop(deps.sharedSessions).catch((e: unknown) => deps.onRefreshError?.(e));
    forgetting = Promise.all([forgetting, deletion]).then(() => undefined);
  };
  const stats: CredentialEngineStats = { hits: 0, misses: 0, refreshes: 0, stsCalls: 0 };

  /** The credentials a connection's mode yields; `principal` is only needed for per-user keypairs. */
  async function staticCredentials(principal: Principal | undefined, connection: Connection): Promise<AwsCredentials> {
    switch (connection.mode) {
      case 'environment':
        return deps.environmentCredentials();
      case 'keypair':
        return vaultKeypair(connectionSecretId(connection.name), connection.name);
      case 'per-user-keypair': {
        if (principal === undefined) throw internal('credentials.no_principal', 'per-user keypairs need a user');
        const kp = await deps.vault.get(userKeypairId(principal.userId, connection.name));
        if (kp === undefined) {
          throw permissionDenied(
            'credentials.user_keypair_missing',
            `connection "${connection.name}" uses per-user keypairs and user "${principal.username}" has not stored one`,
            { details: { connection: connection.name } },
          );
        }
        return kp;
      }
      case 'assume-role':
        if (connection.assumeRole?.master === 'web-identity' || connection.assumeRole?.master === 'saml') {
          throw invalidInput(
            'credentials.no_master',
            `connection "${connection.name}" has no master credentials (it assumes roles with ${
              connection.assumeRole.master === 'saml' ? 'SAML assertions' : 'web identities'
            })`,
          );
        }
        return connection.assumeRole?.master === 'keypair'
          ? vaultKeypair(connectionSecretId(connection.name), connection.name)
          : deps.environmentCredentials();
    }
  }

  async function vaultKeypair(id: string, connection: string): Promise<AwsCredentials> {
    const kp = await deps.vault.get(id);
    if (kp === undefined)
      throw internal('credentials.keypair_missing', `connection "${connection}" has no stored keypair`);
    return kp;
  }

  /** The ID token of the caller's single sign-on session; only such a session can use a web-identity connection. */
  async function webIdentityOf(principal: Principal, connection: Connection) {
    if (deps.webIdentity === undefined) {
      throw invalidInput('credentials.web_identity_unavailable', 'direct OIDC federation is not configured');
    }
    const sessionId = principal.session?.id;
    const token = sessionId === undefined ? undefined : await deps.webIdentity.idTokenOf(sessionId);
    if (token === undefined) {
      throw unauthenticated(
        'credentials.web_identity_required',
        `connection "${connection.name}" needs a single sign-on session with a valid ID token: log in again with OIDC`,
        { details: { connection: connection.name } },
      );
    }
    return { sts: deps.webIdentity.sts, webIdentityToken: token };
  }

  /** The SAML response of the caller's single sign-on session and the provider ARN the IdP paired with the role. */
  async function samlAssertionOf(principal: Principal, connection: Connection, roleArn: string) {
    if (deps.saml === undefined) {
      throw invalidInput('credentials.saml_unavailable', 'direct SAML federation is not configured');
    }
    const sessionId = principal.session?.id;
    const kept = sessionId === undefined ? undefined : await deps.saml.assertionOf(sessionId);
    if (kept === undefined) {
      throw unauthenticated(
        'credentials.saml_assertion_required',
        `connection "${connection.name}" needs a SAML single sign-on session with a valid assertion: log in again with SAML`,
        { details: { connection: connection.name } },
      );
    }
    const principalArn = kept.providerArns[roleArn];
    if (principalArn === undefined) {
      throw permissionDenied(
        'credentials.saml_role_not_asserted',
        `the SAML assertion of this session does not grant role ${roleArn} (with its provider)`,
        { details: { connection: connection.name, roleArn } },
      );
    }
    return { sts: deps.saml.sts, samlAssertion: kept.samlResponse, principalArn };
  }

  function entryFor(session: RoleSession, now: number): CacheEntry {
    const expiresAt = session.credentials.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
    const lifetime = expiresAt - now;
    const ahead = Math.min(deps.settings.refreshAheadSeconds * 1000, lifetime / 2);
    return { session, expiresAt, refreshAt: expiresAt - ahead };
  }

  function iamRequest(connection: Connection, roleArn: string) {
    if (connection.mode !== 'assume-role') {
      throw invalidInput('credentials.not_assume_role', `connection "${connection.name}" does not assume roles`);
    }
    if (deps.iam === undefined) throw internal('credentials.iam_unavailable', 'no IAM client is configured');
    return {
      iam: deps.iam,
      request: {
        region: connection.target.region,
        endpoint: connection.target.stsEndpoint ?? connection.target.endpoint,
        roleName: parseRoleArn(roleArn).name,
        connectionName: connection.name,
      },
    };
  }

  async function issue(principal: Principal, connection: Connection, plan: RoleSessionPlan): Promise<CacheEntry> {
    if (plan.assume === undefined) throw internal('credentials.not_assume_role', 'only role sessions are cached');
    const request = {
      region: connection.target.region,
      endpoint: connection.target.stsEndpoint ?? connection.target.endpoint,
      roleArn: plan.assume.roleArn,
      sessionName: plan.assume.sessionName,
      durationSeconds: plan.assume.durationSeconds,
      policy: sessionPolicyOf(plan),
      connectionName: connection.name,
    };
    let assumed: Awaited<ReturnType<StsGateway['assumeRole']>>;
    const issuedAt = new Date(deps.clock.now());
    if (connection.assumeRole?.master === 'web-identity') {
      const { sts, webIdentityToken } = await webIdentityOf(principal, connection);
      stats.stsCalls++;
      assumed = await sts.assumeRoleWithWebIdentity({ ...request, webIdentityToken });
    } else if (connection.assumeRole?.master === 'saml') {
      const { sts, samlAssertion, principalArn } = await samlAssertionOf(principal, connection, request.roleArn);
      stats.stsCalls++;
      assumed = await sts.assumeRoleWithSAML({ ...request, principalArn, samlAssertion });
    } else {
      const master = await staticCredentials(principal, connection);
      stats.stsCalls++;
      assumed = await deps.sts.assumeRole({
        ...request,
        masterCredentials: master,
        externalId: plan.assume.externalId,
      });
    }
    const session: RoleSession = {
      credentials: assumed.credentials,
      roleArn: plan.assume.roleArn,
      sessionName: plan.assume.sessionName,
      scope: plan.scope,
      issuedAt,
    };
    // Recorded before it is handed out: a session rolegate does not know of could not be revoked.
    await deps.onIssued?.({
      userId: principal.userId,
      connection: connection.name,
      roleArn: plan.assume.roleArn,
      sessionName: plan.assume.sessionName,
      expiresAt: assumed.credentials.expiration,
    });
    return entryFor(session, deps.clock.now());
  }

  function cacheKey(principal: Principal, connection: Connection, version: number, plan: RoleSessionPlan): string {
    const { scope } = plan;
    return [
      principal.userId,
      connection.name,
      version,
      plan.assume?.roleArn,
      plan.assume?.sessionName,
      plan.assume?.durationSeconds,
      scope.bucket,
      scope.prefix,
      scope.access,
      scope.glue === undefined ? '' : `${scope.glue.region}/${scope.glue.catalogId ?? ''}/${scope.glue.database}`,
      // Two rolegate sessions of one user never share a role session, even with the same role.
      principal.session?.id,
    ].join('\u0000');
  }

  function refresh(key: string, principal: Principal, connection: Connection, plan: RoleSessionPlan) {
    return flights.run(key, async () => {
      const startedIn = epoch;
      const shared = deps.sharedSessions;
      let entry: CacheEntry;
      if (shared === undefined) {
        entry = await issue(principal, connection, plan);
      } else {
        await forgetting;
        const owner = { userId: principal.userId, connection: connection.name };
        entry = await shared.getOrIssue(key, owner, deps.clock.now(), () => issue(principal, connection, plan));
      }
      // A forget that happened while STS was answering wins: the session is returned but not cached.
      if (startedIn === epoch) cache.set(key, entry);
      return entry;
    });
  }

  return {
    async obtain(principal, connection, connectionVersion, scope, options = {}) {
      const generation =
        connection.mode === 'assume-role' && deps.sessionGenerations !== undefined
          ? await deps.sessionGenerations.current(principal.userId, connection.name)
          : 0;
      const plan = planRoleSession(principal, connection, scope, {
        generation,
        durationSeconds: options.durationSeconds,
      });
      if (plan.assume === undefined) {
        // Static keys are not cached here: the vault read is cheap, and the AWS default chain memoizes itself.
        const credentials = await staticCredentials(principal, connection);
        return { credentials, scope, issuedAt: new Date(deps.clock.now()) };
      }
      const key = cacheKey(principal, connection, connectionVersion, plan);
      const now = deps.clock.now();
      const cached = cache.get(key);
      if (cached !== undefined && now < cached.expiresAt - MIN_REMAINING_MS) {
        stats.hits++;
        if (now >= cached.refreshAt) {
          stats.refreshes++;
          refresh(key, principal, connection, plan).catch((e: unknown) => deps.onRefreshError?.(e));
        }
        return cached.session;
      }
      stats.misses++;
      return (await refresh(key, principal, connection, plan)).session;
    },
    forgetConnection(name, reach = 'cluster') {
      epoch++;
      cache.deleteWhere((key) => key.split('\u0000')[1] === name);
      forgetShared(reach, (shared) => shared.forgetConnection(name));
    },
    forgetUser(userId, reach = 'cluster') {
      epoch++;
      cache.deleteWhere((key) => key.split('\u0000')[0] === userId);
      forgetShared(reach, (shared) => shared.forgetUser(userId));
    },
    forgetAll() {
      epoch++;
      cache.deleteWhere(() => true);
    },
    forgetUserConnection(userId, name, reach = 'cluster') {
      epoch++;
      forgetShared(reach, (shared) => shared.forgetUserConnection(userId, name));
      cache.deleteWhere((key) => {
        const [user, conn] = key.split('\u0000');
        return user === userId && conn === name;
      });
    },
    async roleIdOf(connection, roleArn) {
      const { iam, request } = iamRequest(connection, roleArn);
      return iam.getRoleId({ ...request, masterCredentials: await staticCredentials(undefined, connection) });
    },
    async putRolePolicy(connection, roleArn, policyName, policy) {
      const { iam, request } = iamRequest(connection, roleArn);
      const masterCredentials = await staticCredentials(undefined, connection);
      if (policy === null) await iam.deleteRolePolicy({ ...request, masterCredentials, policyName });
      else await iam.putRolePolicy({ ...request, masterCredentials, policyName, policy });
    },
    stats: () => ({ ...stats }),
  };
}
