import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_SAML_ROLE_ATTRIBUTE } from '../../src/config/federation.js';
import type { CredentialsResponse } from '../../src/modules/credentials/credentials.routes.js';
import type { OidcLoginResponse } from '../../src/modules/federation/oidc.routes.js';
import type { EntitledRolesResponse } from '../../src/modules/federation/sessions.routes.js';
import { findLeaks, startTestRolegate, type TestRolegate, uniqueSuffix } from '../harness/rolegate.js';
import { type SamlMisbehaviour, startTestSamlIdp, type TestSamlIdp } from '../harness/saml-idp.js';

const sfx = uniqueSuffix();
const erin = `erin-${sfx}`;
const sessionConn = `s3-saml-${sfx}`;
const spEntityId = `https://rolegate.example.com/saml/${sfx}`;
// The test plays the browser: it posts the IdP's form to rolegate's real address itself.
const acsUrl = 'http://127.0.0.1/auth/saml/acs';
const providerArn = 'arn:aws:iam:::saml-provider/test-idp';

let idp: TestSamlIdp;
let rg: TestRolegate;
const responses: string[] = [];

beforeAll(async () => {
  // The entitled role is known only once RGW has it: the IdP reads the user's attributes at each sign-in.
  const attributes: Record<string, string[]> = {};
  idp = await startTestSamlIdp({ spEntityId, acsUrl, users: [{ nameID: erin, attributes }] });
  rg = await startTestRolegate({
    config: {
      federation: {
        saml: {
          entryPoint: idp.ssoUrl,
          idpIssuer: idp.entityId,
          idpCertFile: idp.certFile,
          spEntityId,
          acsUrl,
          clockSkewSeconds: 60,
        },
      },
    },
  });
  attributes.groups = [`analysts-${sfx}`, '/not/a/group'];
  // "provider-arn,role-arn" (either order is accepted), and a value that is no role at all.
  attributes[AWS_SAML_ROLE_ATTRIBUTE] = [`${providerArn},${rg.seed.salesRoleArn}`, 'not-a-role'];
  const res = await rg.api(rg.tokens.admin, 'POST', '/api/connections', {
    name: sessionConn,
    bucket: rg.seed.bucket,
    region: rg.backend.region,
    endpoint: rg.backend.endpoint,
    forcePathStyle: true,
    allowedRoles: ['arn:aws:iam:::role/*'],
    detailsReadableBy: 'everyone',
    credentials: { mode: 'assume-role', roleArn: '${sessionRole}', durationSeconds: 3600 },
  });
  expect(res.status, res.text).toBe(201);
});

afterAll(async () => {
  await rg?.close();
  await idp?.close();
});

/** The browser's part: rolegate → IdP (AuthnRequest) → sign in → the auto-posted form to rolegate's ACS. */
async function samlResponseFor(login: string, misbehave?: SamlMisbehaviour): Promise<string> {
  const start = await fetch(`${rg.url}/auth/saml/login`, { redirect: 'manual' });
  expect(start.status).toBe(302);
  const location = start.headers.get('location') ?? '';
  expect(location.startsWith(`${idp.ssoUrl}?SAMLRequest=`)).toBe(true);
  const { acs, samlResponse } = await idp.signIn(location, login, misbehave);
  expect(acs).toBe(acsUrl);
  rg.secrets.add(samlResponse);
  responses.push(samlResponse);
  return samlResponse;
}

async function postAcs(samlResponse: string) {
  const res = await fetch(`${rg.url}/auth/saml/acs`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ SAMLResponse: samlResponse, RelayState: '' }).toString(),
  });
  const text = await res.text();
  rg.bodies.push(text);
  if (res.status === 200) rg.secrets.add((JSON.parse(text) as OidcLoginResponse).token);
  return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown> };
}

let goodResponse: string;

describe('SP-initiated SAML login, brokered', () => {
  it('creates the user with groups and entitled roles, and reads data through the session role', async () => {
    goodResponse = await samlResponseFor(erin);
    const res = await postAcs(goodResponse);
    expect(res.status, res.text).toBe(200);
    const login = res.json as unknown as OidcLoginResponse;
    expect(login).toMatchObject({ username: erin, roleArn: rg.seed.salesRoleArn });
    expect(login.token).toMatch(/^rgs_/);

    const me = await rg.api(login.token, 'GET', '/api/me');
    expect(me.json).toMatchObject({ username: erin, role: 'analyst', groups: [`analysts-${sfx}`] });
    const roles = (await rg.api(login.token, 'GET', '/api/me/roles')).json as EntitledRolesResponse;
    expect(roles.roles).toEqual([{ roleArn: rg.seed.salesRoleArn, sources: [{ kind: 'idp', provider: 'saml' }] }]);

    // Brokered: rolegate's master credentials AssumeRole the entitled role for this session.
    const creds = await rg.api(login.token, 'POST', `/api/connections/${sessionConn}/credentials`);
    expect(creds.status, creds.text).toBe(200);
    const c = creds.json as CredentialsResponse;
    rg.secrets.add(c.SecretAccessKey);
    if (c.SessionToken) rg.secrets.add(c.SessionToken);
    const s3 = new S3Client({
      endpoint: rg.backend.endpoint,
      region: rg.backend.region,
      forcePathStyle: true,
      credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
    });
    try {
      const got = await s3.send(new GetObjectCommand({ Bucket: rg.seed.bucket, Key: 'sales/2024/q1.csv' }));
      expect(await got.Body?.transformToString()).toContain('region,revenue');
    } finally {
      s3.destroy();
    }
  });

  it('signs the same user in again (linked by NameID), answering a browser with the landing page', async () => {
    const samlResponse = await samlResponseFor(erin);
    const res = await fetch(`${rg.url}/auth/saml/acs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ SAMLResponse: samlResponse }).toString(),
    });
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'sha256-/);
    const token = /"(rgs_[A-Za-z0-9_-]+)"/.exec(html)?.[1];
    expect(token).toBeDefined();
    rg.secrets.add(token ?? '');
    expect((await rg.api(token, 'GET', '/api/me')).json).toMatchObject({ username: erin });
  });
});

describe('refused responses, each with its own reason', () => {
  const cases: [SamlMisbehaviour, string][] = [
    ['unsigned-assertion', 'auth.saml_unsigned'],
    ['other-key', 'auth.saml_bad_signature'],
    ['wrong-audience', 'auth.saml_audience'],
    ['expired', 'auth.saml_expired'],
    ['wrong-in-response-to', 'auth.saml_in_response_to'],
  ];
  it.each(cases)('%s → %s', async (misbehave, code) => {
    const res = await postAcs(await samlResponseFor(erin, misbehave));
    expect(res.status, res.text).toBe(401);
    expect(res.json).toMatchObject({ code });
  });

  it('refuses a replayed assertion', async () => {
    const res = await postAcs(goodResponse);
    expect(res.status, res.text).toBe(401);
    expect(res.json).toMatchObject({ code: 'auth.saml_replayed' });
  });

  it('audits every login with method saml, allowed and denied, and never an assertion or token', async () => {
    await rg.app.trail.flush();
    const rows = await rg.app.db.selectFrom('audit_events').select('event').execute();
    const events = rows
      .map((r) => JSON.parse(r.event) as Record<string, unknown>)
      .filter((e) => e.action === 'auth.login' && e.authMethod === 'saml');
    expect(events.filter((e) => e.outcome === 'allowed' && e.actor === erin)).toHaveLength(2);
    expect(events.filter((e) => e.outcome === 'denied').map((e) => e.reasonCode)).toEqual(
      expect.arrayContaining([...cases.map(([, code]) => code), 'auth.saml_replayed']),
    );
    // No assertion (nor any base64 piece of one) in the trail, logs or refusals; tokens only in login bodies.
    const trail = rows.map((r) => r.event).join('\n');
    for (const response of responses) {
      expect(trail.includes(response)).toBe(false);
      expect(trail.includes(response.slice(0, 40))).toBe(false);
    }
    expect(trail).not.toContain('Assertion');
    expect(rg.logs.join('\n')).not.toContain('SAMLResponse=');
    expect(findLeaks(rg, (body) => body.includes('"token":"rgs_') || body.includes('SecretAccessKey'))).toEqual([]);
  });
});
