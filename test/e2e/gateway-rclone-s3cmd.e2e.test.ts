/** rclone and s3cmd (Debian packages) through the S3 gateway, with the denials a user must meet. */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
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
}, 600_000);
afterAll(async () => {
  await rig?.close();
});

function rclone(key: GatewayKey, args: string[]): Promise<CommandResult> {
  return command('rclone', ['--config', '/dev/null', '--low-level-retries', '1', '--retries', '1', ...args], {
    cwd: rig.dir,
    env: {
      RCLONE_CONFIG_GW_TYPE: 's3',
      RCLONE_CONFIG_GW_PROVIDER: 'Other',
      RCLONE_CONFIG_GW_ENDPOINT: rig.endpoint,
      RCLONE_CONFIG_GW_REGION: 'us-east-1',
      RCLONE_CONFIG_GW_FORCE_PATH_STYLE: 'true',
      RCLONE_CONFIG_GW_ACCESS_KEY_ID: key.accessKeyId,
      RCLONE_CONFIG_GW_SECRET_ACCESS_KEY: key.secretAccessKey,
    },
  });
}

async function s3cmd(key: GatewayKey, args: string[]): Promise<CommandResult> {
  const hostPort = rig.endpoint.replace(/^http:\/\//, '');
  const config = join(rig.dir, `s3cfg-${key.accessKeyId}`);
  await writeFile(
    config,
    [
      '[default]',
      `access_key = ${key.accessKeyId}`,
      `secret_key = ${key.secretAccessKey}`,
      `host_base = ${hostPort}`,
      `host_bucket = ${hostPort}`,
      'use_https = False',
      'signature_v2 = False',
      'bucket_location = us-east-1',
      'check_ssl_certificate = False',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return command('s3cmd', ['-c', config, ...args], { cwd: rig.dir });
}

/** UploadPart requests the gateway has answered so far (from its log lines). */
const uploadParts = () => rig.rg.logs.filter((l) => l.includes('"operation":"UploadPart"')).length;

const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

describe('rclone (Debian) through the gateway', () => {
  it('copies, syncs and checks a tree', async () => {
    const tree = join(rig.dir, 'rtree');
    await mkdir(join(tree, 'deep', 'er'), { recursive: true });
    await writeFile(join(tree, 'one.txt'), 'one\n');
    await writeFile(join(tree, 'deep', 'two.txt'), 'two\n');
    await writeRandomFile(join(tree, 'deep', 'er', 'big.bin'), 12 * 1024 * 1024, 3);
    const copied = await rclone(rig.alice, ['copy', tree, 'gw:s3-sales/rclone']);
    expect(copied.code, copied.stderr).toBe(0);
    const check = await rclone(rig.alice, ['check', tree, 'gw:s3-sales/rclone']);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stderr).toContain('0 differences found');

    await rm(join(tree, 'one.txt'));
    await writeFile(join(tree, 'three.txt'), 'three\n');
    const synced = await rclone(rig.alice, ['sync', tree, 'gw:s3-sales/rclone']);
    expect(synced.code, synced.stderr).toBe(0);
    const listed = await rclone(rig.alice, ['lsf', '-R', 'gw:s3-sales/rclone']);
    expect(listed.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'deep/',
      'deep/er/',
      'deep/er/big.bin',
      'deep/two.txt',
      'three.txt',
    ]);
    const again = await rclone(rig.alice, ['check', tree, 'gw:s3-sales/rclone']);
    expect(again.code, again.stderr).toBe(0);
    const purged = await rclone(rig.alice, ['purge', 'gw:s3-sales/rclone']);
    expect(purged.code, purged.stderr).toBe(0);
  }, 120_000);

  it("is denied another user's connection, paths outside the connection, and a revoked key", async () => {
    const other = await rclone(rig.bob, ['lsf', `gw:${rig.privateConnection}`]);
    expect(other.code).not.toBe(0);
    // rclone reports S3's NoSuchBucket as a missing directory.
    expect(other.stderr).toMatch(/directory not found|NoSuchBucket/);
    const outside = await rclone(rig.alice, ['cat', 'gw:s3-sales/../sales-archive/old.csv']);
    expect(outside.code).not.toBe(0);
    expect(outside.stdout).toBe('');
    const revoked = await rclone(rig.revoked, ['lsf', 'gw:s3-sales']);
    expect(revoked.code).not.toBe(0);
    expect(revoked.stderr).toContain('InvalidAccessKeyId');
  });
});

describe('s3cmd (Debian) through the gateway', () => {
  it('puts and gets a small file and a 20 MiB multipart file', async () => {
    const small = join(rig.dir, 'small.txt');
    await writeFile(small, 'hello from s3cmd\n');
    const put = await s3cmd(rig.alice, ['put', small, 's3://s3-sales/s3cmd/small.txt']);
    expect(put.code, put.stderr).toBe(0);
    const got = await s3cmd(rig.alice, [
      'get',
      '--force',
      's3://s3-sales/s3cmd/small.txt',
      join(rig.dir, 'small.back'),
    ]);
    expect(got.code, got.stderr).toBe(0);
    expect(await readFile(join(rig.dir, 'small.back'), 'utf8')).toBe('hello from s3cmd\n');

    const big = join(rig.dir, 's3cmd-big.bin');
    await writeRandomFile(big, 20 * 1024 * 1024, 11);
    const partsBefore = uploadParts();
    const putBig = await s3cmd(rig.alice, ['put', '--multipart-chunk-size-mb=8', big, 's3://s3-sales/s3cmd/big.bin']);
    expect(putBig.code, putBig.stderr).toBe(0);
    expect(uploadParts() - partsBefore).toBe(3);
    const getBig = await s3cmd(rig.alice, ['get', '--force', 's3://s3-sales/s3cmd/big.bin', join(rig.dir, 'big.back')]);
    expect(getBig.code, getBig.stderr).toBe(0);
    expect(await sha256(join(rig.dir, 'big.back'))).toBe(await sha256(big));
    const ls = await s3cmd(rig.alice, ['ls', 's3://s3-sales/s3cmd/']);
    expect(ls.stdout).toContain('s3://s3-sales/s3cmd/big.bin');
    const del = await s3cmd(rig.alice, ['del', '--recursive', 's3://s3-sales/s3cmd/']);
    expect(del.code, del.stderr).toBe(0);
  }, 120_000);

  it("is denied another user's connection, paths outside the connection, and a revoked key", async () => {
    const file = join(rig.dir, 'denied.txt');
    await writeFile(file, 'nope\n');
    const other = await s3cmd(rig.bob, ['put', file, `s3://${rig.privateConnection}/x.txt`]);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain('NoSuchBucket');
    const outside = await s3cmd(rig.alice, [
      'get',
      '--force',
      's3://s3-sales/../sales-archive/old.csv',
      join(rig.dir, 'o'),
    ]);
    expect(outside.code).not.toBe(0);
    const revoked = await s3cmd(rig.revoked, ['ls', 's3://s3-sales/']);
    expect(revoked.code).not.toBe(0);
    expect(revoked.stderr).toContain('InvalidAccessKeyId');
    expect(gatewayLeaks(rig)).toEqual([]);
  });
});
