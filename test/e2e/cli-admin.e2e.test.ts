import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, requireBuiltCli, runCli } from '../harness/cli.js';
import { startTestRolegate, type TestRolegate } from '../harness/rolegate.js';

let rg: TestRolegate;
beforeAll(async () => {
  requireBuiltCli();
  rg = await startTestRolegate();
});
afterAll(async () => {
  await rg?.close();
});

const as = (token: string) => cleanEnv({ ROLEGATE_URL: rg.url, ROLEGATE_TOKEN: token });

describe('rolegate audit, explain and gateway-keys', () => {
  it('explains allowed and denied decisions, with an exit status to match', async () => {
    const ok = await runCli(
      ['explain', '--user', 'alice', '--connection', 's3-sales', '--key', '2024/q1.csv'],
      as(rg.tokens.admin),
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('alice on s3-sales key 2024/q1.csv: ALLOWED (fast path)');
    expect(ok.stdout).toContain('session name: rg-s3-sales-for-alice');
    const denied = await runCli(['explain', '--user', 'bob', '--connection', 's3-marketing'], as(rg.tokens.admin));
    expect(denied.code).toBe(1);
    expect(denied.stdout).toContain('denied by: template.property_missing');
    expect(denied.stdout).toContain('marketingRole');
  });

  it('creates, lists and revokes a gateway key; the secret is printed once', async () => {
    const created = await runCli(['gateway-keys', 'create', '--name', 'laptop'], as(rg.tokens.alice));
    expect(created.code, created.stderr).toBe(0);
    const id = /aws_access_key_id = (\S+)/.exec(created.stdout)?.[1] as string;
    const secret = /aws_secret_access_key = (\S+)/.exec(created.stdout)?.[1] as string;
    expect(id).toBeTruthy();
    rg.secrets.add(secret);
    const listed = await runCli(['gateway-keys', 'list'], as(rg.tokens.alice));
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).not.toContain(secret);
    expect((await runCli(['gateway-keys', 'revoke', id], as(rg.tokens.alice))).code).toBe(0);
    expect((await runCli(['gateway-keys', 'list'], as(rg.tokens.alice))).stdout).not.toContain(id);
  });

  it('searches, exports and verifies the audit trail', async () => {
    await rg.api(rg.tokens.bob, 'GET', '/api/connections/s3-marketing/objects');
    const search = await runCli(['audit', 'search', '--user', 'bob', '--outcome', 'denied'], as(rg.tokens.admin));
    expect(search.code, search.stderr).toBe(0);
    expect(search.stdout).toMatch(/bob access\.read s3-marketing.* denied \(template\.property_missing\)/);
    const csv = await runCli(['audit', 'export', '--format', 'csv'], as(rg.tokens.admin));
    expect(csv.stdout.split('\n')[0]).toContain('seq,time');
    expect(csv.stdout).toContain('key.revoke');
    // Every change above ended recorded; one whose end was lost is listed, and the command exits 1.
    const none = await runCli(['audit', 'unfinished', '--older-than', '0'], as(rg.tokens.admin));
    expect(none.stdout, none.stderr).toBe('no unfinished changes\n');
    expect(none.code).toBe(0);
    await rg.app.trail.record({
      requestId: 'req-lost-1',
      actor: 'admin',
      action: 'group.create',
      outcome: 'requested',
    });
    const lost = await runCli(['audit', 'unfinished', '--older-than', '0'], as(rg.tokens.admin));
    expect(lost.code).toBe(1);
    expect(lost.stdout).toMatch(/admin group\.create\s+requested request=req-lost-1\n$/);
    expect((await runCli(['audit', 'unfinished'], as(rg.tokens.admin))).code).toBe(0);
    const verify = await runCli(['audit', 'verify'], as(rg.tokens.admin));
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/audit chain intact: \d+ event\(s\) verified/);
    await rg.app.db.deleteFrom('audit_events').where('seq', '=', 2).execute();
    const broken = await runCli(['audit', 'verify'], as(rg.tokens.admin));
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('BROKEN at event #3');
    const notAdmin = await runCli(['audit', 'export'], as(rg.tokens.bob));
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.stderr).toContain('auth.admin_required');
  });
});
