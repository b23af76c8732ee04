import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventResponse } from '../../src/modules/audit/audit.routes.js';
import { findLeaks, startTestRolegate, type TestRolegate } from '../harness/rolegate.js';

let rg: TestRolegate;
beforeAll(async () => {
  rg = await startTestRolegate({
    config: {
      audit: { sinks: [{ type: 'database' }, { type: 'file', path: 'AUDIT_FILE' }], minAccepted: 2 },
    },
  });
});
afterAll(async () => {
  await rg?.close();
});

async function events(query: string, token = rg.tokens.admin): Promise<AuditEventResponse[]> {
  const res = await rg.api(token, 'GET', `/api/audit?${query}`);
  expect(res.status, res.text).toBe(200);
  return (res.json as { events: AuditEventResponse[] }).events;
}

describe('what gets recorded', () => {
  it('records the decision and the operation of a read, with the role session that did it', async () => {
    const res = await rg.api(rg.tokens.alice, 'GET', '/api/connections/s3-sales/object?key=2024/q1.csv', undefined, {
      'user-agent': 'audit-test/1.0',
    });
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-request-id') as string;
    const mine = (await events('user=alice&connection=s3-sales')).filter((e) => e.requestId === requestId);
    const decision = mine.find((e) => e.action === 'access.read');
    const op = mine.find((e) => e.action === 'object.get');
    expect(decision).toMatchObject({
      outcome: 'allowed',
      actor: 'alice',
      authMethod: 'token',
      roleArn: rg.seed.salesRoleArn,
      sessionName: 'rg-s3-sales-for-alice',
      bucket: rg.seed.bucket,
      userAgent: 'audit-test/1.0',
      sourceIp: '127.0.0.1',
    });
    expect(decision?.accessKeyId).toMatch(/^[A-Za-z0-9]{16,}$/);
    expect(op).toMatchObject({
      outcome: 'allowed',
      key: '2024/q1.csv',
      bytes: (rg.seed.objects['sales/2024/q1.csv'] as string).length,
      sessionName: 'rg-s3-sales-for-alice',
      accessKeyId: decision?.accessKeyId,
    });
    expect(op?.seq).toBeGreaterThan(decision?.seq ?? Number.POSITIVE_INFINITY);
  });

  it('records denials with their reason code', async () => {
    const res = await rg.api(rg.tokens.bob, 'GET', '/api/connections/s3-marketing/objects');
    expect(res.status).toBe(403);
    const denied = await events('user=bob&outcome=denied');
    expect(denied.map((e) => [e.action, e.reasonCode])).toEqual(
      expect.arrayContaining([
        ['access.read', 'template.property_missing'],
        ['object.list', 'template.property_missing'],
      ]),
    );
  });

  it('names the connection an admin created', async () => {
    const res = await rg.api(rg.tokens.admin, 'POST', '/api/connections', {
      name: 'audited-conn',
      bucket: rg.seed.bucket,
      path: 'sales/',
      credentials: { mode: 'assume-role', roleArn: '${adminProperty:salesRole}' },
    });
    expect(res.status, res.text).toBe(201);
    const [created] = await events('action=connection.create');
    expect(created).toMatchObject({ actor: 'admin', connection: 'audited-conn', outcome: 'allowed' });
  });

  it('records an admin change before it is made and how it ended after, under one request id', async () => {
    const created = await rg.api(rg.tokens.admin, 'POST', '/api/groups', { name: 'audited-group' });
    expect(created.status, created.text).toBe(201);
    const refused = await rg.api(rg.tokens.bob, 'POST', '/api/groups', { name: 'bobs-group' });
    expect(refused.status).toBe(403);
    for (const [res, actor, outcome] of [
      [created, 'admin', 'allowed'],
      [refused, 'bob', 'denied'],
    ] as const) {
      const requestId = res.headers.get('x-request-id');
      const pair = (await events('action=group.create')).filter((e) => e.requestId === requestId).reverse();
      expect(pair.map((e) => [e.actor, e.outcome])).toEqual([
        [actor, 'requested'],
        [actor, outcome],
      ]);
      expect((pair[1]?.seq ?? 0) > (pair[0]?.seq ?? 0)).toBe(true);
    }
    // A data write is preceded by its role session's decision instead, not by a second event of its own.
    const put = await rg.api(rg.tokens.alice, 'PUT', '/api/connections/s3-sales/object?key=audit/intent.txt');
    expect(put.status, put.text).toBe(201);
    const mine = (await events('user=alice&connection=s3-sales')).filter(
      (e) => e.requestId === put.headers.get('x-request-id'),
    );
    expect(mine.map((e) => [e.action, e.outcome]).reverse()).toEqual([
      ['access.write', 'allowed'],
      ['object.put', 'allowed'],
    ]);
    expect((await events('outcome=requested&action=object.put')).length).toBe(0);
  });

  it('records admin changes by name, never the property value', async () => {
    const value = 'arn:aws:iam:::role/value-that-must-not-be-audited';
    expect((await rg.api(rg.tokens.admin, 'PUT', '/api/users/carol/properties/extraRole', { value })).status).toBe(204);
    const [set] = await events('action=property.set');
    expect(set).toMatchObject({
      actor: 'admin',
      outcome: 'allowed',
      details: { username: 'carol', property: 'extraRole', status: 204 },
    });
    const all = await rg.api(rg.tokens.admin, 'GET', '/api/audit/export?format=jsonl');
    expect(all.text).not.toContain('value-that-must-not-be-audited');
  });

  it('records credential issuance with the access key id but never the secret', async () => {
    const res = await rg.api(rg.tokens.alice, 'POST', '/api/connections/s3-sales/credentials');
    expect(res.status).toBe(200);
    const c = res.json as { AccessKeyId: string; SecretAccessKey: string; SessionToken: string };
    rg.secrets.add(c.SecretAccessKey);
    rg.secrets.add(c.SessionToken);
    const [issued] = await events('action=credentials.issue&user=alice');
    expect(issued).toMatchObject({
      outcome: 'allowed',
      accessKeyId: c.AccessKeyId,
      sessionName: 'rg-s3-sales-for-alice',
    });
  });

  it('lets users see only their own events', async () => {
    const own = await events('limit=1000', rg.tokens.bob);
    expect(own.length).toBeGreaterThan(0);
    expect(new Set(own.map((e) => e.actor))).toEqual(new Set(['bob']));
    expect(await events('user=alice', rg.tokens.bob)).toEqual([]);
  });

  it('matches the session names RGW writes to its ops log (CloudTrail-style correlation)', async () => {
    // RGW appends to the ops log asynchronously and other files write to it too: parse whole lines only, and
    // give it a moment to catch up.
    const opsLogSessions = async () => {
      const text = await readFile(join(rg.backend.dir, 'log', 'ops.log'), 'utf8');
      const names = new Set<string>();
      for (const line of text.split('\n')) {
        if (!line.includes(rg.seed.bucket)) continue;
        try {
          const s = (JSON.parse(line) as { sts_info?: { role_session?: string } }).sts_info?.role_session;
          if (s !== undefined) names.add(s);
        } catch {
          // a line still being written
        }
      }
      return names;
    };
    let sessions = await opsLogSessions();
    for (let i = 0; i < 30 && !sessions.has('rg-s3-sales-for-alice'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      sessions = await opsLogSessions();
    }
    const audited = new Set((await events('user=alice&action=access.read')).map((e) => e.sessionName));
    expect([...audited]).toContain('rg-s3-sales-for-alice');
    for (const s of audited) expect(sessions).toContain(s);
  });
});

describe('integrity', () => {
  it('the chain verifies, the file sink holds the same events, and nothing secret reached a sink', async () => {
    const verify = await rg.api(rg.tokens.admin, 'GET', '/api/audit/verify');
    expect(verify.json).toMatchObject({ ok: true });
    const checked = (verify.json as { checked: number }).checked;
    expect(checked).toBeGreaterThanOrEqual(5);
    const fileLines = (await readFile(join(rg.dir, 'AUDIT_FILE'), 'utf8')).trim().split('\n');
    expect(fileLines.length).toBe(checked);
    const exported = await rg.api(rg.tokens.admin, 'GET', '/api/audit/export?format=jsonl');
    const sinks = [exported.text, fileLines.join('\n')];
    for (const secret of rg.secrets) for (const text of sinks) expect(text.includes(secret)).toBe(false);
    expect(findLeaks(rg, (b) => b.includes('"SecretAccessKey"') || b.includes('"token":"rg_'))).toEqual([]);
  });

  it('exports CSV with a header and one row per event', async () => {
    const csv = await rg.api(rg.tokens.admin, 'GET', '/api/audit/export?format=csv');
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const [header, ...rows] = csv.text.trim().split('\n');
    expect(header).toContain('seq,time,requestId,actor');
    expect(rows.length).toBeGreaterThanOrEqual(5);
    expect((await rg.api(rg.tokens.alice, 'GET', '/api/audit/export?format=csv')).status).toBe(403);
  });

  it('detects an edited event', async () => {
    const row = await rg.app.db
      .selectFrom('audit_events')
      .select(['seq', 'event'])
      .where('action', '=', 'object.get')
      .executeTakeFirstOrThrow();
    const edited = row.event.replace('"outcome":"allowed"', '"outcome":"denied"');
    expect(edited).not.toBe(row.event);
    await rg.app.db.updateTable('audit_events').set({ event: edited }).where('seq', '=', row.seq).execute();
    const verify = await rg.api(rg.tokens.admin, 'GET', '/api/audit/verify');
    expect(verify.json).toMatchObject({ ok: false, seq: row.seq });
    await rg.app.db.updateTable('audit_events').set({ event: row.event }).where('seq', '=', row.seq).execute();
    expect((await rg.api(rg.tokens.admin, 'GET', '/api/audit/verify')).json).toMatchObject({ ok: true });
  });
});

describe('explain', () => {
  it('agrees with the real request, allowed and denied', async () => {
    const cases: Array<[string, string, string]> = [
      ['alice', 's3-sales', 'alice'],
      ['alice', 's3-marketing', 'alice'],
      ['bob', 's3-marketing', 'bob'],
      ['carol', 's3-sales', 'carol'],
    ];
    for (const [user, connection, tokenOf] of cases) {
      const token = rg.tokens[tokenOf as 'alice' | 'bob' | 'carol'];
      const explained = await rg.api(
        rg.tokens.admin,
        'GET',
        `/api/explain?user=${user}&connection=${connection}&key=2024/q1.csv`,
      );
      expect(explained.status, explained.text).toBe(200);
      const e = explained.json as { allowed: boolean; denial?: { code: string }; sessionName?: string; path: string };
      const real = await rg.api(token, 'GET', `/api/connections/${connection}/objects`);
      expect(e.allowed, `${user} on ${connection}`).toBe(real.status === 200);
      if (!e.allowed) expect(e.denial?.code).toBe((real.json as { code: string }).code);
      expect(explained.text).not.toContain('arn:aws:iam:::role/value-that');
    }
    const alice = await rg.api(rg.tokens.admin, 'GET', '/api/explain?user=alice&connection=s3-sales');
    expect(alice.json).toMatchObject({
      sessionName: 'rg-s3-sales-for-alice',
      path: 'fast',
      propertiesUsed: ['salesRole'],
    });
    const mkt = await rg.api(rg.tokens.admin, 'GET', '/api/explain?user=alice&connection=s3-marketing');
    expect(mkt.json).toMatchObject({ path: 'slow' });
    // users may explain themselves only
    expect((await rg.api(rg.tokens.bob, 'GET', '/api/explain?user=alice&connection=s3-sales')).status).toBe(404);
    expect((await rg.api(rg.tokens.bob, 'GET', '/api/explain?user=bob&connection=s3-sales')).status).toBe(200);
  });
});

describe('fail-closed', () => {
  let hook: Server;
  let mode: 'ok' | 'fail' | 'hang' = 'ok';
  let strict: TestRolegate;

  beforeAll(async () => {
    hook = createServer((req, res) => {
      req.resume();
      if (mode === 'hang') return;
      res.writeHead(mode === 'ok' ? 204 : 500);
      res.end();
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/audit`;
    strict = await startTestRolegate({
      config: { audit: { sinks: [{ type: 'database' }, { type: 'webhook', url }], minAccepted: 2, timeoutMs: 300 } },
    });
  });
  afterAll(async () => {
    await strict?.close();
    hook?.closeAllConnections();
    await new Promise((r) => hook?.close(r));
  });

  it('refuses credentials and data when a required sink refuses, and recovers when it is back', async () => {
    mode = 'ok';
    expect((await strict.api(strict.tokens.alice, 'POST', '/api/connections/s3-sales/credentials')).status).toBe(200);
    mode = 'fail';
    const creds = await strict.api(strict.tokens.alice, 'POST', '/api/connections/s3-sales/credentials');
    expect(creds.status).toBe(503);
    expect((creds.json as { code: string }).code).toBe('audit.unavailable');
    expect(creds.text).not.toContain('SecretAccessKey');
    const data = await strict.api(strict.tokens.alice, 'GET', '/api/connections/s3-sales/object?key=2024/q1.csv');
    expect(data.status).toBe(503);
    expect(data.text).not.toContain('region,revenue');
    mode = 'ok';
    expect(
      (await strict.api(strict.tokens.alice, 'GET', '/api/connections/s3-sales/object?key=2024/q1.csv')).status,
    ).toBe(200);
    expect((await strict.api(strict.tokens.admin, 'GET', '/api/audit/verify')).json).toMatchObject({ ok: true });
  });

  it('makes no admin change that it could not record first', async () => {
    mode = 'fail';
    const res = await strict.api(strict.tokens.admin, 'POST', '/api/users', { username: 'unrecorded' });
    expect(res.status).toBe(503);
    expect((res.json as { code: string }).code).toBe('audit.unavailable');
    const revoke = await strict.api(strict.tokens.admin, 'DELETE', '/api/users/bob');
    expect(revoke.status).toBe(503);
    mode = 'ok';
    expect((await strict.api(strict.tokens.admin, 'GET', '/api/users/unrecorded')).status).toBe(404);
    expect((await strict.api(strict.tokens.admin, 'GET', '/api/users/bob')).status).toBe(200);
    expect((await strict.api(strict.tokens.admin, 'GET', '/api/audit/verify')).json).toMatchObject({ ok: true });
  });

  it('fails within the bounded timeout when a sink hangs', async () => {
    mode = 'hang';
    const started = Date.now();
    const res = await strict.api(strict.tokens.alice, 'GET', '/api/connections/s3-sales/object?key=2024/q1.csv');
    const elapsed = Date.now() - started;
    expect(res.status).toBe(503);
    expect(elapsed).toBeLessThan(3_000);
    mode = 'ok';
  });
});
