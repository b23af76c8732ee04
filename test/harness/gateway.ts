import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import type { IssuedGatewayKeyResponse } from '../../src/modules/gateway-keys/gateway-keys.routes.js';
import { findLeaks, startTestRolegate, type TestRolegate } from './rolegate.js';
import { registerText } from './secret-registry.js';

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../..');

/** A test rolegate with its S3 gateway listening, and gateway keys for the demo users. */
export interface GatewayRig {
  readonly rg: TestRolegate;
  /** The gateway endpoint, e.g. http://127.0.0.1:41234 */
  readonly endpoint: string;
  readonly alice: GatewayKey;
  readonly bob: GatewayKey;
  /** A revoked key of alice's: refused with InvalidAccessKeyId. */
  readonly revoked: GatewayKey;
  /** A connection only alice's group may use (bob gets NoSuchBucket). */
  readonly privateConnection: string;
  /** A scratch directory, removed on close. */
  readonly dir: string;
  close(): Promise<void>;
}

export interface GatewayKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Installs the real S3 clients (Debian packages) when missing: idempotent, quiet, fails loudly. */
export async function ensureS3Clients(): Promise<void> {
  await run('bash', [join(REPO, 'scripts/s3-clients.sh')], { timeout: 600_000 });
}

export async function createGatewayKey(rg: TestRolegate, token: string, username: string): Promise<GatewayKey> {
  const res = await rg.api(token, 'POST', `/api/users/${username}/gateway-keys`, { name: 'test' });
  if (res.status !== 201) throw new Error(`creating a gateway key failed: ${res.status} ${res.text}`);
  const key = res.json as IssuedGatewayKeyResponse;
  rg.secrets.add(key.secretAccessKey);
  return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
}

export async function startGatewayRig(config: Record<string, unknown> = {}): Promise<GatewayRig> {
  const rg = await startTestRolegate({ config });
  const endpoint = await rg.app.gateway.listen({ host: '127.0.0.1', port: 0 });
  const alice = await createGatewayKey(rg, rg.tokens.alice, 'alice');
  const bob = await createGatewayKey(rg, rg.tokens.bob, 'bob');
  const revoked = await createGatewayKey(rg, rg.tokens.alice, 'alice');
  const gone = await rg.api(rg.tokens.alice, 'DELETE', `/api/users/alice/gateway-keys/${revoked.accessKeyId}`);
  if (gone.status !== 204) throw new Error(`revoking a gateway key failed: ${gone.status}`);

  const privateConnection = 'alice-team';
  const admin = rg.tokens.admin;
  for (const [method, path, body] of [
    ['POST', '/api/groups', { name: 'alice-team' }],
    ['PUT', '/api/groups/alice-team/members/alice', undefined],
    [
      'POST',
      '/api/connections',
      {
        name: privateConnection,
        bucket: rg.seed.bucket,
        path: 'marketing/',
        region: rg.backend.region,
        endpoint: rg.backend.endpoint,
        forcePathStyle: true,
        credentials: { mode: 'assume-role', roleArn: '${adminProperty:marketingRole}', durationSeconds: 3600 },
        usableBy: { groups: ['alice-team'] },
        detailsReadableBy: 'nobody',
        allowedRoles: ['arn:aws:iam:::role/*'],
      },
    ],
  ] as const) {
    const res = await rg.api(admin, method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path} failed: ${res.status} ${res.text}`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'rolegate-gw-'));
  return {
    rg,
    endpoint,
    alice,
    bob,
    revoked,
    privateConnection,
    dir,
    async close() {
      await rm(dir, { recursive: true, force: true });
      await rg.close();
    },
  };
}

/** An AWS SDK v3 S3 client on the gateway, with the SDK's default (flexible) checksums. */
export function gatewayS3Client(rig: GatewayRig, key: GatewayKey, options: { checksums?: boolean } = {}): S3Client {
  return new S3Client({
    endpoint: rig.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    requestChecksumCalculation: options.checksums === false ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
    responseChecksumValidation: 'WHEN_SUPPORTED',
  });
}

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a client command with its own environment (nothing from the test process leaks in but PATH/HOME). What
 * it prints goes to the whole-suite secret scan: an S3 client is never handed anything it should echo.
 */
export function command(
  file: string,
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number; input?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: options.cwd ?? tmpdir(), LANG: 'C.UTF-8', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      registerText(`client-${basename(file)}`, `${stdout}\n${stderr}`);
      resolvePromise({ code, stdout, stderr });
    });
    // A client that exits without reading stdin must not fail the test with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Writes a file of `size` pseudo-random bytes (deterministic per seed). */
export async function writeRandomFile(path: string, size: number, seed = 1): Promise<void> {
  const block = Buffer.alloc(1024 * 1024);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < block.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    block.writeUInt32LE(x >>> 0, i);
  }
  const parts: Buffer[] = [];
  for (let written = 0; written < size; written += block.length) {
    parts.push(block.subarray(0, Math.min(block.length, size - written)));
  }
  await writeFile(path, Buffer.concat(parts));
}

/** Secrets found in logs or response bodies, except the one answer that hands a new key's secret out. */
export function gatewayLeaks(rig: GatewayRig): string[] {
  return findLeaks(rig.rg, (body) => body.includes('"secretAccessKey"'));
}
