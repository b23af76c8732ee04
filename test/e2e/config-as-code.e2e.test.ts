import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { propertyPlaceholder, secretPlaceholder } from '../../src/modules/config-as-code/config.service.js';
import { cleanEnv, requireBuiltCli, runCli } from '../harness/cli.js';
import { findLeaks, startTestRolegate, type TestRolegate } from '../harness/rolegate.js';

let rg: TestRolegate;
beforeAll(async () => {
  requireBuiltCli();
  rg = await startTestRolegate();
});
afterAll(async () => {
  await rg?.close();
});

const ROLE_VALUE = 'arn:aws:iam:::role/cac-dana-role';
const env = (extra: NodeJS.ProcessEnv = {}) =>
  cleanEnv({
    ROLEGATE_URL: rg.url,
    ROLEGATE_TOKEN: rg.tokens.admin,
    CAC_DANA_ROLE: ROLE_VALUE,
    CAC_SECRET: rg.backend.admin.secretAccessKey,
    ...extra,
  });

function declaration(groupDescription: string): string {
  return `
groups:
  - name: cac-eng
    description: ${groupDescription}
users:
  - username: cac-dana
    groups: [cac-eng]
    properties:
      salesRole: env:CAC_DANA_ROLE
connections:
  - name: cac-sales
    bucket: ${rg.seed.bucket}
    endpoint: ${rg.backend.endpoint}
    region: ${rg.backend.region}
    forcePathStyle: true
    credentials:
      mode: keypair
      accessKeyId: ${rg.backend.admin.accessKeyId}
      secretAccessKey: env:CAC_SECRET
    usableBy:
      groups: [cac-eng]
mounts:
  - path: /mnt/cac-sales
    connection: cac-sales
    prefix: sales/
`;
}

describe('rolegate apply and export (config as code)', () => {
  it('applies a file, then finds nothing to change, dry-runs a change, and re-applies its own export', async () => {
    const file = join(rg.dir, 'rolegate.yaml');
    writeFileSync(file, declaration('engineers'));

    const applied = await runCli(['apply', '-f', file], env());
    expect(applied.code, applied.stderr).toBe(0);
    for (const line of [
      '+ group cac-eng',
      '+ user cac-dana',
      '+ membership cac-eng/cac-dana',
      '+ property cac-dana/salesRole',
      '+ connection cac-sales',
      '+ mount /mnt/cac-sales',
    ]) {
      expect(applied.stdout).toContain(line);
    }
    expect(applied.stdout).toContain('6 change(s)');

    // The declared user reads through the declared mount, over the declared connection and its secret.
    const user = await rg.api(rg.tokens.admin, 'GET', '/api/users/cac-dana');
    expect(user.json).toMatchObject({ role: 'analyst', groups: ['cac-eng'], propertyNames: ['salesRole'] });
    const token = (await rg.api(rg.tokens.admin, 'POST', '/api/users/cac-dana/tokens', { name: 't' })).json as {
      token: string;
    };
    rg.secrets.add(token.token);
    const listing = await rg.api(token.token, 'GET', '/api/mnt/cac-sales/');
    expect(listing.status, listing.text).toBe(200);
    expect(listing.json).toMatchObject({ folders: ['2024/'] });

    const again = await runCli(['apply', '-f', file], env());
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^no changes \(\d+ unchanged\)$/m);

    writeFileSync(file, declaration('data engineers'));
    const dry = await runCli(['apply', '-f', file, '--dry-run'], env({ CAC_DANA_ROLE: 'arn:aws:iam:::role/other' }));
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('~ group cac-eng (description)');
    expect(dry.stdout).toContain('~ property cac-dana/salesRole (value)');
    expect(dry.stdout).toContain('2 change(s)');
    expect(dry.stdout).toContain('dry run: nothing applied');
    const groups = (await rg.api(rg.tokens.admin, 'GET', '/api/groups')).json as {
      name: string;
      description: string;
    }[];
    expect(groups.find((g) => g.name === 'cac-eng')?.description).toBe('engineers');

    const out = join(rg.dir, 'export.yaml');
    const exported = await runCli(['export', '-o', out], env());
    expect(exported.code, exported.stderr).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).not.toContain(rg.backend.admin.secretAccessKey);
    expect(text).not.toContain(ROLE_VALUE);
    const doc = parseYaml(text) as { connections: { name: string; credentials: { secretAccessKey?: string } }[] };
    expect(doc.connections.find((c) => c.name === 'cac-sales')?.credentials.secretAccessKey).toBe(
      secretPlaceholder('cac-sales'),
    );

    // Re-applying the export with its placeholders set changes nothing.
    const placeholders: NodeJS.ProcessEnv = {
      [secretPlaceholder('cac-sales').slice(4)]: rg.backend.admin.secretAccessKey,
    };
    const rows = await rg.app.db
      .selectFrom('user_properties')
      .innerJoin('users', 'users.id', 'user_properties.user_id')
      .select(['users.username', 'user_properties.name', 'user_properties.value'])
      .execute();
    for (const r of rows) placeholders[propertyPlaceholder(r.username, r.name).slice(4)] = r.value;
    const reapplied = await runCli(['apply', '-f', out], env(placeholders));
    expect(reapplied.code, reapplied.stderr).toBe(0);
    expect(reapplied.stdout).toMatch(/^no changes \(\d+ unchanged\)$/m);
    // Only the token issuance hands a secret out, deliberately.
    expect(findLeaks(rg, (body) => body.includes(token.token))).toEqual([]);
  });

  it('reports every error of a file with its path, and applies nothing', async () => {
    const file = join(rg.dir, 'broken.yaml');
    writeFileSync(
      file,
      `
groups:
  - name: cac-broken
users:
  - username: cac-erin
    properties:
      salesRole: arn:aws:iam:::role/inline
connections:
  - name: cac-two
    bucket: b
    credentials:
      mode: assume-role
      roleArn: arn:aws:iam:::role/x
      durationSeconds: long
`,
    );
    const r = await runCli(['apply', '-f', file], env());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('2 error(s), nothing applied');
    expect(r.stderr).toContain('users[0].properties.salesRole: must be a reference');
    expect(r.stderr).toContain('connections[0].credentials.durationSeconds:');
    const groups = (await rg.api(rg.tokens.admin, 'GET', '/api/groups')).json as { name: string }[];
    expect(groups.map((g) => g.name)).not.toContain('cac-broken');
  });

  it('rolls everything back when one change fails on the server, and refuses non-admins', async () => {
    const file = join(rg.dir, 'half.yaml');
    writeFileSync(
      file,
      `
groups:
  - name: cac-half
connections:
  - name: cac-bad
    bucket: cac-bucket
    credentials:
      mode: keypair
      accessKeyId: AKIAEXAMPLE
`,
    );
    const r = await runCli(['apply', '-f', file], env());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('create connection cac-bad: credentials.secretAccessKey');
    const groups = (await rg.api(rg.tokens.admin, 'GET', '/api/groups')).json as { name: string }[];
    expect(groups.map((g) => g.name)).not.toContain('cac-half');
    const denied = await runCli(['apply', '-f', file], env({ ROLEGATE_TOKEN: rg.tokens.bob }));
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('auth.admin_required');
  });
});
