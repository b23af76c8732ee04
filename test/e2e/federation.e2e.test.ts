import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../src/cli/api-client.js';
import { assumeCommand, rolesCommand } from '../../src/cli/commands/roles.js';
import type { CliContext } from '../../src/cli/context.js';
import { createRoleWithPrefixPolicy, httpStatusOf } from '../../src/demo/seed.js';
import type { CredentialsResponse } from '../../src/modules/credentials/credentials.routes.js';
import type {
  CreatedSessionResponse,
  EntitledRolesResponse,
  SessionResponse,
} from '../../src/modules/federation/sessions.routes.js';
import { findLeaks, startTestRolegate, type TestRolegate, uniqueSuffix } from '../harness/rolegate.js';

let rg: TestRolegate;
const sfx = uniqueSuffix();
const sessionConn = `s3-sess-${sfx}`;
const homeConn = `s3-home-${sfx}`;

beforeAll(async () => {
  rg = await startTestRolegate();
  const homeRole = await createRoleWithPrefixPolicy({
    endpoint: rg.backend.endpoint,
    credentials: rg.backend.admin,
    roleName: `rg-${sfx}-home-role`,
    trustedPrincipalArn: rg.backend.masterArn,
    bucket: rg.seed.bucket,
    prefix: 'home/',
  });
  const common = {
    bucket: rg.seed.bucket,
    region: rg.backend.region,
    endpoint: rg.backend.endpoint,
    forcePathStyle: true,
    allowedRoles: ['arn:aws:iam:::role/*'],
    detailsReadableBy: 'everyone',
  };
  for (const body of [
    {
      ...common,
      name: sessionConn,
      credentials: { mode: 'assume-role', roleArn: '${sessionRole}', durationSeconds: 3600 },
    },
    {
      ...common,
      name: homeConn,
      homeDirectories: true,
      credentials: { mode: 'assume-role', roleArn: homeRole, durationSeconds: 3600 },
    },
  ]) {
    const res = await rg.api(rg.tokens.admin, 'POST', '/api/connections', body);
    expect(res.status, res.text).toBe(201);
  }
});

afterAll(async () => {
  await rg?.close();
});

async function createSession(token: string, body: Record<string, unknown> = {}): Promise<CreatedSessionResponse> {
  const res = await rg.api(token, 'POST', '/api/sessions', body);
  expect(res.status, res.text).toBe(201);
  const created = res.json as CreatedSessionResponse;
  rg.secrets.add(created.token);
  return created;
}

async function credentials(token: string, connection: string) {
  const res = await rg.api(token, 'POST', `/api/connections/${connection}/credentials`);
  if (res.status === 200) {
    const c = res.json as CredentialsResponse;
    rg.secrets.add(c.SecretAccessKey);
    if (c.SessionToken) rg.secrets.add(c.SessionToken);
  }
  return res;
}

async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    return httpStatusOf(e) ?? -1;
  }
}

describe('entitled roles', () => {
  it('lists roles from admin properties with their source, never another user’s', async () => {
    const alice = (await rg.api(rg.tokens.alice, 'GET', '/api/me/roles')).json as EntitledRolesResponse;
    expect(alice.roles).toEqual([
      { roleArn: rg.seed.marketingRoleArn, sources: [{ kind: 'property', property: 'marketingRole' }] },
      { roleArn: rg.seed.salesRoleArn, sources: [{ kind: 'property', property: 'salesRole' }] },
    ]);
    expect(alice.session).toBeUndefined();
    const carol = (await rg.api(rg.tokens.carol, 'GET', '/api/me/roles')).json as EntitledRolesResponse;
    expect(carol.roles).toEqual([]);
  });
});

describe('sessions', () => {
  it('start with the first entitled role and switch only to entitled roles', async () => {
    const s = await createSession(rg.tokens.alice, { name: 'notebook' });
    expect(s.roleArn).toBe(rg.seed.marketingRoleArn);
    const me = (await rg.api(s.token, 'GET', '/api/me/roles')).json as EntitledRolesResponse;
    expect(me.session).toEqual({ id: s.id, roleArn: rg.seed.marketingRoleArn });

    const switched = await rg.api(rg.tokens.alice, 'POST', `/api/sessions/${s.id}/role`, {
      roleArn: rg.seed.salesRoleArn,
    });
    expect(switched.status, switched.text).toBe(200);
    expect((switched.json as SessionResponse).roleArn).toBe(rg.seed.salesRoleArn);

    // bob may not take alice's session, nor a role he is not entitled to in his own.
    const foreign = await rg.api(rg.tokens.bob, 'POST', `/api/sessions/${s.id}/role`, {
      roleArn: rg.seed.salesRoleArn,
    });
    expect(foreign.status).toBe(404);
    const bobs = await createSession(rg.tokens.bob);
    const refused = await rg.api(rg.tokens.bob, 'POST', `/api/sessions/${bobs.id}/role`, {
      roleArn: rg.seed.marketingRoleArn,
    });
    expect(refused.status).toBe(403);
    expect((refused.json as { code: string }).code).toBe('session.role_not_entitled');
    const notEntitled = await rg.api(rg.tokens.bob, 'POST', '/api/sessions', { roleArn: rg.seed.marketingRoleArn });
    expect(notEntitled.status).toBe(403);

    await rg.app.trail.flush();
    const events = await rg.app.db
      .selectFrom('audit_events')
      .select('event')
      .where('action', '=', 'session.role_switch')
      .execute();
    const parsed = events.map((e) => JSON.parse(e.event) as { actor: string; outcome: string; roleArn: string });
    expect(parsed).toContainEqual(
      expect.objectContaining({ outcome: 'allowed', roleArn: rg.seed.salesRoleArn, actor: 'alice' }),
    );
    expect(parsed).toContainEqual(
      expect.objectContaining({ outcome: 'denied', roleArn: rg.seed.marketingRoleArn, actor: 'bob' }),
    );
  });

  it('give ${sessionRole} connections the session’s role, and nothing without a session', async () => {
    const sales = await createSession(rg.tokens.alice, { roleArn: rg.seed.salesRoleArn });
    const listed = await rg.api(sales.token, 'GET', `/api/connections/${sessionConn}/objects?prefix=sales/2024/`);
    expect(listed.status, listed.text).toBe(200);
    const mkt = await rg.api(sales.token, 'GET', `/api/connections/${sessionConn}/object?key=marketing/campaigns.csv`);
    expect(mkt.status).toBe(403);

    await rg.api(rg.tokens.alice, 'POST', `/api/sessions/${sales.id}/role`, { roleArn: rg.seed.marketingRoleArn });
    const after = await rg.api(
      sales.token,
      'GET',
      `/api/connections/${sessionConn}/object?key=marketing/campaigns.csv`,
    );
    expect(after.status, after.text).toBe(200);
    expect(after.text).toBe(rg.seed.objects['marketing/campaigns.csv']);

    const none = await credentials(rg.tokens.alice, sessionConn);
    expect(none.status).toBe(403);
    expect((none.json as { code: string }).code).toBe('template.session_role_missing');
    const carol = await createSession(rg.tokens.carol);
    expect(carol.roleArn).toBeNull();
    expect((await credentials(carol.token, sessionConn)).status).toBe(403);
  });

  it('never serve one session’s or user’s credentials to another, even racing on one connection', async () => {
    const [a1, a2, b1] = await Promise.all([
      createSession(rg.tokens.alice, { roleArn: rg.seed.salesRoleArn }),
      createSession(rg.tokens.alice, { roleArn: rg.seed.salesRoleArn }),
      createSession(rg.tokens.bob, { roleArn: rg.seed.salesRoleArn }),
    ]);
    const callers = [a1, a2, b1];
    const results = await Promise.all(
      Array.from({ length: 18 }, (_, i) => callers[i % 3] as CreatedSessionResponse).map(async (s) => {
        const res = await credentials(s.token, sessionConn);
        expect(res.status, res.text).toBe(200);
        return { session: s.id, c: res.json as CredentialsResponse };
      }),
    );
    const keysBySession = new Map<string, Set<string>>();
    for (const { session, c } of results) {
      expect(c.roleArn).toBe(rg.seed.salesRoleArn);
      const keys = keysBySession.get(session) ?? new Set<string>();
      keys.add(c.AccessKeyId);
      keysBySession.set(session, keys);
    }
    // One shared role session per rolegate session (single-flight), and none shared across sessions.
    const perSession = [...keysBySession.values()];
    expect(perSession.map((k) => k.size)).toEqual([1, 1, 1]);
    expect(new Set(perSession.flatMap((k) => [...k])).size).toBe(3);
    const bobCreds = results.find((r) => r.session === b1.id)?.c;
    expect(bobCreds?.roleSessionName).toContain('bob');
    expect(findLeaks(rg, (body) => body.includes('"SecretAccessKey"') || body.includes('"token":"rgs_'))).toEqual([]);
  });

  it('refuse unknown, malformed and deleted session tokens alike', async () => {
    const s = await createSession(rg.tokens.alice);
    expect((await rg.api(rg.tokens.bob, 'DELETE', `/api/sessions/${s.id}`)).status).toBe(404);
    expect((await rg.api(rg.tokens.alice, 'DELETE', `/api/sessions/${s.id}`)).status).toBe(204);
    // Ending a session is recorded before it happens and how it went after; bob's attempt as denied.
    await rg.app.trail.flush();
    const ended = (
      await rg.app.db
        .selectFrom('audit_events')
        .select('event')
        .where('action', '=', 'session.delete')
        .orderBy('seq')
        .execute()
    )
      .map((e) => JSON.parse(e.event) as { actor: string; outcome: string; details?: { session?: string } })
      .filter((e) => e.details?.session === s.id)
      .map((e) => [e.actor, e.outcome]);
    expect(ended).toEqual([
      ['bob', 'requested'],
      ['bob', 'denied'],
      ['alice', 'requested'],
      ['alice', 'allowed'],
    ]);
    for (const token of [s.token, 'rgs_short', `rgs_${'A'.repeat(43)}`]) {
      const res = await rg.api(token, 'GET', '/api/me');
      expect(res.status).toBe(401);
      expect(res.text).not.toContain(token);
    }
  });
});

/** The CLI's commands in-process, against the test rolegate, with `token` as ROLEGATE_TOKEN. */
function cli(token: string) {
  const out = { stdout: '', stderr: '' };
  const ctx: CliContext = {
    env: {},
    stdout: (t) => {
      out.stdout += t;
    },
    stderr: (t) => {
      out.stderr += t;
    },
    client: async () => createApiClient({ url: rg.url, token }),
    gateway: () => {
      throw new Error('the gateway is not used here');
    },
    selfCommand: [],
  };
  return { ctx, out };
}

describe('rolegate roles / assume', () => {
  it('assume starts a session by role name, and roles marks it current', async () => {
    const name = rg.seed.salesRoleArn.slice(rg.seed.salesRoleArn.lastIndexOf('/') + 1);
    const assume = cli(rg.tokens.alice);
    expect(await assumeCommand([name], assume.ctx)).toBe(0);
    const token = /^export ROLEGATE_TOKEN=(rgs_\S+)$/m.exec(assume.out.stdout)?.[1];
    expect(token).toBeDefined();
    rg.secrets.add(token as string);
    expect(assume.out.stderr).not.toContain(token);

    const roles = cli(token as string);
    expect(await rolesCommand([], roles.ctx)).toBe(0);
    expect(roles.out.stdout).toContain(`* ${rg.seed.salesRoleArn}  (admin property salesRole)`);
    expect(roles.out.stdout).toContain(`  ${rg.seed.marketingRoleArn}  (admin property marketingRole)`);

    const refused = cli(rg.tokens.bob);
    const mkt = rg.seed.marketingRoleArn.slice(rg.seed.marketingRoleArn.lastIndexOf('/') + 1);
    expect(await assumeCommand([mkt], refused.ctx)).toBe(1);
    expect(refused.out.stdout).toBe('');
  });
});

describe('home directories', () => {
  it('confine each user to their own home, even with vended credentials used directly against RGW', async () => {
    const put = async (token: string, key: string, body: string) => {
      const res = await fetch(`${rg.url}/api/connections/${homeConn}/object?key=${key}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
        body,
      });
      expect(res.status, await res.text()).toBe(201);
    };
    await put(rg.tokens.alice, 'notes.txt', 'alice-notes');
    await put(rg.tokens.bob, 'notes.txt', 'bob-notes');
    const own = await rg.api(rg.tokens.alice, 'GET', `/api/connections/${homeConn}/object?key=notes.txt`);
    expect(own.text).toBe('alice-notes');

    const res = await credentials(rg.tokens.alice, homeConn);
    expect(res.status, res.text).toBe(200);
    const c = res.json as CredentialsResponse;
    expect(c.prefix).toBe('home/alice/');
    const s3 = new S3Client({
      endpoint: rg.backend.endpoint,
      region: c.region,
      forcePathStyle: true,
      credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
    });
    try {
      const Bucket = rg.seed.bucket;
      expect(await statusOf(s3.send(new GetObjectCommand({ Bucket, Key: 'home/alice/notes.txt' })))).toBe(200);
      expect(await statusOf(s3.send(new GetObjectCommand({ Bucket, Key: 'home/bob/notes.txt' })))).toBe(403);
      expect(await statusOf(s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'home/bob/' })))).toBe(403);
      expect(await statusOf(s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'home/' })))).toBe(403);
    } finally {
      s3.destroy();
    }
  });
});

describe('mounts', () => {
  beforeAll(async () => {
    for (const body of [
      { path: '/mnt/sales', connection: sessionConn, prefix: 'sales/', roleArn: rg.seed.salesRoleArn },
      { path: '/mnt/sales/2024', connection: sessionConn, prefix: 'sales/2024/', roleArn: rg.seed.salesRoleArn },
      { path: '/mnt/mkt', connection: sessionConn, prefix: 'marketing/', roleArn: rg.seed.marketingRoleArn },
    ]) {
      const res = await rg.api(rg.tokens.admin, 'POST', '/api/mounts', body);
      expect(res.status, res.text).toBe(201);
    }
  });

  it('read two datasets needing different roles side by side, in one client, without a session', async () => {
    const [sales, mkt] = await Promise.all([
      rg.api(rg.tokens.alice, 'GET', '/api/mnt/sales/2024/q1.csv'),
      rg.api(rg.tokens.alice, 'GET', '/api/mnt/mkt/campaigns.csv'),
    ]);
    expect(sales.status, sales.text).toBe(200);
    expect(mkt.status, mkt.text).toBe(200);
    // A join-like read: one row per (region, campaign) pair from the two datasets.
    const rows = (csv: string) => csv.trim().split('\n').slice(1);
    const joined = rows(sales.text).flatMap((r) => rows(mkt.text).map((c) => `${r.split(',')[0]}:${c.split(',')[0]}`));
    expect(joined).toEqual(['north:spring-launch', 'north:summer-sale', 'south:spring-launch', 'south:summer-sale']);
    const root = await rg.api(rg.tokens.alice, 'GET', '/api/mnt/');
    expect((root.json as { folders: string[] }).folders).toEqual(['mkt/', 'sales/']);
    const listing = await rg.api(rg.tokens.alice, 'GET', '/api/mnt/sales/2024/');
    expect((listing.json as { objects: { key: string }[] }).objects.map((o) => o.key)).toEqual(['q1.csv', 'q2.csv']);
  });

  it('hide a mount whose role the user cannot assume: not found, not forbidden', async () => {
    const visible = (await rg.api(rg.tokens.bob, 'GET', '/api/mounts')).json as { path: string }[];
    expect(visible.map((m) => m.path)).toEqual(['/mnt/sales', '/mnt/sales/2024']);
    const hidden = await rg.api(rg.tokens.bob, 'GET', '/api/mnt/mkt/campaigns.csv');
    expect(hidden.status).toBe(404);
    expect((hidden.json as { code: string }).code).toBe('mount.not_found');
    expect((await rg.api(rg.tokens.bob, 'GET', '/api/mnt/sales/2024/q2.csv')).status).toBe(200);
    expect((await rg.api(rg.tokens.carol, 'GET', '/api/mnt/sales/2024/q2.csv')).status).toBe(404);

    await rg.app.trail.flush();
    const events = await rg.app.db
      .selectFrom('audit_events')
      .select('event')
      .where('action', '=', 'mount.resolve')
      .execute();
    const parsed = events.map(
      (e) => JSON.parse(e.event) as { actor: string; outcome: string; details: { mount?: string } },
    );
    expect(parsed).toContainEqual(expect.objectContaining({ actor: 'bob', outcome: 'denied' }));
    expect(parsed).toContainEqual(
      expect.objectContaining({
        actor: 'alice',
        outcome: 'allowed',
        details: expect.objectContaining({ mount: 'sales/2024' }),
      }),
    );
  });

  it('are admin-only and validated', async () => {
    expect(
      (await rg.api(rg.tokens.alice, 'POST', '/api/mounts', { path: '/mnt/x', connection: sessionConn })).status,
    ).toBe(403);
    const bad = await rg.api(rg.tokens.admin, 'POST', '/api/mounts', { path: '/mnt/../x', connection: sessionConn });
    expect(bad.status).toBe(400);
    const fixedRole = await rg.api(rg.tokens.admin, 'POST', '/api/mounts', {
      path: '/mnt/home',
      connection: homeConn,
      roleArn: rg.seed.salesRoleArn,
    });
    expect((fixedRole.json as { code: string }).code).toBe('mount.role_needs_session_role');
  });
});
