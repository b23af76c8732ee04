import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { HttpApp } from '../../http/server.js';
import type { OidcLogin, OidcLoginService } from './oidc-login.service.js';

export const oidcLoginResponseSchema = z.object({
  username: z.string(),
  /** The rolegate session token (`rgs_…`): use it as the bearer token. */
  token: z.string(),
  sessionId: z.string(),
  expiresAt: z.string(),
  roleArn: z.string().nullable(),
});
export type OidcLoginResponse = z.infer<typeof oidcLoginResponseSchema>;

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
function landingPage(login: OidcLogin): { html: string; csp: string } {
  const script = `sessionStorage.setItem('rolegate.token',${JSON.stringify(login.token)});location.replace('/');`;
  const hash = createHash('sha256').update(script).digest('base64');
  const html = `<!doctype html><meta charset="utf-8"><title>rolegate</title><p>Signed in. Opening rolegate…</p><script>${script}</script>`;
  return { html, csp: `default-src 'none'; script-src 'sha256-${hash}'` };
}

/** OpenID Connect single sign-on: the browser's authorization-code flow and the CLI's ID-token exchange. */
export function oidcRoutes(logins: OidcLoginService, options: { redirectUri: string }) {
  const secure = new URL(options.redirectUri).protocol === 'https:';
  return async (app: HttpApp) => {
    app.get('/auth/oidc/login', { schema: { ...tags, hide: true } }, async (_req, reply) => {
      const { url, state } = await logins.startBrowserLogin();
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
      const login = await logins.finishBrowserLogin(callback, cookie(req.headers.cookie, STATE_COOKIE));
      void reply
        .header('set-cookie', `${STATE_COOKIE}=; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=0`)
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer');
      if ((req.headers.accept ?? '').includes('application/json')) return reply.send(login);
      const page = landingPage(login);
      return reply.header('content-security-policy', page.csp).type('text/html; charset=utf-8').send(page.html);
    });

    app.post(
      '/api/auth/oidc/token',
      {
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
  };
}
