import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  DeleteOpenIDConnectProviderCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginCommand } from '../../src/cli/commands/login.js';
import type { CliContext } from '../../src/cli/context.js';
import type { CredentialsResponse } from '../../src/modules/credentials/credentials.routes.js';
import type { OidcLoginResponse } from '../../src/modules/federation/oidc.routes.js';
import type { EntitledRolesResponse } from '../../src/modules/federation/sessions.routes.js';
import { startTestOpenIdProvider, type TestOidcClient, type TestOpenIdProvider } from '../harness/oidc-provider.js';
import { findLeaks, startTestRolegate, type TestRolegate, uniqueSuffix } from '../harness/rolegate.js';

const sfx = uniqueSuffix();
// The test plays the browser: it follows the provider's redirect to rolegate's real address itself.
const rolegateClient: TestOidcClient = {
  clientId: `rolegate-${sfx}`,
  clientSecret: `rolegate-secret-${sfx}-0123456789abcdef`,
  redirectUri: 'http://127.0.0.1/auth/oidc/callback',
};
const cliClient: TestOidcClient = {
  clientId: `rolegate-cli-${sfx}`,
  clientSecret: `cli-secret-${sfx}-0123456789abcdef`,
  redirectUri: 'http://127.0.0.1/cli-callback',
};
const otherClient: TestOidcClient = {
  clientId: `other-app-${sfx}`,
  clientSecret: `other-secret-${sfx}-0123456789abcdef`,
  redirectUri: 'http://127.0.0.1/other',
};
const dana = `dana-${sfx}`;
const webConn = `s3-web-${sfx}`;

let op: TestOpenIdProvider;
let rg: TestRolegate;
let iam: IAMClient;
let providerArn: string | undefined;
let webRoleArn: string;
let secretDir: string | undefined;

beforeAll(async () => {
  webRoleArn = `arn:aws:iam:::role/rg-${sfx}-web`;
  op = await startTestOpenIdProvider(
    [rolegateClient, cliClient, otherClient],
    [
      { sub: dana, preferred_username: dana, groups: [`analysts-${sfx}`, '/not/a/group'], roles: [webRoleArn] },
      { sub: `alice-sub-${sfx}`, preferred_username: 'alice' },
    ],
  );
  // The client secret comes from a file (or ROLEGATE_OIDC_CLIENT_SECRET), never from the configuration itself.
  secretDir = mkdtempSync(join(tmpdir(), 'rolegate-oidc-secret-'));
  writeFileSync(join(secretDir, 'client-secret'), `${rolegateClient.clientSecret}\n`, { mode: 0o600 });
  rg = await startTestRolegate({
    config: {
      federation: {
        oidc: {
          issuer: op.issuer,
          clientId: rolegateClient.clientId,
          clientSecretFile: join(secretDir, 'client-secret'),
          redirectUri: rolegateClient.redirectUri,
          extraAudiences: [cliClient.clientId],
          mode: 'direct',
        },
      },
    },
  });
  rg.secrets.add(rolegateClient.clientSecret);
  rg.secrets.add(cliClient.clientSecret);

  // RGW trusts the provider (Url = iss exactly; ClientIDList checked against aud) and a role trusts it.
  iam = new IAMClient({ endpoint: rg.backend.endpoint, region: rg.backend.region, credentials: rg.backend.admin });
  providerArn = (
    await iam.send(
      new CreateOpenIDConnectProviderCommand({
        Url: op.issuer,
        ClientIDList: [rolegateClient.clientId, cliClient.clientId],
        ThumbprintList: [op.thumbprint],
      }),
    )
  ).OpenIDConnectProviderArn;
  const host = op.issuer.replace(/^https?:\/\//, '');
  await iam.send(
    new CreateRoleCommand({
      RoleName: `rg-${sfx}-web`,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: [`arn:aws:iam:::oidc-provider/${host}`] },
            Action: ['sts:AssumeRoleWithWebIdentity'],
            Condition: { StringEquals: { [`${host}:sub`]: dana } },
          },
        ],
      }),
    }),
  );
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: `rg-${sfx}-web`,
      PolicyName: 'bucket',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['s3:*'],
            Resource: [`arn:aws:s3:::${rg.seed.bucket}`, `arn:aws:s3:::${rg.seed.bucket}/*`],
          },
        ],
      }),
    }),
  );
  const res = await rg.api(rg.tokens.admin, 'POST', '/api/connections', {
    name: webConn,
    bucket: rg.seed.bucket,
    region: rg.backend.region,
    endpoint: rg.backend.endpoint,
    forcePathStyle: true,
    homeDirectories: true,
    detailsReadableBy: 'everyone',
    credentials: { mode: 'assume-role', roleArn: '${sessionRole}', master: 'web-identity', durationSeconds: 3600 },
  });
  expect(res.status, res.text).toBe(201);
});

afterAll(async () => {
  if (providerArn !== undefined) {
    await iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn })).catch(() => {});
  }
  iam?.destroy();
  await rg?.close();
  await op?.close();
  if (secretDir !== undefined) rmSync(secretDir, { recursive: true, force: true });
});

/** A browser login through rolegate: /auth/oidc/login → provider → /auth/oidc/callback. */
async function browserLogin(login: string, options: { dropStateCookie?: boolean } = {}) {
  const start = await fetch(`${rg.url}/auth/oidc/login`, { redirect: 'manual' });
  expect(start.status).toBe(302);
  const stateCookie = (start.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
  const back = await op.authorize(start.headers.get('location') ?? '', login, rolegateClient.redirectUri);
  const res = await fetch(`${rg.url}/auth/oidc/callback${back.search}`, {
    headers: { accept: 'application/json', ...(options.dropStateCookie ? {} : { cookie: stateCookie }) },
  });
  const text = await res.text();
  rg.bodies.push(text);
  if (res.status === 200) rg.secrets.add((JSON.parse(text) as OidcLoginResponse).token);
  return { status: res.status, text, json: res.status === 200 ? (JSON.parse(text) as OidcLoginResponse) : undefined };
}

async function loginEvents() {
  await rg.app.trail.flush();
  const rows = await rg.app.db.selectFrom('audit_events').select('event').execute();
  return rows.map((r) => JSON.parse(r.event) as Record<string, unknown>).filter((e) => e.action === 'auth.login');
}

let session: OidcLoginResponse;

describe('browser login (authorization code + PKCE)', () => {
  it('creates the user on first login with groups and entitled roles from the ID token', async () => {
    const res = await browserLogin(dana);
    expect(res.status, res.text).toBe(200);
    session = res.json as OidcLoginResponse;
    expect(session).toMatchObject({ username: dana, roleArn: webRoleArn });
    expect(session.token).toMatch(/^rgs_/);

    const me = await rg.api(session.token, 'GET', '/api/me');
    expect(me.json).toMatchObject({ username: dana, role: 'analyst', groups: [`analysts-${sfx}`] });
    const roles = (await rg.api(session.token, 'GET', '/api/me/roles')).json as EntitledRolesResponse;
    expect(roles.roles).toEqual([{ roleArn: webRoleArn, sources: [{ kind: 'idp', provider: 'oidc' }] }]);
    expect(roles.session?.roleArn).toBe(webRoleArn);
  });

  it('refuses a callback whose state this browser did not start', async () => {
    const res = await browserLogin(dana, { dropStateCookie: true });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.text)).toMatchObject({ code: 'auth.oidc_state_mismatch' });
  });

  it('never takes over an existing local user of the same name', async () => {
    const res = await browserLogin(`alice-sub-${sfx}`);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text)).toMatchObject({ code: 'auth.oidc_user_exists' });
  });

  it('answers a browser with a page that hands the token to the web UI, not in a URL', async () => {
    const start = await fetch(`${rg.url}/auth/oidc/login`, { redirect: 'manual' });
    const cookie = (start.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
    const back = await op.authorize(start.headers.get('location') ?? '', dana, rolegateClient.redirectUri);
    const res = await fetch(`${rg.url}/auth/oidc/callback${back.search}`, { headers: { cookie } });
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'sha256-/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const token = /"(rgs_[A-Za-z0-9_-]+)"/.exec(html)?.[1];
    expect(token).toBeDefined();
    rg.secrets.add(token ?? '');
    expect(html).toContain("sessionStorage.setItem('rolegate.token'");
  });
});

describe('direct mode: AssumeRoleWithWebIdentity with the session’s ID token', () => {
  it('issues role sessions without master credentials, scoped to the user’s home', async () => {
    const res = await rg.api(session.token, 'POST', `/api/connections/${webConn}/credentials`);
    expect(res.status, res.text).toBe(200);
    const c = res.json as CredentialsResponse;
    rg.secrets.add(c.SecretAccessKey);
    if (c.SessionToken) rg.secrets.add(c.SessionToken);
    const s3 = new S3Client({
      endpoint: rg.backend.endpoint,
      region: rg.backend.region,
      forcePathStyle: true,
      credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
    });
    const key = `home/${dana}/direct-${sfx}.txt`;
    await s3.send(new PutObjectCommand({ Bucket: rg.seed.bucket, Key: key, Body: 'direct' }));
    // The session policy still scopes down: the role allows the whole bucket, the session only the home.
    await expect(s3.send(new ListObjectsV2Command({ Bucket: rg.seed.bucket, Prefix: 'sales/' }))).rejects.toThrow();
    s3.destroy();

    // RGW's ops log: the write was made by the web identity's shadow user, not by the master user.
    const entry = readFileSync(join(rg.backend.dir, 'log', 'ops.log'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          return undefined;
        }
      })
      .filter((e) => e !== undefined && String(e.uri ?? '').includes(`direct-${sfx}.txt`))
      .pop();
    expect(entry).toMatchObject({ user: `$oidc$${dana}`, authentication_type: 'STS' });
    expect(JSON.stringify(entry)).not.toContain(rg.backend.master.accessKeyId);
  });

  it('refuses a session that holds no ID token (created with a token, not by a login)', async () => {
    const created = await rg.api(session.token, 'POST', '/api/sessions', { name: 'plain' });
    expect(created.status, created.text).toBe(201);
    const plain = (created.json as { token: string }).token;
    rg.secrets.add(plain);
    const res = await rg.api(plain, 'POST', `/api/connections/${webConn}/credentials`);
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ code: 'credentials.web_identity_required' });
  });
});

/**
 * `rolegate login --oidc` in-process, the test playing the browser: it opens the URL the CLI prints, signs in
 * at the provider, and follows rolegate's redirect to the CLI's loopback listener.
 */
function cliLogin(args: string[] = []) {
  const home = mkdtempSync(join(tmpdir(), 'rolegate-cli-login-'));
  const out = { stdout: '', stderr: '' };
  const ctx: CliContext = {
    env: { XDG_CONFIG_HOME: home },
    stdout: (t) => {
      out.stdout += t;
    },
    stderr: (t) => {
      out.stderr += t;
    },
    client: () => Promise.reject(new Error('not used')),
    gateway: () => {
      throw new Error('not used');
    },
    selfCommand: [],
  };
  const done = loginCommand(['--oidc', '--url', rg.url, '--timeout', '30', ...args], ctx);
  const printedUrl = async () => {
    for (let i = 0; i < 200 && !/^ {2}http\S+$/m.test(out.stderr); i++) await new Promise((r) => setTimeout(r, 25));
    const url = /^ {2}(http\S+)$/m.exec(out.stderr)?.[1];
    expect(url, out.stderr).toBeDefined();
    return url as string;
  };
  /** The browser's part, up to rolegate's redirect to the loopback listener (not followed). */
  const browser = async () => {
    const start = await fetch(await printedUrl(), { redirect: 'manual' });
    expect(start.status).toBe(302);
    const cookie = (start.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
    const back = await op.authorize(start.headers.get('location') ?? '', dana, rolegateClient.redirectUri);
    const res = await fetch(`${rg.url}/auth/oidc/callback${back.search}`, { headers: { cookie }, redirect: 'manual' });
    expect(res.status, await res.text()).toBe(302);
    return new URL(res.headers.get('location') ?? '');
  };
  return { home, out, done, browser, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

describe('rolegate login --oidc (loopback redirect)', () => {
  it('stores a session token for the signed-in user, mode 0600, never passing it through a URL', async () => {
    const cli = cliLogin();
    try {
      const loopback = await cli.browser();
      expect(loopback.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(loopback.pathname).toBe('/callback');
      expect([...loopback.searchParams.keys()].sort()).toEqual(['code', 'state']);
      expect(loopback.href).not.toContain('rgs_');
      // A stray request with another state is refused and does not end the wait.
      const stray = await fetch(`${loopback.origin}/callback?state=forged&code=x`);
      expect(stray.status).toBe(400);
      const landed = await fetch(loopback);
      expect(landed.status).toBe(200);
      expect(await landed.text()).toContain('Signed in to rolegate');
      expect(await cli.done, cli.out.stderr).toBe(0);

      const path = join(cli.home, 'rolegate', 'config.json');
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const saved = JSON.parse(readFileSync(path, 'utf8')) as { url: string; token: string };
      rg.secrets.add(saved.token);
      expect(saved.url).toBe(rg.url);
      expect(saved.token).toMatch(/^rgs_/);
      expect(cli.out.stdout).toContain(`logged in to ${rg.url} as ${dana}`);
      expect(cli.out.stdout + cli.out.stderr).not.toContain(saved.token);
      const me = await rg.api(saved.token, 'GET', '/api/me');
      expect(me.json).toMatchObject({ username: dana });
      // The one-time code is spent.
      const replay = await rg.api(undefined, 'POST', '/api/auth/oidc/cli-token', {
        code: loopback.searchParams.get('code'),
        codeVerifier: 'A'.repeat(43),
      });
      expect(replay.status).toBe(401);
    } finally {
      cli.cleanup();
    }
  });

  it('makes an intercepted code worthless without the CLI’s verifier (and burns it)', async () => {
    const cli = cliLogin();
    try {
      const loopback = await cli.browser();
      const stolen = await rg.api(undefined, 'POST', '/api/auth/oidc/cli-token', {
        code: loopback.searchParams.get('code'),
        codeVerifier: 'B'.repeat(43),
      });
      expect(stolen.status).toBe(401);
      expect(stolen.json).toMatchObject({ code: 'auth.oidc_cli_code_invalid' });
      await fetch(loopback);
      await expect(cli.done).rejects.toMatchObject({ status: 401, code: 'auth.oidc_cli_code_invalid' });
    } finally {
      cli.cleanup();
    }
  });

  it('refuses a CLI redirect that is not a loopback address', async () => {
    for (const redirect of [
      'http://evil.example:8080/callback',
      'http://localhost:8080/callback',
      'https://127.0.0.1/cb',
    ]) {
      const q = new URLSearchParams({
        cli_redirect: redirect,
        cli_state: 's'.repeat(22),
        cli_challenge: 'c'.repeat(43),
      });
      const res = await fetch(`${rg.url}/auth/oidc/login?${q}`, { redirect: 'manual' });
      expect(res.status, redirect).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'auth.oidc_cli_invalid' });
    }
  });
});

describe('ID-token login (CLI)', () => {
  it('signs in with an ID token issued to the CLI client', async () => {
    const idToken = await op.idTokenFor(cliClient, dana);
    rg.secrets.add(idToken);
    const res = await rg.api(undefined, 'POST', '/api/auth/oidc/token', { idToken });
    expect(res.status, res.text).toBe(200);
    const login = res.json as OidcLoginResponse;
    rg.secrets.add(login.token);
    expect(login.username).toBe(dana);
    const me = await rg.api(login.token, 'GET', '/api/me');
    expect(me.json).toMatchObject({ username: dana });
  });

  it('refuses a token for another audience, and a forged one', async () => {
    const foreign = await op.idTokenFor(otherClient, dana);
    rg.secrets.add(foreign);
    const res = await rg.api(undefined, 'POST', '/api/auth/oidc/token', { idToken: foreign });
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ code: 'auth.oidc_invalid_token' });
    const [h, p] = foreign.split('.');
    const forged = `${h}.${p}.${Buffer.from('not a signature').toString('base64url')}`;
    const refused = await rg.api(undefined, 'POST', '/api/auth/oidc/token', { idToken: forged });
    expect(refused.status).toBe(401);
  });

  it('audits every login with method oidc, allowed and denied, and never a token', async () => {
    const events = await loginEvents();
    expect(events.filter((e) => e.outcome === 'allowed' && e.actor === dana).length).toBeGreaterThanOrEqual(3);
    const denied = events.filter((e) => e.outcome === 'denied').map((e) => e.reasonCode);
    expect(denied).toEqual(
      expect.arrayContaining(['auth.oidc_state_mismatch', 'auth.oidc_user_exists', 'auth.oidc_invalid_token']),
    );
    expect(events.every((e) => e.authMethod === 'oidc')).toBe(true);
    expect(
      findLeaks(
        rg,
        (body) => body.includes('"token":"rgs_') || body.includes('SecretAccessKey') || body.includes('rolegate.token'),
      ),
    ).toEqual([]);
  });
});

describe('device sign-in (RFC 8628: rolegate login --oidc --device)', () => {
  /** Polls as the CLI does, until the answer is not 202 (rolegate answers faster polls without asking the IdP). */
  async function pollUntilDone(deviceRequest: string) {
    for (let i = 0; i < 40; i++) {
      const res = await rg.api(undefined, 'POST', '/api/auth/oidc/device/token', { deviceRequest });
      if (res.status !== 202) return res;
      expect(res.json).toEqual({ status: 'pending', interval: 5 });
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error('the device sign-in stayed pending');
  }

  async function start() {
    const res = await rg.api(undefined, 'POST', '/api/auth/oidc/device');
    expect(res.status, res.text).toBe(200);
    const started = res.json as { deviceRequest: string; userCode: string; verificationUri: string };
    rg.secrets.add(started.deviceRequest);
    return started;
  }

  it('signs in once the user approved the code at the provider; the provider’s device code never leaves rolegate', async () => {
    const res = await rg.api(undefined, 'POST', '/api/auth/oidc/device');
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const started = res.json as Record<string, unknown>;
    expect(Object.keys(started).sort()).toEqual([
      'deviceRequest',
      'expiresIn',
      'interval',
      'userCode',
      'verificationUri',
      'verificationUriComplete',
    ]);
    const deviceRequest = started.deviceRequest as string;
    rg.secrets.add(deviceRequest);
    expect(started.verificationUri).toBe(`${op.issuer}/device`);
    expect(started.expiresIn as number).toBeGreaterThan(0);
    expect(started.expiresIn as number).toBeLessThanOrEqual(15 * 60);

    // Not approved yet: pending, and asked again at once, pending without a call to the provider.
    const early = await rg.api(undefined, 'POST', '/api/auth/oidc/device/token', { deviceRequest });
    expect(early.status, early.text).toBe(202);
    await op.approveDevice(started.userCode as string, dana);
    const done = await pollUntilDone(deviceRequest);
    expect(done.status, done.text).toBe(200);
    const login = done.json as OidcLoginResponse;
    rg.secrets.add(login.token);
    expect(login.username).toBe(dana);
    expect(login.token).toMatch(/^rgs_/);
    const me = await rg.api(login.token, 'GET', '/api/me');
    expect(me.json).toMatchObject({ username: dana });

    // Finished: the handle is spent.
    const again = await rg.api(undefined, 'POST', '/api/auth/oidc/device/token', { deviceRequest });
    expect(again.status).toBe(401);
    expect((again.json as { code: string }).code).toBe('auth.oidc_device_invalid');

    const events = await loginEvents();
    const device = events.filter((e) => (e.details as { channel?: string } | undefined)?.channel === 'device');
    expect(device.filter((e) => e.outcome === 'allowed').map((e) => e.actor)).toEqual([dana]);
    expect(device.filter((e) => e.outcome === 'denied').map((e) => e.reasonCode)).toEqual(['auth.oidc_device_invalid']);
  });

  it('ends the sign-in when the user aborts it at the provider, and audits the refusal', async () => {
    const started = await start();
    await op.approveDevice(started.userCode, dana, { abort: true });
    const done = await pollUntilDone(started.deviceRequest);
    expect(done.status, done.text).toBe(401);
    expect((done.json as { code: string }).code).toBe('auth.oidc_device_denied');
    const again = await rg.api(undefined, 'POST', '/api/auth/oidc/device/token', {
      deviceRequest: started.deviceRequest,
    });
    expect((again.json as { code: string }).code).toBe('auth.oidc_device_invalid');
    const events = await loginEvents();
    expect(events.map((e) => e.reasonCode)).toContain('auth.oidc_device_denied');
  });

  it('refuses a handle rolegate never issued', async () => {
    const res = await rg.api(undefined, 'POST', '/api/auth/oidc/device/token', { deviceRequest: 'forged-handle' });
    expect(res.status).toBe(401);
    expect((res.json as { code: string }).code).toBe('auth.oidc_device_invalid');
  });

  it('rolegate login --oidc --device prints the code, waits for approval and stores the session token', async () => {
    const home = mkdtempSync(join(tmpdir(), 'rolegate-cli-device-'));
    const out = { stdout: '', stderr: '' };
    const ctx: CliContext = {
      env: { XDG_CONFIG_HOME: home },
      stdout: (t) => {
        out.stdout += t;
      },
      stderr: (t) => {
        out.stderr += t;
      },
      client: () => Promise.reject(new Error('not used')),
      gateway: () => {
        throw new Error('not used');
      },
      selfCommand: [],
    };
    try {
      const done = loginCommand(['--oidc', '--device', '--url', rg.url, '--timeout', '60'], ctx);
      let userCode: string | undefined;
      for (let i = 0; i < 200 && userCode === undefined; i++) {
        userCode = /^ {2}(\S+)$/m.exec(out.stderr)?.[1];
        if (userCode === undefined) await new Promise((r) => setTimeout(r, 25));
      }
      expect(userCode, out.stderr).toBeDefined();
      expect(out.stderr).toContain(`open ${op.issuer}/device in a browser on any device`);
      await op.approveDevice(userCode as string, dana);
      expect(await done, out.stderr).toBe(0);
      const saved = JSON.parse(readFileSync(join(home, 'rolegate', 'config.json'), 'utf8')) as { token: string };
      rg.secrets.add(saved.token);
      expect(statSync(join(home, 'rolegate', 'config.json')).mode & 0o777).toBe(0o600);
      expect(out.stdout).toContain(`logged in to ${rg.url} as ${dana}`);
      expect(out.stdout + out.stderr).not.toContain(saved.token);
      expect((await rg.api(saved.token, 'GET', '/api/me')).json).toMatchObject({ username: dana });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
