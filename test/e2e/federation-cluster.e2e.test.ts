import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OidcLoginResponse } from '../../src/modules/federation/oidc.routes.js';
import { type ClusterInstance, startClusterInstance } from '../harness/cluster.js';
import { startTestOpenIdProvider, type TestOidcClient, type TestOpenIdProvider } from '../harness/oidc-provider.js';
import { createTestDatabase } from '../harness/postgres.js';
import { uniqueSuffix } from '../harness/rolegate.js';
import { startTestSamlIdp, type TestSamlIdp } from '../harness/saml-idp.js';
import { registerSecrets, registerText } from '../harness/secret-registry.js';

/**
 * Single sign-on behind a load balancer without sticky sessions: two instances on one PostgreSQL, a login
 * started on one and finished on the other, and what one consumed (a state, a CLI code, an assertion) refused
 * by both afterwards.
 */

const sfx = uniqueSuffix();
const oidcClient: TestOidcClient = {
  clientId: `rolegate-${sfx}`,
  clientSecret: `rolegate-secret-${sfx}-0123456789abcdef`,
  redirectUri: 'http://127.0.0.1/auth/oidc/callback',
};
const spEntityId = `https://rolegate.example.com/saml/cluster-${sfx}`;
const acsUrl = 'http://127.0.0.1/auth/saml/acs';
const dana = `dana-${sfx}`;
const erin = `erin-${sfx}`;

let op: TestOpenIdProvider;
let idp: TestSamlIdp;
let database: { url: string; drop(): Promise<void> };
let a: ClusterInstance;
let b: ClusterInstance;
const secrets = new Set<string>([oidcClient.clientSecret]);
/** Error bodies (a login's answer hands its session token out on purpose). */
const errorBodies: string[] = [];

beforeAll(async () => {
  op = await startTestOpenIdProvider([oidcClient], [{ sub: dana, preferred_username: dana }]);
  idp = await startTestSamlIdp({ spEntityId, acsUrl, users: [{ nameID: erin, attributes: {} }] });
  database = await createTestDatabase();
  const key = randomBytes(32).toString('hex');
  secrets.add(key);
  const federation = {
    oidc: { issuer: op.issuer, clientId: oidcClient.clientId, redirectUri: oidcClient.redirectUri },
    saml: { entryPoint: idp.ssoUrl, idpIssuer: idp.entityId, idpCertFile: idp.certFile, spEntityId, acsUrl },
  };
  const options = { config: { federation }, env: { ROLEGATE_OIDC_CLIENT_SECRET: oidcClient.clientSecret } };
  a = await startClusterInstance(database.url, key, options);
  b = await startClusterInstance(database.url, key, options);
});

afterAll(async () => {
  for (const i of [a, b]) await i?.close();
  await op?.close();
  await idp?.close();
  registerSecrets(secrets);
  registerText('federation-cluster-error-bodies', errorBodies.join('\n'));
  // The pending logins and CLI codes were sealed: the database dump is scanned for the tokens they carried.
  await database?.drop();
});

async function text(res: Response): Promise<string> {
  const body = await res.text();
  if (res.status >= 400) errorBodies.push(body);
  return body;
}

/** The browser's way to the provider and back: the state cookie the first instance set, and the callback URL. */
async function oidcCallbackFrom(on: ClusterInstance, query = '') {
  const start = await fetch(`${on.url}/auth/oidc/login${query}`, { redirect: 'manual' });
  expect(start.status).toBe(302);
  const cookie = (start.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
  const back = await op.authorize(start.headers.get('location') ?? '', dana, oidcClient.redirectUri);
  return { cookie, search: back.search };
}

describe('single sign-on across two instances (no sticky sessions)', () => {
  it('finishes an OIDC browser login on the instance that did not start it, once', async () => {
    const { cookie, search } = await oidcCallbackFrom(a);
    const finish = (on: ClusterInstance) =>
      fetch(`${on.url}/auth/oidc/callback${search}`, { headers: { accept: 'application/json', cookie } });
    const res = await finish(b);
    const body = await text(res);
    expect(res.status, body).toBe(200);
    const login = JSON.parse(body) as OidcLoginResponse;
    secrets.add(login.token);
    expect(login.username).toBe(dana);
    // The session works on either instance.
    const me = await fetch(`${a.url}/api/me`, { headers: { authorization: `Bearer ${login.token}` } });
    expect(me.status).toBe(200);
    // The same callback again, on either instance: its state was taken.
    for (const on of [a, b]) {
      const replay = await finish(on);
      expect(replay.status).toBe(401);
      expect(JSON.parse(await text(replay))).toMatchObject({ code: 'auth.oidc_state_mismatch' });
    }
  });

  it('lets the CLI redeem its one-time code on another instance than the callback, once', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const cli = new URLSearchParams({
      cli_redirect: 'http://127.0.0.1:9/callback',
      cli_state: randomBytes(16).toString('base64url'),
      cli_challenge: challenge,
    });
    const { cookie, search } = await oidcCallbackFrom(a, `?${cli}`);
    const callback = await fetch(`${b.url}/auth/oidc/callback${search}`, { headers: { cookie }, redirect: 'manual' });
    expect(callback.status, await text(callback)).toBe(302);
    const loopback = new URL(callback.headers.get('location') ?? '');
    expect(loopback.origin).toBe('http://127.0.0.1:9');
    const code = loopback.searchParams.get('code') ?? '';
    expect(code).not.toBe('');
    const redeem = (on: ClusterInstance) =>
      fetch(`${on.url}/api/auth/oidc/cli-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code, codeVerifier: verifier }),
      });
    const res = await redeem(a);
    const body = await text(res);
    expect(res.status, body).toBe(200);
    secrets.add((JSON.parse(body) as OidcLoginResponse).token);
    const again = await redeem(b);
    expect(again.status).toBe(401);
    expect(JSON.parse(await text(again))).toMatchObject({ code: 'auth.oidc_cli_code_invalid' });
  });

  it('accepts a SAML response on the instance that did not issue the request, and refuses its replay on both', async () => {
    const start = await fetch(`${a.url}/auth/saml/login`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const { samlResponse } = await idp.signIn(start.headers.get('location') ?? '', erin);
    secrets.add(samlResponse);
    const post = (on: ClusterInstance) =>
      fetch(`${on.url}/auth/saml/acs`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ SAMLResponse: samlResponse, RelayState: '' }).toString(),
      });
    const res = await post(b);
    const body = await text(res);
    expect(res.status, body).toBe(200);
    const login = JSON.parse(body) as OidcLoginResponse;
    secrets.add(login.token);
    expect(login.username).toBe(erin);
    for (const on of [a, b]) {
      const replay = await post(on);
      expect(JSON.parse(await text(replay))).toMatchObject({ code: 'auth.saml_replayed' });
    }
  });

  it('keeps the pending state sealed in the shared database, and nothing once it was used', async () => {
    const start = await fetch(`${a.url}/auth/oidc/login`, { redirect: 'manual' });
    const state = new URL(start.headers.get('location') ?? '').searchParams.get('state') ?? '';
    expect(state).not.toBe('');
    const rows = await a.app.db.selectFrom('login_states').selectAll().where('kind', '=', 'oidc-login').execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain(state);
    // Only the one just started is pending: the ones finished above were taken.
    expect(rows).toHaveLength(1);
  });
});
