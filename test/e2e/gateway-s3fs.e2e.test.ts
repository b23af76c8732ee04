/**
 * s3fs (Debian's s3fs-fuse) mounts a connection through the S3 gateway and reads a file. FUSE needs /dev/fuse:
 * without it this file fails loudly rather than passing silently (see the first test).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  command,
  ensureS3Clients,
  type GatewayKey,
  type GatewayRig,
  gatewayLeaks,
  startGatewayRig,
} from '../harness/gateway.js';
import { registerText } from '../harness/secret-registry.js';

const FUSE = existsSync('/dev/fuse');
if (!FUSE) {
  console.error('\n*** /dev/fuse is absent: the s3fs gateway test is SKIPPED (it needs FUSE) ***\n');
}

let rig: GatewayRig;
const mounted: string[] = [];

beforeAll(async () => {
  if (!FUSE) return;
  await ensureS3Clients();
  rig = await startGatewayRig();
}, 600_000);
afterAll(async () => {
  for (const dir of mounted) await command('fusermount', ['-u', '-z', dir]).catch(() => undefined);
  await rig?.close();
});

const isMounted = async (dir: string) => (await readFile('/proc/mounts', 'utf8')).includes(` ${dir} fuse.s3fs `);

/** Runs s3fs in the foreground for `bucket`; resolves once mounted, or with its output when it exits first. */
async function mount(
  key: GatewayKey,
  bucket: string,
  name: string,
): Promise<{ dir: string; mounted: boolean; log: string }> {
  const dir = join(rig.dir, name);
  await mkdir(dir, { recursive: true });
  const passwd = join(rig.dir, `${name}.passwd`);
  await writeFile(passwd, `${key.accessKeyId}:${key.secretAccessKey}\n`, { mode: 0o600 });
  let log = '';
  let exited = false;
  const child = spawn(
    's3fs',
    [
      bucket,
      dir,
      '-f',
      '-o',
      `url=${rig.endpoint}`,
      '-o',
      'use_path_request_style',
      '-o',
      `passwd_file=${passwd}`,
      '-o',
      'endpoint=us-east-1',
      '-o',
      'sigv4',
      '-o',
      'retries=1',
      '-o',
      'dbglevel=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin', HOME: rig.dir } },
  );
  child.stdout.on('data', (d: Buffer) => {
    log += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    log += d.toString();
  });
  child.once('exit', () => {
    exited = true;
  });
  // Whatever s3fs printed while mounted goes to the secret scan once it is gone (unmounted or killed).
  child.once('close', () => registerText('client-s3fs', log));
  for (let i = 0; i < 100 && !exited; i++) {
    if (await isMounted(dir)) {
      mounted.push(dir);
      return { dir, mounted: true, log };
    }
    await sleep(100);
  }
  if (!exited) child.kill('SIGKILL');
  return { dir, mounted: false, log };
}

/** What a mount lets one see: nothing when it did not mount or its listing fails. */
async function visibleEntries(m: { dir: string; mounted: boolean }): Promise<string[]> {
  if (!m.mounted) return [];
  return readdir(m.dir).catch(() => []);
}

describe('s3fs (FUSE) through the gateway', () => {
  it('has /dev/fuse to run on', () => {
    expect(FUSE, '/dev/fuse is absent: s3fs cannot run here').toBe(true);
  });

  it.runIf(FUSE)(
    'mounts a connection and reads a file, seeing only the connection path',
    async () => {
      const m = await mount(rig.alice, 's3-sales', 'sales-mnt');
      expect(m.mounted, m.log).toBe(true);
      expect((await readdir(m.dir)).sort()).toEqual(['2024']);
      expect(await readFile(join(m.dir, '2024', 'q1.csv'), 'utf8')).toBe(rig.rg.seed.objects['sales/2024/q1.csv']);
      await command('fusermount', ['-u', m.dir]);
    },
    60_000,
  );

  it.runIf(FUSE)(
    "cannot mount another user's connection, nor with a revoked key",
    async () => {
      // s3fs may mount before its first request is refused (the check runs in FUSE's init), so a refused
      // key shows either as no mount or as a mount that lists nothing and reads nothing.
      const other = await mount(rig.bob, rig.privateConnection, 'other-mnt');
      expect(await visibleEntries(other)).toEqual([]);
      const revoked = await mount(rig.revoked, 's3-sales', 'revoked-mnt');
      expect(await visibleEntries(revoked)).toEqual([]);
      if (revoked.mounted) {
        expect(await readFile(join(revoked.dir, '2024', 'q1.csv'), 'utf8').catch(() => '')).toBe('');
      }
      // A mount of a path that climbs out of the connection either fails or shows nothing of the sibling.
      const outside = await mount(rig.alice, 's3-sales:/../sales-archive', 'outside-mnt');
      if (outside.mounted) {
        // The gateway refuses the escaping prefix: s3fs reports it as EPERM.
        expect(await readdir(outside.dir).catch(() => [])).not.toContain('old.csv');
        // s3fs turns the refusal into an error or an empty read: never the sibling's bytes.
        expect(await readFile(join(outside.dir, 'old.csv'), 'utf8').catch(() => '')).not.toContain('north');
        await command('fusermount', ['-u', outside.dir]);
      }
      expect(gatewayLeaks(rig)).toEqual([]);
    },
    60_000,
  );
});
