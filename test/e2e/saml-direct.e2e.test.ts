import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_SAML_ROLE_ATTRIBUTE } from '../../src/config/federation.js';
import type { CredentialsResponse } from '../../src/modules/credentials/credentials.routes.js';
import type { OidcLoginResponse } from '../../src/modules/federation/oidc.routes.js';
import { startTestRolegate, type TestRolegate, uniqueSuffix } from '../harness/rolegate.js';
import { startTestSamlIdp, type TestSamlIdp } from '../harness/saml-idp.js';
import { startTestStsStub, type TestStsStub } from '../harness/sts-stub.js';

// RGW has no AssumeRoleWithSAML: direct SAML is tested at the STS request/response level, against a local STS.
const sfx = uniqueSuffix();
const frank = `frank-${sfx}`;
const directConn = `s3-saml-direct-${sfx}`;
const spEntityId = `https://rolegate.example.com/saml-direct/${sfx}`;
const acsUrl = 'http://127.0.0.1/auth/saml/acs';
const providerArn = 'arn:aws:iam::123456789012:saml-provider/test-idp';

let idp: TestSamlIdp;
let sts: TestStsStub;
let rg: TestRolegate;

beforeAll(async () => {
  const attributes: Record<string, string[]> = {};
  idp = await startTestSamlIdp({ spEntityId, acsUrl, users: [{ nameID: frank, attributes }] });
  sts = await startTestStsStub();
  rg = await startTestRolegate({
    config: {
      federation: {
        saml: {
          entryPoint: idp.ssoUrl,
          idpIssuer: idp.entityId,
          idpCertFile: idp.certFile,
          spEntityId,
          acsUrl,
          mode: 'direct',
        },
      },
    },
  });
  attributes[AWS_SAML_ROLE_ATTRIBUTE] = [`${rg.seed.salesRoleArn},${providerArn}`];
  const res = await rg.api(rg.tokens.admin, 'POST', '/api/connections', {
    name: directConn,
    bucket: rg.seed.bucket,
    region: rg.backend.region,
    endpoint: rg.backend.endpoint,
    stsEndpoint: sts.url,
    forcePathStyle: true,
    allowedRoles: ['arn:aws:iam:::role/*'],
    detailsReadableBy: 'everyone',
    credentials: { mode: 'assume-role', roleArn: rg.seed.salesRoleArn, master: 'saml', durationSeconds: 1800 },
  });
  expect(res.status, res.text).toBe(201);
});

afterAll(async () => {
  await rg?.close();
  await sts?.close();
  await idp?.close();
});

async function login(): Promise<{ token: string; samlResponse: string }> {
  const start = await fetch(`${rg.url}/auth/saml/login`, { redirect: 'manual' });
  const { samlResponse } = await idp.signIn(start.headers.get('location') ?? '', frank);
  rg.secrets.add(samlResponse);
  const res = await fetch(`${rg.url}/auth/saml/acs`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ SAMLResponse: samlResponse }).toString(),
  });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  const { token } = JSON.parse(text) as OidcLoginResponse;
  rg.secrets.add(token);
  return { token, samlResponse };
}

describe('direct SAML: AssumeRoleWithSAML with the login assertion, no master credentials', () => {
  it('vends the role session STS returns for the assertion, scoped down, unsigned', async () => {
    const { token, samlResponse } = await login();
    const creds = await rg.api(token, 'POST', `/api/connections/${directConn}/credentials`);
    expect(creds.status, creds.text).toBe(200);
    const c = creds.json as CredentialsResponse;
    expect(c).toMatchObject({
      AccessKeyId: sts.credentials.accessKeyId,
      SecretAccessKey: sts.credentials.secretAccessKey,
      SessionToken: sts.credentials.sessionToken,
    });

    expect(sts.requests).toHaveLength(1);
    const [req] = sts.requests;
    expect(req?.headers.authorization).toBeUndefined();
    const form = req?.form ?? new URLSearchParams();
    expect(form.get('Action')).toBe('AssumeRoleWithSAML');
    expect(form.get('RoleArn')).toBe(rg.seed.salesRoleArn);
    expect(form.get('PrincipalArn')).toBe(providerArn);
    expect(form.get('SAMLAssertion')).toBe(samlResponse);
    expect(form.get('DurationSeconds')).toBe('1800');
    const policy = JSON.parse(form.get('Policy') ?? '{}') as { Statement?: unknown[] };
    expect(policy.Statement?.length).toBeGreaterThan(0);
    expect(form.get('Policy')).toContain(`arn:aws:s3:::${rg.seed.bucket}`);
  });

  it('refuses a caller without a SAML session (an API token) with a clear code, without calling STS', async () => {
    const before = sts.requests.length;
    const res = await rg.api(rg.tokens.admin, 'POST', `/api/connections/${directConn}/credentials`);
    expect(res.status, res.text).toBe(401);
    expect(res.json).toMatchObject({ code: 'credentials.saml_assertion_required' });
    expect(sts.requests).toHaveLength(before);
  });
});
