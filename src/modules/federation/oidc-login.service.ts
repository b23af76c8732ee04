import type { OidcConfig } from '../../config/federation.js';
import { federatedIdentityOf } from '../../domain/oidc-claims.js';
import { permissionDenied, unauthenticated } from '../../errors/errors.js';
import type { Clock } from '../../lib/clock.js';
import { TtlCache } from '../../lib/ttl-cache.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { outcomeOf, requestFacts } from '../audit/audited-credentials.js';
import type { IdentityService } from '../identity/identity.service.js';
import type { FederationStore } from './federation.store.js';
import type { OidcStore } from './oidc.store.js';
import type { OidcProviderClient, PendingLogin } from './oidc-provider-client.js';
import type { SessionsService } from './sessions.service.js';

/** How a login arrived: the browser's authorization-code flow, or an ID token the CLI obtained. */
export type LoginChannel = 'browser' | 'id-token';

export interface OidcLogin {
  readonly username: string;
  /** The rolegate session token: a bearer secret, shown once. */
  readonly token: string;
  readonly sessionId: string;
  readonly expiresAt: string;
  readonly roleArn: string | null;
}

export interface OidcLoginServiceDeps {
  readonly config: Pick<OidcConfig, 'issuer' | 'claims' | 'mode' | 'providerName'>;
  readonly provider: OidcProviderClient;
  readonly identity: Pick<IdentityService, 'syncFederatedUser'>;
  readonly links: Pick<OidcStore, 'userOfSubject' | 'linkSubject' | 'putSessionIdToken'>;
  readonly roles: Pick<FederationStore, 'replaceIdpRoles'>;
  readonly sessions: Pick<SessionsService, 'create'>;
  readonly trail: Pick<AuditTrail, 'record'>;
  readonly clock: Clock;
}

export type OidcLoginService = ReturnType<typeof createOidcLoginService>;

/** A browser has this long to come back from the identity provider. */
const PENDING_TTL_MS = 10 * 60_000;

/**
 * Single sign-on with OpenID Connect. A verified ID token signs its subject in as the rolegate user linked to it
 * (created on first login), with the groups and entitled roles its claims carry, and yields a rolegate session.
 * In direct mode the ID token stays with the session, sealed, for AssumeRoleWithWebIdentity. Every login is
 * audited (`auth.login`, method oidc), allowed or denied; no token ever reaches the trail.
 */
export function createOidcLoginService(deps: OidcLoginServiceDeps) {
  const { config, clock } = deps;
  // Per instance: a callback must reach the instance that started its login (sticky sessions behind a balancer).
  const pending = new TtlCache<string, PendingLogin>({ ttlMs: PENDING_TTL_MS, maxEntries: 10_000, clock });

  async function audited(channel: LoginChannel, run: () => Promise<OidcLogin>): Promise<OidcLogin> {
    const started = performance.now();
    const base = {
      ...requestFacts(undefined),
      action: 'auth.login',
      authMethod: 'oidc',
      details: { provider: config.providerName, channel },
    };
    let login: OidcLogin;
    try {
      login = await run();
    } catch (error) {
      await deps.trail.record({ ...base, ...outcomeOf(error), durationMs: performance.now() - started });
      throw error;
    }
    await deps.trail.record({
      ...base,
      actor: login.username,
      roleArn: login.roleArn ?? undefined,
      outcome: 'allowed',
      durationMs: performance.now() - started,
    });
    return login;
  }

  async function signIn(idToken: string): Promise<OidcLogin> {
    const claims = await deps.provider.verifyIdToken(idToken);
    const mapped = federatedIdentityOf(claims, config.claims);
    if (!mapped.ok) {
      throw permissionDenied(
        `auth.oidc_${mapped.problem}`,
        mapped.problem === 'no_subject'
          ? 'the ID token has no subject'
          : `the ID token's "${config.claims.username}" claim is missing or not a valid rolegate username`,
      );
    }
    const { identity } = mapped;
    const now = new Date(clock.now()).toISOString();
    const linked = await deps.links.userOfSubject(config.issuer, identity.subject);
    const principal = await deps.identity.syncFederatedUser({
      userId: linked,
      username: identity.username,
      groups: identity.groups,
    });
    if (linked === undefined) await deps.links.linkSubject(config.issuer, identity.subject, principal.userId, now);
    await deps.roles.replaceIdpRoles(principal.userId, config.providerName, identity.roleArns, now);
    const session = await deps.sessions.create(principal, { name: `${config.providerName} login` });
    if (config.mode === 'direct' && typeof claims.exp === 'number') {
      await deps.links.putSessionIdToken(session.id, idToken, new Date(claims.exp * 1000).toISOString());
    }
    return {
      username: principal.username,
      token: session.token,
      sessionId: session.id,
      expiresAt: session.expiresAt,
      roleArn: session.roleArn,
    };
  }

  return {
    /** Starts a browser login: the URL to redirect to, and the state to bind to the browser. */
    async startBrowserLogin(): Promise<{ url: string; state: string }> {
      const started = await deps.provider.startLogin();
      pending.set(started.state, started.pending);
      return { url: started.url, state: started.state };
    },

    /** Completes a browser login; `boundState` is the state the browser carried back beside the URL's. */
    async finishBrowserLogin(callbackUrl: URL, boundState: string | undefined): Promise<OidcLogin> {
      return audited('browser', async () => {
        const state = callbackUrl.searchParams.get('state');
        const login = state === null ? undefined : pending.get(state);
        // A state this browser did not start (login CSRF), an unknown or a replayed one: refused alike.
        if (state === null || login === undefined || boundState !== state) {
          throw unauthenticated('auth.oidc_state_mismatch', 'the login expired or was not started here: try again');
        }
        pending.delete(state);
        return signIn(await deps.provider.finishLogin(callbackUrl, state, login));
      });
    },

    /** Signs in with an ID token the CLI obtained from the provider itself. */
    async loginWithIdToken(idToken: string): Promise<OidcLogin> {
      return audited('id-token', () => signIn(idToken));
    },
  };
}
