import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { OidcConfig } from '../../config/federation.js';
import { federatedIdentityOf } from '../../domain/oidc-claims.js';
import { internal, permissionDenied, RolegateError, unauthenticated } from '../../errors/errors.js';
import type { Clock } from '../../lib/clock.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { outcomeOf, withRequestFacts } from '../audit/audited-credentials.js';
import type { IdentityService } from '../identity/identity.service.js';
import type { FederationStore } from './federation.store.js';
import type { LoginStateStore } from './login-state.store.js';
import type { OidcStore } from './oidc.store.js';
import type { OidcProviderClient, PendingLogin } from './oidc-provider-client.js';
import type { SessionsService } from './sessions.service.js';

/**
 * How a login arrived: the browser's authorization-code flow, an ID token the CLI obtained, the browser's
 * flow started for the CLI (`rolegate login --oidc`) and redeemed by it, or a device sign-in (RFC 8628) that the
 * CLI started and a browser anywhere approved (`rolegate login --oidc --device`).
 */
export type LoginChannel = 'browser' | 'id-token' | 'cli' | 'device';

/**
 * A CLI waiting on loopback for a login it started (RFC 8252 style): where to send the browser back, the
 * CLI's own state, and the S256 challenge of the verifier only the CLI knows.
 */
export interface CliLoopback {
  readonly redirectUri: string;
  readonly state: string;
  readonly challenge: string;
}

/** A device sign-in as the CLI sees it: what to show the user, and the handle to poll rolegate with. */
export interface DeviceLoginStart {
  /** rolegate's own handle of the sign-in (the provider's device code never leaves rolegate). */
  readonly deviceRequest: string;
  readonly userCode: string;
  readonly verificationUri: string;
  readonly verificationUriComplete?: string | undefined;
  readonly expiresIn: number;
  readonly interval: number;
}

/** A poll of a device sign-in: signed in, or poll again after `interval` seconds. */
export type DeviceLoginPoll = { readonly login: OidcLogin } | { readonly pending: true; readonly interval: number };

/** What a device sign-in keeps between polls, sealed in the shared store. */
interface StartedDeviceLogin {
  readonly deviceCode: string;
  readonly interval: number;
  readonly expiresAt: number;
  /** When the provider was last asked: a client polling faster than `interval` is answered without asking. */
  readonly polledAt: number;
}

/** What a callback leads to: the browser's own login, or a redirect back to the CLI's loopback listener. */
export type CallbackOutcome = { readonly login: OidcLogin } | { readonly redirect: string };

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
  /** Pending logins and CLI codes, shared by every instance on the store. */
  readonly states: LoginStateStore;
  readonly clock: Clock;
}

/** What a started login keeps until its callback: the provider's PKCE verifier and nonce, and the CLI's loopback. */
interface StartedLogin {
  readonly login: PendingLogin;
  readonly cli?: CliLoopback | undefined;
}

export type OidcLoginService = ReturnType<typeof createOidcLoginService>;

/** A browser has this long to come back from the identity provider. */
const PENDING_TTL_MS = 10 * 60_000;
/** The CLI has this long to redeem the one-time code its loopback listener received. */
const CLI_CODE_TTL_MS = 2 * 60_000;

/** A device sign-in lives at most this long here, whatever the provider grants. */
const DEVICE_TTL_MS = 15 * 60_000;
const DEVICE_INVALID = () =>
  unauthenticated(
    'auth.oidc_device_invalid',
    'the sign-in request is unknown, expired or already finished: run rolegate login --oidc --device again',
  );
/** Refusals after which polling again cannot succeed: the sign-in is over. */
const DEVICE_FINAL = new Set(['auth.oidc_device_denied', 'auth.oidc_device_expired', 'auth.oidc_callback_failed']);

const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

/**
 * The loopback redirect URI of a CLI: `http://127.0.0.1:PORT/path` or `http://[::1]:PORT/path` only (never a
 * name a resolver could point elsewhere), with an explicit port and nothing else.
 */
export function isLoopbackRedirect(uri: string): boolean {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  return (
    url.protocol === 'http:' &&
    (url.hostname === '127.0.0.1' || url.hostname === '[::1]') &&
    url.port !== '' &&
    url.username === '' &&
    url.password === '' &&
    url.search === '' &&
    url.hash === ''
  );
}

/**
 * Single sign-on with OpenID Connect. A verified ID token signs its subject in as the rolegate user linked to it
 * (created on first login), with the groups and entitled roles its claims carry, and yields a rolegate session.
 * In direct mode the ID token stays with the session, sealed, for AssumeRoleWithWebIdentity. Every login is
 * audited (`auth.login`, method oidc), allowed or denied; no token ever reaches the trail.
 */
export function createOidcLoginService(deps: OidcLoginServiceDeps) {
  const { config, clock } = deps;
  const stateMismatch = () =>
    unauthenticated('auth.oidc_state_mismatch', 'the login expired or was not started here: try again');

  /**
   * The login a callback finishes, taken from the store once (a replayed callback finds nothing), on whichever
   * instance started it; undefined when the state is missing, not the one this browser carried, or unknown.
   */
  async function takeStarted(callbackUrl: URL, boundState: string | undefined) {
    const state = callbackUrl.searchParams.get('state');
    // A state this browser did not start (login CSRF) is not even looked up: nobody's pending login is spent.
    if (state === null || boundState !== state) return undefined;
    let raw: string | undefined;
    try {
      raw = await deps.states.take('oidc-login', state, clock.now());
    } catch (error) {
      await recordFailedLogin('browser', error);
      throw error;
    }
    return raw === undefined ? undefined : { state, started: JSON.parse(raw) as StartedLogin };
  }

  function browserLogin(callbackUrl: URL, taken: Awaited<ReturnType<typeof takeStarted>>): Promise<OidcLogin> {
    return audited('browser', async () => {
      if (taken === undefined) throw stateMismatch();
      return signIn(await deps.provider.finishLogin(callbackUrl, taken.state, taken.started.login));
    });
  }

  async function audited(channel: LoginChannel, run: () => Promise<OidcLogin>): Promise<OidcLogin> {
    const started = performance.now();
    const base = withRequestFacts(undefined, {
      action: 'auth.login',
      authMethod: 'oidc',
      details: { provider: config.providerName, channel },
    });
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

  /** Records a login that failed outside `audited` (the caller goes on to answer or rethrow). */
  async function recordFailedLogin(channel: LoginChannel, error: unknown): Promise<void> {
    await audited(channel, () => Promise.reject(error)).catch(() => undefined);
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

  const service = {
    /** Starts a browser login: the URL to redirect to, and the state to bind to the browser. */
    async startBrowserLogin(cli?: CliLoopback): Promise<{ url: string; state: string }> {
      const started = await deps.provider.startLogin();
      const now = clock.now();
      const value: StartedLogin = { login: started.pending, cli };
      if (!(await deps.states.put('oidc-login', started.state, JSON.stringify(value), now + PENDING_TTL_MS, now))) {
        throw internal('auth.oidc_state_reused', 'the provider client produced a state already in use');
      }
      return { url: started.url, state: started.state };
    },

    /** Completes a browser login; `boundState` is the state the browser carried back beside the URL's. */
    async finishBrowserLogin(callbackUrl: URL, boundState: string | undefined): Promise<OidcLogin> {
      return browserLogin(callbackUrl, await takeStarted(callbackUrl, boundState));
    },

    /**
     * Completes a callback: a browser login signs in; a login started for the CLI redeems the provider's code
     * and sends the browser back to the CLI's loopback listener with a one-time code (and the CLI's state), or
     * with `error=access_denied` when the provider did not complete the login. No session exists until the CLI
     * redeems the code ({@link redeemCliCode}).
     */
    async finishCallback(callbackUrl: URL, boundState: string | undefined): Promise<CallbackOutcome> {
      const taken = await takeStarted(callbackUrl, boundState);
      const cli = taken?.started.cli;
      if (taken === undefined || cli === undefined) return { login: await browserLogin(callbackUrl, taken) };
      const back = new URL(cli.redirectUri);
      back.searchParams.set('state', cli.state);
      try {
        const idToken = await deps.provider.finishLogin(callbackUrl, taken.state, taken.started.login);
        const code = randomBytes(32).toString('base64url');
        const now = clock.now();
        const entry = JSON.stringify({ idToken, challenge: cli.challenge });
        await deps.states.put('oidc-cli-code', code, entry, now + CLI_CODE_TTL_MS, now);
        back.searchParams.set('code', code);
      } catch (error) {
        await recordFailedLogin('cli', error);
        back.searchParams.set('error', 'access_denied');
      }
      return { redirect: back.href };
    },

    /** The CLI redeems its one-time code with the PKCE verifier it kept: once, within two minutes. */
    async redeemCliCode(code: string, verifier: string): Promise<OidcLogin> {
      return audited('cli', async () => {
        const raw = await deps.states.take('oidc-cli-code', code, clock.now());
        const entry = raw === undefined ? undefined : (JSON.parse(raw) as { idToken: string; challenge: string });
        const proof = Buffer.from(s256(verifier));
        const expected = Buffer.from(entry?.challenge ?? '');
        if (entry === undefined || proof.length !== expected.length || !timingSafeEqual(proof, expected)) {
          throw unauthenticated(
            'auth.oidc_cli_code_invalid',
            'the login code is invalid, expired or already used: run rolegate login --oidc again',
          );
        }
        return signIn(entry.idToken);
      });
    },

    /** Starts a device sign-in at the provider: the user approves it in a browser on any machine. */
    async startDeviceLogin(): Promise<DeviceLoginStart> {
      const started = await deps.provider.startDeviceLogin();
      const now = clock.now();
      const expiresAt = now + Math.min(started.expiresInSeconds * 1000, DEVICE_TTL_MS);
      const deviceRequest = randomBytes(32).toString('base64url');
      const entry: StartedDeviceLogin = {
        deviceCode: started.deviceCode,
        interval: started.intervalSeconds,
        expiresAt,
        polledAt: 0,
      };
      if (!(await deps.states.put('oidc-device', deviceRequest, JSON.stringify(entry), expiresAt, now))) {
        throw internal('auth.oidc_state_reused', 'a device sign-in handle was produced twice');
      }
      return {
        deviceRequest,
        userCode: started.userCode,
        verificationUri: started.verificationUri,
        verificationUriComplete: started.verificationUriComplete,
        expiresIn: Math.round((expiresAt - now) / 1000),
        interval: started.intervalSeconds,
      };
    },

    /**
     * One poll of a device sign-in, on any instance. Until the user approves, the answer is to wait (the
     * provider's `slow_down` lengthens the interval, and a client polling faster than it is answered without
     * asking the provider); approval signs the user in, once. A refusal ends the sign-in; an unreachable
     * provider does not.
     */
    async pollDeviceLogin(deviceRequest: string): Promise<DeviceLoginPoll> {
      const now = clock.now();
      const raw = await deps.states.take('oidc-device', deviceRequest, now);
      if (raw === undefined) return { login: await audited('device', () => Promise.reject(DEVICE_INVALID())) };
      const entry = JSON.parse(raw) as StartedDeviceLogin;
      const keep = (next: StartedDeviceLogin) =>
        deps.states.put('oidc-device', deviceRequest, JSON.stringify(next), next.expiresAt, now);
      if (now - entry.polledAt < entry.interval * 1000) {
        await keep(entry);
        return { pending: true, interval: entry.interval };
      }
      let polled: Awaited<ReturnType<OidcProviderClient['pollDeviceLogin']>>;
      try {
        polled = await deps.provider.pollDeviceLogin(entry.deviceCode);
      } catch (error) {
        if (error instanceof RolegateError && DEVICE_FINAL.has(error.code)) {
          await recordFailedLogin('device', error);
        } else {
          await keep({ ...entry, polledAt: now });
        }
        throw error;
      }
      if ('wait' in polled) {
        const interval = polled.wait === 'slow_down' ? entry.interval + 5 : entry.interval;
        await keep({ ...entry, interval, polledAt: now });
        return { pending: true, interval };
      }
      return { login: await audited('device', () => signIn(polled.idToken)) };
    },

    /** Signs in with an ID token the CLI obtained from the provider itself. */
    async loginWithIdToken(idToken: string): Promise<OidcLogin> {
      return audited('id-token', () => signIn(idToken));
    },
  };
  return service;
}
