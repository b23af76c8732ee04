import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Provider from 'oidc-provider';
import { pickFreePort } from '../../src/demo/local-backend.js';

/** A user of the test OpenID Provider: the login name is the subject. */
export interface TestOidcUser {
  readonly sub: string;
  readonly preferred_username: string;
  readonly groups?: readonly string[];
  readonly roles?: readonly string[];
}

export interface TestOidcClient {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
}

export interface TestOpenIdProvider {
  /** `http://127.0.0.1:PORT`, exactly the `iss` of its ID tokens. */
  readonly issuer: string;
  /** SHA-1 of the signing key's x5c certificate, for RGW's ThumbprintList. */
  readonly thumbprint: string;
  /**
   * Plays the browser through the provider: from an authorization URL, logs `login` in (dev interactions),
   * consents, and returns the URL the provider redirected to (redirect URI + code + state).
   */
  authorize(authorizationUrl: string, login: string, redirectUri: string): Promise<URL>;
  /**
   * Plays the user of a device sign-in (RFC 8628) in a browser: enters `userCode` at the provider's verification
   * page, confirms it (or aborts), and signs in as `login`. Resolves once the provider shows its success page.
   */
  approveDevice(userCode: string, login: string, options?: { abort?: boolean }): Promise<void>;
  /** An ID token for `login` issued to `client` (the CLI's own code flow with PKCE). */
  idTokenFor(client: TestOidcClient, login: string): Promise<string>;
  close(): Promise<void>;
}

const b64u = (b: Buffer) => b.toString('base64url');

/**
 * A real OpenID Provider (npm `oidc-provider`) on 127.0.0.1, signing RS256 ID tokens with a key whose JWKS entry
 * carries an `x5c` certificate (RGW's AssumeRoleWithWebIdentity needs it). Users' claims (username, groups,
 * roles) go into the ID token.
 */
export async function startTestOpenIdProvider(
  clients: readonly TestOidcClient[],
  users: readonly TestOidcUser[],
): Promise<TestOpenIdProvider> {
  const dir = mkdtempSync(join(tmpdir(), 'rolegate-op-'));
  let jwk: Record<string, unknown>;
  let thumbprint: string;
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=rolegate-test-op'].concat([
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ]),
      { stdio: 'ignore' },
    );
    const cert = new X509Certificate(readFileSync(join(dir, 'cert.pem')));
    thumbprint = createHash('sha1').update(cert.raw).digest('hex');
    jwk = {
      ...createPrivateKey(readFileSync(join(dir, 'key.pem'))).export({ format: 'jwk' }),
      kid: 'test-op-1',
      alg: 'RS256',
      use: 'sig',
      x5c: [cert.raw.toString('base64')],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const port = await pickFreePort();
  const issuer = `http://127.0.0.1:${port}`;
  const byLogin = new Map(users.map((u) => [u.sub, u]));
  const provider = new Provider(issuer, {
    clients: clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: [c.redirectUri],
      grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: ['code'],
    })),
    jwks: { keys: [jwk] },
    claims: { openid: ['sub'], profile: ['preferred_username', 'groups', 'roles'] },
    // Scope claims in the ID token itself (rolegate reads them there, not from userinfo).
    conformIdTokenClaims: false,
    findAccount: (_ctx: unknown, id: string) => {
      const user = byLogin.get(id);
      return user && { accountId: id, claims: () => ({ ...user }) };
    },
    cookies: { keys: ['rolegate-test-op-cookie-key'] },
    features: { deviceFlow: { enabled: true } },
  });
  provider.proxy = false;
  const server: Server = createServer(provider.callback());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

  /** A browser: a cookie jar, and requests that never follow redirects by themselves. */
  function browser() {
    const jar = new Map<string, string>();
    const go = async (url: string, init: RequestInit = {}) => {
      const res = await fetch(new URL(url, issuer), {
        ...init,
        redirect: 'manual',
        headers: {
          ...(init.headers as Record<string, string>),
          cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
        },
      });
      for (const c of res.headers.getSetCookie()) {
        const [kv = ''] = c.split(';');
        const i = kv.indexOf('=');
        jar.set(kv.slice(0, i), kv.slice(i + 1));
      }
      return res;
    };
    return go;
  }
  const form = (fields: Record<string, string>): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  /** devInteractions: a login form, then a consent form, posted back to the interaction URL. */
  const interact = async (go: ReturnType<typeof browser>, location: string, html: string, login: string) => {
    const uid = location.split('/interaction/')[1];
    const fields: Record<string, string> = /name="prompt" value="login"/.test(html)
      ? { prompt: 'login', login, password: 'any' }
      : { prompt: 'consent' };
    return go(`/interaction/${uid}`, form(fields));
  };

  async function authorize(authorizationUrl: string, login: string, redirectUri: string): Promise<URL> {
    const go = browser();
    let res = await go(authorizationUrl);
    for (let step = 0; step < 12; step++) {
      const location = res.headers.get('location');
      if (location === null) throw new Error(`OP flow stuck at HTTP ${res.status}`);
      if (location.startsWith(redirectUri)) return new URL(location);
      res = await go(location);
      if (res.status === 200) res = await interact(go, location, await res.text(), login);
    }
    throw new Error('OP flow did not reach the redirect URI');
  }

  async function approveDevice(userCode: string, login: string, options: { abort?: boolean } = {}): Promise<void> {
    const go = browser();
    const xsrfOf = (html: string) => {
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
      if (xsrf === undefined) throw new Error('no xsrf field on the device page');
      return xsrf;
    };
    const entry = await go('/device');
    const confirmPage = await go('/device', form({ xsrf: xsrfOf(await entry.text()), user_code: userCode }));
    const decision: Record<string, string> = options.abort ? { abort: 'yes' } : { confirm: 'yes' };
    const xsrf = xsrfOf(await confirmPage.text());
    let res = await go('/device', form({ xsrf, user_code: userCode, ...decision }));
    for (let step = 0; step < 12; step++) {
      const location = res.headers.get('location');
      if (location === null) {
        const html = await res.text();
        const expected = options.abort ? /interrupted/ : /Sign-in Success/;
        if (!expected.test(html)) throw new Error(`device flow ended at HTTP ${res.status}: ${html.slice(0, 200)}`);
        return;
      }
      res = await go(location);
      if (res.status === 200 && location.includes('/interaction/'))
        res = await interact(go, location, await res.text(), login);
    }
    throw new Error('device flow did not finish');
  }

  return {
    issuer,
    thumbprint,
    authorize,
    approveDevice,
    async idTokenFor(client, login) {
      const verifier = b64u(randomBytes(32));
      const challenge = b64u(createHash('sha256').update(verifier).digest());
      const url = `${issuer}/auth?${new URLSearchParams({
        client_id: client.clientId,
        response_type: 'code',
        scope: 'openid profile',
        redirect_uri: client.redirectUri,
        nonce: 'cli-nonce',
        state: 'cli-state',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      })}`;
      const back = await authorize(url, login, client.redirectUri);
      const code = back.searchParams.get('code');
      if (code === null) throw new Error('no authorization code');
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: client.redirectUri,
          code_verifier: verifier,
        }).toString(),
      });
      const body = (await res.json()) as { id_token?: string };
      if (body.id_token === undefined) throw new Error(`token endpoint answered ${res.status} without an ID token`);
      return body.id_token;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
