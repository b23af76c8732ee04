import { createHash } from 'node:crypto';
import { z } from 'zod';
import { invalidInput } from '../../errors/errors.js';
import type { HttpApp } from '../../http/server.js';
import { type CliLoopback, isLoopbackRedirect, type OidcLogin, type OidcLoginService } from './oidc-login.service.js';

export const oidcLoginResponseSchema = z.object({
  username: z.string(),
  /** The rolegate session token (`rgs_…`): use it as the bearer token. */
  token: z.string(),
  sessionId: z.string(),
  expiresAt: z.string(),
  roleArn: z.string().nullable(),
});
export type OidcLoginResponse = z.infer<typeof oidcLoginResponseSchema>;

export const deviceLoginStartSchema = z.object({
  /** rolegate's handle of the sign-in, to poll `POST /api/auth/oidc/device/token` with. */
  deviceRequest: z.string(),
  userCode: z.string(),
  verificationUri: z.string(),
  verificationUriComplete: z.string().optional(),
  expiresIn: z.number(),
  interval: z.number(),
});
export type DeviceLoginStartResponse = z.infer<typeof deviceLoginStartSchema>;
export const deviceLoginPendingSchema = z.object({ status: z.literal('pending'), interval: z.number() });

const STATE_COOKIE = 'rolegate_oidc_state';
const tags = { tags: ['auth'] };

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/**
 * The page the browser lands on after a login: it hands the session token to the web UI the way a pasted
 * token is (this tab's sessionStorage) and opens it. The token is never in a URL.
 */
export function landingPage(login: OidcLogin): { html: string; csp: string } {
  const script = `sessionStorage.setItem('rolegate.token',${JSON.stringify(login.token)});location.replace('/');`;
  const hash = createHash('sha256').update(script).digest('base64');
  const html = `<!doctype html><meta charset="utf-8"><title>rolegate</title><p>Signed in. Opening rolegate…</p><script>${script}</script>`;
  return { html, csp: `default-src 'none'; script-src 'sha256-${hash}'` };
}

const CLI_STATE = /^[A-Za-z0-9_-]{16,128}$/;
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/**
 * `rolegate login --oidc`: `cli_redirect` (a loopback URI, see isLoopbackRedirect), `cli_state` and
 * `cli_challenge` (S256 of the CLI's verifier) come together or not at all.
 */
function cliLoopbackOf(query: Record<string, string | undefined>): CliLoopback | undefined {
  const { cli_redirect: redirectUri, cli_state: state, cli_challenge: challenge } = query;
  if (redirectUri === undefined && state === undefined && challenge === undefined) return undefined;
  if (
    redirectUri === undefined ||
    !isLoopbackRedirect(redirectUri) ||
    state === undefined ||
    !CLI_STATE.test(state) ||
    challenge === undefined ||
    !S256_CHALLENGE.test(challenge)
  ) {
    throw invalidInput(
      'auth.oidc_cli_invalid',
      'a CLI login needs cli_redirect (http://127.0.0.1:PORT/…), cli_state and an S256 cli_challenge',
    );
  }
  return { redirectUri, state, challenge };
}

/** OpenID Connect single sign-on: the browser's authorization-code flow and the CLI's ID-token exchange. */
export function oidcRoutes(logins: OidcLoginService, options: { redirectUri: string }) {
  const secure = new URL(options.redirectUri).protocol === 'https:';
  return async (app: HttpApp) => {
    const cliQuery = z.object({
      cli_redirect: z.string().max(512).optional(),
      cli_state: z.string().max(128).optional(),
      cli_challenge: z.string().max(64).optional(),
    });
    app.get('/auth/oidc/login', { schema: { ...tags, hide: true, querystring: cliQuery } }, async (req, reply) => {
      const { url, state } = await logins.startBrowserLogin(cliLoopbackOf(req.query));
      // Binds the state to this browser: a callback carrying a state it did not start is refused (login CSRF).
      const attributes = `Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=600${secure ? '; Secure' : ''}`;
      return reply
        .header('set-cookie', `${STATE_COOKIE}=${state}; ${attributes}`)
        .header('cache-control', 'no-store')
        .redirect(url, 302);
    });

    app.get('/auth/oidc/callback', { schema: { ...tags, hide: true } }, async (req, reply) => {
      const callback = new URL(options.redirectUri);
      callback.search = new URL(req.url, 'http://callback.invalid').search;
      const outcome = await logins.finishCallback(callback, cookie(req.headers.cookie, STATE_COOKIE));
      void reply
        .header('set-cookie', `${STATE_COOKIE}=; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=0`)
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer');
      // A login started by `rolegate login --oidc`: back to the CLI's loopback listener with a one-time code.
      if ('redirect' in outcome) return reply.redirect(outcome.redirect, 302);
      const { login } = outcome;
      if ((req.headers.accept ?? '').includes('application/json')) return reply.send(login);
      const page = landingPage(login);
      return reply.header('content-security-policy', page.csp).type('text/html; charset=utf-8').send(page.html);
    });

    app.post(
      '/api/auth/oidc/token',
      {
        config: { public: true },
        schema: {
          ...tags,
          body: z.object({ idToken: z.string().min(1).max(16_384) }).strict(),
          response: { 200: oidcLoginResponseSchema },
        },
      },
      async (req, reply) => {
        const login = await logins.loginWithIdToken(req.body.idToken);
        return reply.header('cache-control', 'no-store').send(login);
      },
    );

    // A device sign-in (RFC 8628) for terminals without a browser: the CLI shows a code, the user approves it at
    // the provider on any device, and the CLI polls until then. The provider's device code stays here.
    app.post(
      '/api/auth/oidc/device',
      { config: { public: true }, schema: { ...tags, response: { 200: deviceLoginStartSchema } } },
      async (_req, reply) => reply.header('cache-control', 'no-store').send(await logins.startDeviceLogin()),
    );
    app.post(
      '/api/auth/oidc/device/token',
      {
        config: { public: true },
        schema: {
          ...tags,
          body: z.object({ deviceRequest: z.string().min(1).max(128) }).strict(),
          response: { 200: oidcLoginResponseSchema, 202: deviceLoginPendingSchema },
        },
      },
      async (req, reply) => {
        const polled = await logins.pollDeviceLogin(req.body.deviceRequest);
        void reply.header('cache-control', 'no-store');
        if ('pending' in polled)
          return reply.status(202).send({ status: 'pending' as const, interval: polled.interval });
        return reply.send(polled.login);
      },
    );

    // The CLI redeems the one-time code its loopback listener received, with its PKCE verifier (RFC 7636).
    app.post(
      '/api/auth/oidc/cli-token',
      {
        config: { public: true },
        schema: {
          ...tags,
          body: z.object({ code: z.string().min(1).max(128), codeVerifier: z.string().min(43).max(128) }).strict(),
          response: { 200: oidcLoginResponseSchema },
        },
      },
      async (req, reply) => {
        const login = await logins.redeemCliCode(req.body.code, req.body.codeVerifier);
        return reply.header('cache-control', 'no-store').send(login);
      },
    );
  };
}
