import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetResponse } from '../../src/modules/catalog/datasets.routes.js';
import { cleanEnv, requireBuiltCli, runCli } from '../harness/cli.js';
import { startTestRolegate, type TestRolegate } from '../harness/rolegate.js';

let rg: TestRolegate;
let dir: string;
beforeAll(async () => {
  requireBuiltCli();
  [rg, dir] = await Promise.all([startTestRolegate(), mkdtemp(join(tmpdir(), 'rolegate-datasets-cli-'))]);
});
afterAll(async () => {
  await rg?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const as = (token: string) => cleanEnv({ ROLEGATE_URL: rg.url, ROLEGATE_TOKEN: token });

describe('rolegate datasets', () => {
  it('alice creates a CSV dataset, writes two files as one version, reads and describes it, deletes it with its data', async () => {
    const alice = as(rg.tokens.alice);
    const created = await runCli(
      [
        'datasets',
        'create',
        'cli_proj.orders',
        '--connection',
        's3-sales',
        '--format',
        'csv',
        '--description',
        'orders',
      ],
      alice,
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^created cli_proj\.orders at s3:\/\/.*\/cli_proj\/orders\/\n$/);

    const q1 = join(dir, 'q1.csv');
    const q2 = join(dir, 'q2.csv');
    await writeFile(q1, 'id,region,amount\n1,north,10.5\n2,south,7\n');
    await writeFile(q2, 'id,region,amount\n3,east,1.25\n');
    const wrote = await runCli(['datasets', 'write', 'cli_proj.orders', q1, q2], alice);
    expect(wrote.code, wrote.stderr).toBe(0);
    expect(wrote.stdout).toBe('wrote 2 files to cli_proj.orders: version 1, 3 row(s)\n');

    const read = await runCli(['datasets', 'read', 'cli_proj.orders'], alice);
    expect(read.code, read.stderr).toBe(0);
    // One CSV: the second file's header is skipped.
    expect(
      read.stdout
        .split('\n')
        .filter((l) => l !== '')
        .sort(),
    ).toEqual(['1,north,10.5', '2,south,7', '3,east,1.25', 'id,region,amount'].sort());
    expect(read.stdout.startsWith('id,region,amount\n')).toBe(true);
    const out = join(dir, 'all.csv');
    expect((await runCli(['datasets', 'read', 'cli_proj.orders', '-o', out], alice)).code).toBe(0);
    expect(await readFile(out, 'utf8')).toBe(read.stdout);

    // A failed upload aborts the whole write: the dataset keeps its version.
    const bad = join(dir, 'bad.csv');
    await writeFile(bad, 'id,region,amount\n4,west,lots\n');
    const refused = await runCli(['datasets', 'write', 'cli_proj.orders', q2, bad], alice);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[dataset.schema_mismatch]');
    expect(refused.stderr).toMatch(/write \S+ aborted; cli_proj\.orders is unchanged/);
    expect((await rg.api(rg.tokens.alice, 'GET', '/api/datasets/cli_proj/orders')).json).toMatchObject({
      version: 1,
      rows: 3,
    });

    // One more file in one request (overwrite): the dataset now holds only it.
    const single = await runCli(['datasets', 'write', 'cli_proj.orders', q2, '--mode', 'overwrite'], alice);
    expect(single.code, single.stderr).toBe(0);
    expect(single.stdout).toBe('wrote q2.csv to cli_proj.orders: version 2, 1 row(s)\n');

    const described = await runCli(['datasets', 'describe', 'cli_proj.orders'], alice);
    expect(described.code, described.stderr).toBe(0);
    expect(described.stdout).toContain('cli_proj.orders  csv on s3-sales  version 2, 1 row(s), 1 file(s)');
    expect(described.stdout).toMatch(/amount double/);
    const json = JSON.parse((await runCli(['datasets', 'describe', 'cli_proj.orders', '--json'], alice)).stdout);
    expect((json as DatasetResponse).columns.map((c) => c.name)).toEqual(['id', 'region', 'amount']);
    expect((json as DatasetResponse).owner).toBe('alice');

    const listed = await runCli(['datasets', 'list', '--connection', 's3-sales'], alice);
    expect(listed.stdout).toContain('cli_proj.orders  csv  s3-sales  v2');

    const deleted = await runCli(['datasets', 'delete', 'cli_proj.orders', '--with-data'], alice);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toBe('deleted cli_proj.orders and its data\n');
    const gone = await runCli(['datasets', 'describe', 'cli_proj.orders'], alice);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('[dataset.not_found]');
  });

  it('refuses bob on s3-marketing with the API’s code and exit 1; usage mistakes exit 2', async () => {
    const bob = as(rg.tokens.bob);
    const refused = await runCli(
      ['datasets', 'create', 'mkt.leads', '--connection', 's3-marketing', '--format', 'csv'],
      bob,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[template.property_missing]');
    expect(refused.stdout).toBe('');
    const usage = await runCli(['datasets', 'create', 'no-dot', '--connection', 's3-sales', '--format', 'csv'], bob);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('a dataset is named PROJECT.NAME');
  });

  it('the internal catalog is browsable, and binding needs an administrator', async () => {
    const alice = as(rg.tokens.alice);
    const dbs = await runCli(['catalog', 'databases', 's3-sales'], alice);
    expect(dbs.code, dbs.stderr).toBe(0);
    const bind = await runCli(['catalog', 'bind', 's3-sales', '--glue', 'analytics'], alice);
    expect(bind.code).toBe(1);
    expect(bind.stderr).toContain('[auth.admin_required]');
    const unbind = await runCli(['catalog', 'unbind', 's3-sales'], as(rg.tokens.admin));
    expect(unbind.code, unbind.stderr).toBe(0);
    expect(unbind.stdout).toBe("s3-sales: datasets are kept in rolegate's internal catalog\n");
  });
});
