import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialsResponse } from '../../src/modules/credentials/credentials.routes.js';
import type { UserResponse } from '../../src/modules/identity/identity.routes.js';
import { findLeaks, startTestRolegate, type TestRolegate } from '../harness/rolegate.js';

let rg: TestRolegate;
beforeAll(async () => {
  rg = await startTestRolegate();
});
afterAll(async () => {
  await rg?.close();
});

const code = (json: unknown) => (json as { code: string }).code;
const message = (json: unknown) => (json as { message: string }).message;

function connectionBody(name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    bucket: rg.seed.bucket,
    path: 'sales/',
    region: rg.backend.region,
    endpoint: rg.backend.endpoint,
    forcePathStyle: true,
    credentials: { mode: 'assume-role', roleArn: '${adminProperty:salesRole}' },
    ...extra,
  };
}

describe('administration is for administrators', () => {
  const adminOnly: Array<[string, string, unknown?]> = [
    ['GET', '/api/users'],
    ['POST', '/api/users', { username: 'mallory' }],
    ['PUT', '/api/users/carol/properties/salesRole', { value: 'arn:aws:iam:::role/x' }],
    ['POST', '/api/groups', { name: 'sneaky' }],
    ['PUT', '/api/groups/analysts/members/carol'],
    ['POST', '/api/connections', { name: 'x-conn', bucket: 'b-b-b', credentials: { mode: 'environment' } }],
    ['DELETE', '/api/connections/s3-sales'],
  ];
  it.each(adminOnly)('%s %s is refused to an analyst', async (method, path, body) => {
    const res = await rg.api(rg.tokens.alice, method, path, body);
    expect([403, 404]).toContain(res.status);
    if (res.status === 403) expect(code(res.json)).toBe('auth.admin_required');
  });

  it('an analyst sees only themself, and only the connections they may use', async () => {
    const me = await rg.api(rg.tokens.alice, 'GET', '/api/me');
    expect(me.json).toMatchObject({
      username: 'alice',
      role: 'analyst',
      propertyNames: ['marketingRole', 'salesRole'],
    });
    expect(me.text).not.toContain('arn:');
    expect((await rg.api(rg.tokens.alice, 'GET', '/api/users/bob')).status).toBe(404);
  });
});

describe('users, groups, properties and tokens', () => {
  it('creates a user, gives it a token (shown once, stored hashed) and revokes it', async () => {
    const created = await rg.api(rg.tokens.admin, 'POST', '/api/users', { username: 'dave' });
    expect(created.status).toBe(201);
    expect((created.json as UserResponse).role).toBe('analyst');
    const dup = await rg.api(rg.tokens.admin, 'POST', '/api/users', { username: 'dave' });
    expect(dup.status).toBe(409);
    expect(code(dup.json)).toBe('user.exists');

    const issued = await rg.api(rg.tokens.admin, 'POST', '/api/users/dave/tokens', { name: 'laptop' });
    expect(issued.status).toBe(201);
    const token = (issued.json as { token: string; id: string }).token;
    rg.secrets.add(token);
    expect((await rg.api(token, 'GET', '/api/me')).json).toMatchObject({ username: 'dave' });
    const listed = await rg.api(rg.tokens.admin, 'GET', '/api/users/dave/tokens');
    expect(listed.text).not.toContain(token);
    const row = await rg.app.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('name', '=', 'laptop')
      .executeTakeFirstOrThrow();
    expect(row.token_hash).not.toContain(token);
    const id = (issued.json as { id: string }).id;
    expect((await rg.api(rg.tokens.admin, 'DELETE', `/api/users/dave/tokens/${id}`)).status).toBe(204);
    expect((await rg.api(token, 'GET', '/api/me')).status).toBe(401);
  });

  it('validates input with stable codes that name the field', async () => {
    const badName = await rg.api(rg.tokens.admin, 'POST', '/api/users', { username: 'Not Valid!' });
    expect(badName.status).toBe(400);
    expect(code(badName.json)).toBe('user.invalid_name');
    const badBody = await rg.api(rg.tokens.admin, 'POST', '/api/users', { username: 'eve', role: 'root' });
    expect(badBody.status).toBe(400);
    expect(code(badBody.json)).toBe('request.invalid');
    expect(message(badBody.json)).toContain('role');
    const extra = await rg.api(rg.tokens.admin, 'POST', '/api/users', { username: 'eve', isAdmin: true });
    expect(extra.status).toBe(400);
    const notJson = await fetch(`${rg.url}/api/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${rg.tokens.admin}`, 'content-type': 'application/json' },
      body: '{"username":',
    });
    expect(notJson.status).toBe(400);
    expect(code(await notJson.json())).toBe('request.invalid');
  });

  it('applies a property change at once (the cached role session is dropped)', async () => {
    const before = await rg.api(rg.tokens.carol, 'GET', '/api/connections/s3-sales/objects');
    expect(before.status).toBe(403);
    const set = await rg.api(rg.tokens.admin, 'PUT', '/api/users/carol/properties/salesRole', {
      value: rg.seed.salesRoleArn,
    });
    expect(set.status).toBe(204);
    expect((await rg.api(rg.tokens.carol, 'GET', '/api/connections/s3-sales/objects')).status).toBe(200);
    expect((await rg.api(rg.tokens.admin, 'DELETE', '/api/users/carol/properties/salesRole')).status).toBe(204);
    expect((await rg.api(rg.tokens.carol, 'GET', '/api/connections/s3-sales/objects')).status).toBe(403);
  });

  it('refuses a property whose value is not a role ARN when a connection resolves it, without echoing the value', async () => {
    await rg.api(rg.tokens.admin, 'POST', '/api/users', { username: 'frank' });
    const token = (await rg.api(rg.tokens.admin, 'POST', '/api/users/frank/tokens', { name: 't' })).json as {
      token: string;
    };
    rg.secrets.add(token.token);
    await rg.api(rg.tokens.admin, 'PUT', '/api/users/frank/properties/salesRole', { value: 'not-an-arn-SECRETISH' });
    const res = await rg.api(token.token, 'GET', '/api/connections/s3-sales/objects');
    expect(res.status).toBe(403);
    expect(code(res.json)).toBe('role.invalid');
    expect(res.text).not.toContain('SECRETISH');
  });
});

describe('connection rules', () => {
  it('usableBy groups hides the connection from non-members (404) and admits members', async () => {
    expect((await rg.api(rg.tokens.admin, 'POST', '/api/groups', { name: 'sales-team' })).status).toBe(201);
    const created = await rg.api(
      rg.tokens.admin,
      'POST',
      '/api/connections',
      connectionBody('team-sales', { usableBy: { groups: ['sales-team'] } }),
    );
    expect(created.status, created.text).toBe(201);
    const denied = await rg.api(rg.tokens.bob, 'GET', '/api/connections/team-sales/objects');
    expect(denied.status).toBe(404);
    const mine = await rg.api(rg.tokens.bob, 'GET', '/api/me/connections');
    expect((mine.json as Array<{ name: string }>).map((c) => c.name)).not.toContain('team-sales');
    expect((await rg.api(rg.tokens.admin, 'PUT', '/api/groups/sales-team/members/bob')).status).toBe(204);
    expect((await rg.api(rg.tokens.bob, 'GET', '/api/connections/team-sales/objects')).status).toBe(200);
    const mineNow = await rg.api(rg.tokens.bob, 'GET', '/api/me/connections');
    expect((mineNow.json as Array<{ name: string }>).map((c) => c.name)).toContain('team-sales');
  });

  it('detailsReadableBy groups gives raw credentials to members only', async () => {
    await rg.api(rg.tokens.admin, 'POST', '/api/groups', { name: 'engineers' });
    await rg.api(rg.tokens.admin, 'PUT', '/api/groups/engineers/members/alice');
    const created = await rg.api(
      rg.tokens.admin,
      'POST',
      '/api/connections',
      connectionBody('eng-sales', { detailsReadableBy: { groups: ['engineers'] } }),
    );
    expect(created.status, created.text).toBe(201);
    const alice = await rg.api(rg.tokens.alice, 'POST', '/api/connections/eng-sales/credentials');
    expect(alice.status).toBe(200);
    const c = alice.json as CredentialsResponse;
    rg.secrets.add(c.SecretAccessKey);
    if (c.SessionToken) rg.secrets.add(c.SessionToken);
    const bob = await rg.api(rg.tokens.bob, 'POST', '/api/connections/eng-sales/credentials');
    expect(bob.status).toBe(403);
    expect(code(bob.json)).toBe('credentials.details_not_readable');
    // bob still reads through rolegate
    expect((await rg.api(rg.tokens.bob, 'GET', '/api/connections/eng-sales/objects')).status).toBe(200);
  });

  it('refuses invalid connections with the field named', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ path: '../etc/' }, 'path'],
      [{ bucket: 'Bad_Bucket' }, 'bucket'],
      [
        { credentials: { mode: 'assume-role', roleArn: 'arn:aws:iam:::role/r', durationSeconds: 60 } },
        'credentials.durationSeconds',
      ],
      [{ credentials: { mode: 'assume-role', roleArn: '${adminProperty:}' } }, 'credentials.roleArn'],
      [{ credentials: { mode: 'assume-role', roleArn: 'not-an-arn' } }, 'credentials.roleArn'],
      [{ credentials: { mode: 'keypair', accessKeyId: 'AKIDEXAMPLE' } }, 'credentials.secretAccessKey'],
      [{ endpoint: 'ftp://example' }, 'endpoint'],
    ];
    for (const [extra, field] of cases) {
      const res = await rg.api(rg.tokens.admin, 'POST', '/api/connections', connectionBody('bad-conn', extra));
      expect(res.status, JSON.stringify(extra)).toBe(400);
      expect(code(res.json)).toBe('connection.invalid');
      expect(message(res.json).startsWith(`${field}:`), message(res.json)).toBe(true);
    }
    expect((await rg.api(rg.tokens.admin, 'GET', '/api/connections/bad-conn')).status).toBe(404);
  });

  it('stores a connection keypair encrypted and never returns its secret', async () => {
    const secret = rg.backend.admin.secretAccessKey;
    const res = await rg.api(
      rg.tokens.admin,
      'POST',
      '/api/connections',
      connectionBody('kp-sales', {
        credentials: { mode: 'keypair', accessKeyId: rg.backend.admin.accessKeyId, secretAccessKey: secret },
        detailsReadableBy: 'nobody',
      }),
    );
    expect(res.status, res.text).toBe(201);
    expect(res.text).not.toContain(secret);
    expect((res.json as { credentials: { secretStored: boolean } }).credentials.secretStored).toBe(true);
    const got = await rg.api(rg.tokens.admin, 'GET', '/api/connections/kp-sales');
    expect(got.text).not.toContain(secret);
    const rows = await rg.app.db.selectFrom('vault_secrets').selectAll().execute();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.sealed).not.toContain(secret);
    const spec = await rg.app.db
      .selectFrom('connections')
      .select('spec')
      .where('name', '=', 'kp-sales')
      .executeTakeFirstOrThrow();
    expect(spec.spec).not.toContain(secret);
    // the keypair works for the slow path (the bucket owner's keys reach the whole bucket, rolegate keeps to sales/)
    const listing = await rg.api(rg.tokens.carol, 'GET', '/api/connections/kp-sales/objects');
    expect(listing.status).toBe(200);
    expect(listing.json).toMatchObject({ folders: ['2024/'] });
  });

  it('per-user-keypair: denied without a stored keypair, works with one, and never echoes it', async () => {
    const created = await rg.api(
      rg.tokens.admin,
      'POST',
      '/api/connections',
      connectionBody('mine-sales', { credentials: { mode: 'per-user-keypair' } }),
    );
    expect(created.status, created.text).toBe(201);
    const without = await rg.api(rg.tokens.carol, 'GET', '/api/connections/mine-sales/objects');
    expect(without.status).toBe(403);
    expect(code(without.json)).toBe('credentials.user_keypair_missing');
    expect(message(without.json)).toContain('mine-sales');
    const stored = await rg.api(rg.tokens.carol, 'PUT', '/api/me/keypairs/mine-sales', {
      accessKeyId: rg.backend.admin.accessKeyId,
      secretAccessKey: rg.backend.admin.secretAccessKey,
    });
    expect(stored.status).toBe(204);
    const shown = await rg.api(rg.tokens.carol, 'GET', '/api/me/keypairs/mine-sales');
    expect(shown.json).toEqual({ accessKeyId: rg.backend.admin.accessKeyId });
    expect((await rg.api(rg.tokens.carol, 'GET', '/api/connections/mine-sales/objects')).status).toBe(200);
    // bob has stored nothing: his keypair is his own business, not carol's
    expect((await rg.api(rg.tokens.bob, 'GET', '/api/connections/mine-sales/objects')).status).toBe(403);
    expect((await rg.api(rg.tokens.carol, 'DELETE', '/api/me/keypairs/mine-sales')).status).toBe(204);
    expect((await rg.api(rg.tokens.carol, 'GET', '/api/connections/mine-sales/objects')).status).toBe(403);
  });

  it('rejects a concurrent edit with a version conflict', async () => {
    const body = connectionBody('versioned');
    const created = await rg.api(rg.tokens.admin, 'POST', '/api/connections', body);
    const version = (created.json as { version: number }).version;
    const first = await rg.api(rg.tokens.admin, 'PUT', `/api/connections/versioned?expectedVersion=${version}`, {
      ...body,
      description: 'one',
    });
    expect(first.status).toBe(200);
    const stale = await rg.api(rg.tokens.admin, 'PUT', `/api/connections/versioned?expectedVersion=${version}`, {
      ...body,
      description: 'two',
    });
    expect(stale.status).toBe(409);
    expect(code(stale.json)).toBe('connection.version_conflict');
  });

  it('serves the OpenAPI description at /docs', async () => {
    const res = await fetch(`${rg.url}/docs/json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/connections', '/api/connections/{name}/credentials']),
    );
  });

  it('leaked nothing', () => {
    rg.secrets.add(rg.backend.admin.secretAccessKey);
    // Only the two responses whose purpose is to hand a secret out (once) may contain one.
    const handsOut = (body: string) => body.includes('"SecretAccessKey"') || body.includes('"token":"rg_');
    expect(findLeaks(rg, handsOut)).toEqual([]);
  });
});
