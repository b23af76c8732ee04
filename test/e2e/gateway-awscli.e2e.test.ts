/**
 * The AWS CLI (Debian's awscli package, /usr/bin/aws) against the S3 gateway: ls, cp (including a 100 MiB
 * multipart upload), sync and rm, and the denials a user must meet.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CommandResult,
  command,
  ensureS3Clients,
  type GatewayKey,
  type GatewayRig,
  gatewayLeaks,
  startGatewayRig,
  writeRandomFile,
} from '../harness/gateway.js';

let rig: GatewayRig;

beforeAll(async () => {
  await ensureS3Clients();
  rig = await startGatewayRig();
  await writeFile(join(rig.dir, 'aws-config'), '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n');
}, 600_000);
afterAll(async () => {
  await rig?.close();
});

function aws(key: GatewayKey, args: string[], timeoutMs = 120_000): Promise<CommandResult> {
  return command('/usr/bin/aws', ['--endpoint-url', rig.endpoint, ...args], {
    cwd: rig.dir,
    timeoutMs,
    env: {
      AWS_ACCESS_KEY_ID: key.accessKeyId,
      AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
      AWS_CONFIG_FILE: join(rig.dir, 'aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(rig.dir, 'no-credentials'),
      AWS_PAGER: '',
    },
  });
}

const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

describe('aws s3 (Debian awscli) through the gateway', () => {
  it('ls lists the usable connections as buckets, and keys relative to the connection path', async () => {
    const buckets = await aws(rig.alice, ['s3', 'ls']);
    expect(buckets.code, buckets.stderr).toBe(0);
    expect(buckets.stdout).toContain('s3-sales');
    expect(buckets.stdout).toContain(rig.privateConnection);
    const keys = await aws(rig.alice, ['s3', 'ls', 's3://s3-sales/2024/']);
    expect(keys.code, keys.stderr).toBe(0);
    expect(keys.stdout).toMatch(/q1\.csv/);
    expect(keys.stdout).toMatch(/q2\.csv/);
    const root = await aws(rig.alice, ['s3', 'ls', '--recursive', 's3://s3-sales/']);
    expect(root.stdout).not.toContain('archive');
    expect(root.stdout).not.toContain('sales/');
  });

  it('cp uploads 100 MiB as a multipart upload and downloads it byte for byte', async () => {
    const source = join(rig.dir, 'big.bin');
    await writeRandomFile(source, 100 * 1024 * 1024, 7);
    const up = await aws(rig.alice, ['s3', 'cp', '--only-show-errors', source, 's3://s3-sales/cli/big.bin'], 300_000);
    expect(up.code, up.stderr).toBe(0);
    const down = join(rig.dir, 'big.down');
    const got = await aws(rig.alice, ['s3', 'cp', '--only-show-errors', 's3://s3-sales/cli/big.bin', down], 300_000);
    expect(got.code, got.stderr).toBe(0);
    expect(await sha256(down)).toBe(await sha256(source));
    const head = await aws(rig.alice, ['s3api', 'head-object', '--bucket', 's3-sales', '--key', 'cli/big.bin']);
    expect(JSON.parse(head.stdout)).toMatchObject({ ContentLength: 100 * 1024 * 1024 });
    // Multipart ETags end in -<parts>: it really went through CreateMultipartUpload/UploadPart/Complete.
    expect(JSON.parse(head.stdout).ETag).toMatch(/-\d+"$/);
  }, 300_000);

  it('sync uploads a tree, syncs it back, and rm removes it', async () => {
    const tree = join(rig.dir, 'tree');
    await mkdir(join(tree, 'sub'), { recursive: true });
    await writeFile(join(tree, 'a.txt'), 'alpha\n');
    await writeFile(join(tree, 'sub', 'b.txt'), 'beta\n');
    await writeFile(join(tree, 'sub', 'c d+e.txt'), 'odd name\n');
    const up = await aws(rig.alice, ['s3', 'sync', '--only-show-errors', tree, 's3://s3-sales/cli/tree/']);
    expect(up.code, up.stderr).toBe(0);
    const back = join(rig.dir, 'tree-back');
    const down = await aws(rig.alice, ['s3', 'sync', '--only-show-errors', 's3://s3-sales/cli/tree/', back]);
    expect(down.code, down.stderr).toBe(0);
    expect(await readFile(join(back, 'sub', 'c d+e.txt'), 'utf8')).toBe('odd name\n');
    const again = await aws(rig.alice, ['s3', 'sync', tree, 's3://s3-sales/cli/tree/']);
    expect(again.stdout).toBe('');
    const rm = await aws(rig.alice, ['s3', 'rm', '--only-show-errors', '--recursive', 's3://s3-sales/cli/']);
    expect(rm.code, rm.stderr).toBe(0);
    const left = await aws(rig.alice, ['s3', 'ls', '--recursive', 's3://s3-sales/cli/']);
    expect(left.stdout).toBe('');
  }, 120_000);

  it("denies another user's connection as NoSuchBucket, keys outside the path, and a revoked key", async () => {
    const other = await aws(rig.bob, ['s3', 'ls', `s3://${rig.privateConnection}/`]);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain('NoSuchBucket');
    const outside = await aws(rig.alice, ['s3', 'cp', 's3://s3-sales/../sales-archive/old.csv', '-']);
    expect(outside.code).not.toBe(0);
    expect(outside.stdout).not.toContain('800');
    const revoked = await aws(rig.revoked, ['s3', 'ls', 's3://s3-sales/']);
    expect(revoked.code).not.toBe(0);
    expect(revoked.stderr).toContain('InvalidAccessKeyId');
    expect(gatewayLeaks(rig)).toEqual([]);
  });
});
