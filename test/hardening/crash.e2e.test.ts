import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickFreePort } from '../../src/demo/local-backend.js';
import { backendS3Client, type DemoSeed, seedDemo } from '../../src/demo/seed.js';
import { backendFromContext } from '../harness/backend-context.js';
import { cleanEnv, requireBuiltCli, runCli } from '../harness/cli.js';
import { registerFilesUnder, registerSecrets, registerText } from '../harness/secret-registry.js';
import { callApi, type ServeProcess, startServeProcess } from '../harness/serve-process.js';

/**
 * rolegate as a real child process (`rolegate serve`), SIGKILLed mid-upload (user API and gateway) and in the
 * middle of a burst of connection updates, then restarted on the same data directory: nothing half-written is
 * visible in RGW, no multipart upload is left there once the restart's sweep has run, the store reads back
 * consistently, acknowledged writes survived, the audit chain verifies.
 */
const backend = backendFromContext();
const admin = backendS3Client(backend.admin, backend.endpoint);
const suffix = randomBytes(4).toString('hex');
const MiB = 1024 * 1024;
/** The gateway client's own uploads are swept only past this age (the production default is a day). */
const GATEWAY_MAX_AGE_S = 5;

let dir: string;
let seed: DemoSeed;
let env: NodeJS.ProcessEnv;
let config: string;
let api: string;
let gatewayUrl: string;
let token: string;
let gatewayKey: { accessKeyId: string; secretAccessKey: string };
let child: ServeProcess | undefined;
/** Every process started, for the secret scan of what they printed. */
const processes: ServeProcess[] = [];
const secrets = new Set<string>();

async function start(): Promise<void> {
  child = await startServeProcess(config, env, api);
  processes.push(child);
}

async function kill9(): Promise<void> {
  await child?.kill9();
  child = undefined;
}

const call = (method: string, path: string, body?: unknown) => callApi(api, token, method, path, body);

const connection = (name: string, n: number) => ({
  name,
  description: `v${n}`,
  bucket: seed.bucket,
  path: `sales/v${n}/`,
  region: backend.region,
  endpoint: backend.endpoint,
  forcePathStyle: true,
  credentials: { mode: 'assume-role', roleArn: seed.salesRoleArn, durationSeconds: 3600 },
  usableBy: 'everyone',
  detailsReadableBy: 'everyone',
  allowedRoles: ['arn:aws:iam:::role/*'],
});

async function exists(key: string): Promise<boolean> {
  try {
    await admin.send(new HeadObjectCommand({ Bucket: seed.bucket, Key: key }));
    return true;
  } catch (e) {
    if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw e;
  }
}

async function uploadsUnder(prefix: string) {
  const out = await admin.send(new ListMultipartUploadsCommand({ Bucket: seed.bucket, Prefix: prefix }));
  return out.Uploads ?? [];
}

/** Polls RGW (admin credentials: every upload in the bucket) until none is left under `prefix`; the time taken. */
async function uploadsGone(prefix: string, limitMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const left = await uploadsUnder(prefix);
    if (left.length === 0) return performance.now() - started;
    if (performance.now() - started > limitMs) {
      throw new Error(`${left.length} multipart upload(s) still under ${prefix} after ${limitMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface SweepEvent {
  actor?: string;
  outcome: string;
  key?: string;
  details?: { origin?: string; trigger?: string };
}

async function sweepEvents(): Promise<SweepEvent[]> {
  const res = await call('GET', '/api/audit?action=upload.sweep_abort&limit=100');
  expect(res.status).toBe(200);
  return (res.json as { events: SweepEvent[] }).events;
}

async function assertConsistentAfterRestart(): Promise<void> {
  const verify = await call('GET', '/api/audit/verify');
  expect(verify.status).toBe(200);
  expect((verify.json as { ok: boolean }).ok).toBe(true);
  expect((await call('GET', '/api/users')).status).toBe(200);
  expect((await call('GET', '/api/connections')).status).toBe(200);
  expect((await call('GET', '/api/connections/crash')).status).toBe(200);
}

describe('rolegate SIGKILLed mid-work and restarted on the same data directory', () => {
  beforeAll(async () => {
    requireBuiltCli();
    seed = await seedDemo(backend, { bucket: `rg-crash-${suffix}`, roleNamePrefix: `rg-crash-${suffix}-` });
    dir = await mkdtemp(join(tmpdir(), 'rolegate-crash-'));
    const [port, gatewayPort] = [await pickFreePort(), await pickFreePort()];
    api = `http://127.0.0.1:${port}`;
    gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    config = join(dir, 'rolegate.yaml');
    await writeFile(
      config,
      `server:\n  port: ${port}\n  drainSeconds: 1\ndataDir: ${join(dir, 'data')}\nlog:\n  level: info\n` +
        `gateway:\n  enabled: true\n  port: ${gatewayPort}\n  multipartIdleSeconds: 1\n` +
        `multipart:\n  sweepSeconds: 1\n  gatewayMaxAgeSeconds: ${GATEWAY_MAX_AGE_S}\n`,
    );
    const vaultKey = randomBytes(32).toString('hex');
    env = cleanEnv({
      AWS_ACCESS_KEY_ID: backend.master.accessKeyId,
      AWS_SECRET_ACCESS_KEY: backend.master.secretAccessKey,
      AWS_REGION: backend.region,
      ROLEGATE_SECRET_KEY: vaultKey,
      ROLEGATE_DATA_DIR: join(dir, 'data'),
    });
    const init = await runCli(['init', '--admin', 'root'], env);
    if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
    token = /rg_[A-Za-z0-9_-]{43}/.exec(init.stdout)?.[0] ?? '';
    for (const s of [vaultKey, token, backend.master.secretAccessKey, backend.admin.secretAccessKey]) secrets.add(s);
    await start();
    const created = await call('POST', '/api/connections', { ...connection('crash', 0), path: 'sales/' });
    if (created.status !== 201) throw new Error(`connection: ${created.status} ${JSON.stringify(created.json)}`);
    const key = await call('POST', '/api/users/root/gateway-keys', { name: 'crash' });
    if (key.status !== 201) throw new Error(`gateway key: ${key.status}`);
    gatewayKey = key.json as { accessKeyId: string; secretAccessKey: string };
    secrets.add(gatewayKey.secretAccessKey);
  });
  afterAll(async () => {
    await kill9();
    registerSecrets(secrets);
    for (const p of processes) registerText('crash-child-output', p.output());
    await registerFilesUnder('crash-data-dir', join(dir, 'data'));
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves no partial object when killed during a user-API PUT and a gateway PUT', async () => {
    // User API: 64 MiB declared, 20 MiB sent (past the first 8 MiB part of its multipart upload), then the kill.
    const apiKey = 'crash/api.bin';
    const sent = new Promise<void>((resolve) => {
      const req = request(`${api}/api/connections/crash/object?key=${apiKey}`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/octet-stream',
          'content-length': String(64 * MiB),
        },
      });
      req.on('error', () => resolve());
      req.on('response', () => resolve());
      req.write(Buffer.alloc(20 * MiB, 1), () => setTimeout(resolve, 300));
    });
    // Gateway: a single PutObject stalled in the same way, through the AWS SDK.
    const gwKey = 'crash/gateway.bin';
    const gateway = new S3Client({
      endpoint: gatewayUrl,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: gatewayKey,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      maxAttempts: 1,
    });
    const body = new PassThrough();
    const put = gateway
      .send(new PutObjectCommand({ Bucket: 'crash', Key: gwKey, Body: body, ContentLength: 32 * MiB }))
      .then(
        () => 'success',
        () => 'error',
      );
    body.write(Buffer.alloc(4 * MiB, 2));
    await sent;
    await new Promise((r) => setTimeout(r, 300));
    await kill9();
    body.destroy();
    expect(await put).toBe('error');

    // The user API streams large bodies as a multipart upload (lib-storage): the kill left one in RGW.
    expect((await uploadsUnder(`sales/${apiKey}`)).length).toBe(1);

    await start();
    expect(await exists(`sales/${apiKey}`)).toBe(false);
    expect(await exists(`sales/${gwKey}`)).toBe(false);
    // rolegate's own streamed upload is dead at start-up: the start-up sweep aborts it as its owner.
    const ms = await uploadsGone(`sales/${apiKey}`, 10_000);
    console.info(`[crash] user-API multipart upload aborted ${Math.round(ms)} ms after the restart was up`);
    await assertConsistentAfterRestart();
    expect(await sweepEvents()).toContainEqual(
      expect.objectContaining({
        actor: 'root',
        outcome: 'allowed',
        key: `sales/${apiKey}`,
        details: expect.objectContaining({ origin: 'api', trigger: 'start-up' }),
      }),
    );
    gateway.destroy();
  });

  it('aborts a gateway multipart upload left by a kill between parts once it is past the age bound', async () => {
    const gateway = new S3Client({
      endpoint: gatewayUrl,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: gatewayKey,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      maxAttempts: 1,
    });
    const key = 'crash/multipart.bin';
    const { UploadId } = await gateway.send(new CreateMultipartUploadCommand({ Bucket: 'crash', Key: key }));
    const createdAt = performance.now();
    await gateway.send(
      new UploadPartCommand({ Bucket: 'crash', Key: key, UploadId, PartNumber: 1, Body: Buffer.alloc(5 * MiB, 3) }),
    );
    const part2 = new PassThrough();
    const second = gateway
      .send(
        new UploadPartCommand({
          Bucket: 'crash',
          Key: key,
          UploadId,
          PartNumber: 2,
          Body: part2,
          ContentLength: 5 * MiB,
        }),
      )
      .catch(() => undefined);
    part2.write(Buffer.alloc(MiB, 4));
    await new Promise((r) => setTimeout(r, 300));
    await kill9();
    part2.destroy();
    await second;

    await start();
    // Killed with one stored part: the upload is in RGW, and a live client could still go on with it.
    const mine = async () => (await uploadsUnder('sales/crash/')).filter((u) => u.UploadId === UploadId);
    expect(await mine()).toHaveLength(1);
    const parts = (await gateway.send(new ListPartsCommand({ Bucket: 'crash', Key: key, UploadId }))).Parts ?? [];
    expect(parts.map((p) => p.Size)).toEqual([5 * MiB]);
    // Past the age bound the sweep aborts it, as the user (the gateway key's owner).
    await uploadsGone(`sales/${key}`, GATEWAY_MAX_AGE_S * 1000 + 10_000);
    const age = (performance.now() - createdAt) / 1000;
    expect(age).toBeGreaterThanOrEqual(GATEWAY_MAX_AGE_S - 0.5);
    console.info(`[crash] gateway multipart upload aborted ${age.toFixed(1)} s after it was started`);
    expect(await exists(`sales/${key}`)).toBe(false);
    await assertConsistentAfterRestart();
    expect(await sweepEvents()).toContainEqual(
      expect.objectContaining({
        actor: 'root',
        outcome: 'allowed',
        key: `sales/${key}`,
        details: expect.objectContaining({ origin: 'gateway', trigger: 'periodic' }),
      }),
    );
    // Nothing at all is left in the bucket's crash folder.
    expect(await uploadsUnder('sales/crash/')).toEqual([]);
    gateway.destroy();
  });

  it('keeps each connection update whole (there or not) when killed mid-burst', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `burst-${i}`);
    for (const name of names) expect((await call('POST', '/api/connections', connection(name, 0))).status).toBe(201);
    const acknowledged = new Map<string, number>();
    let n = 0;
    const writers = names.map(async (name) => {
      for (;;) {
        const v = ++n;
        const res = await call('PUT', `/api/connections/${name}`, connection(name, v)).catch(() => undefined);
        if (res === undefined) return;
        if (res.status === 200) acknowledged.set(name, Math.max(acknowledged.get(name) ?? 0, v));
      }
    });
    await new Promise((r) => setTimeout(r, 400));
    await kill9();
    await Promise.all(writers);
    expect(acknowledged.size).toBe(names.length);

    await start();
    await assertConsistentAfterRestart();
    for (const name of names) {
      const got = await call('GET', `/api/connections/${name}`);
      expect(got.status).toBe(200);
      const view = got.json as { description: string; path: string };
      const v = Number(view.description.slice(1));
      // Whole: the description and the path come from the same update.
      expect(view.path).toBe(`sales/v${v}/`);
      // Durable: no acknowledged update was lost (a later, unacknowledged one may be there too).
      expect(v).toBeGreaterThanOrEqual(acknowledged.get(name) ?? 0);
    }
    await kill9();
  });

  it('prints only JSON log lines, process warnings among them', async () => {
    await start();
    const listed = await call('GET', '/api/connections/crash/objects');
    expect(listed.status).toBe(200);
    // Complete lines only: a process killed in the middle of writing one leaves its fragment last.
    const lines = processes.flatMap((p) => p.output().split('\n').slice(0, -1)).filter((line) => line.trim() !== '');
    const parsed = lines.map((line) => {
      try {
        return JSON.parse(line) as { msg?: string; warning?: { message?: string } };
      } catch {
        throw new Error(`not a JSON log line: ${line.slice(0, 200)}`);
      }
    });
    expect(parsed.length).toBeGreaterThan(0);
    // The AWS SDK warns once per process on Node before 22 (its clients are built at the first STS or S3 call).
    if (Number(process.versions.node.split('.')[0]) < 22) {
      const warned = parsed.filter((l) => l.msg === 'process warning');
      expect(warned.length).toBeGreaterThan(0);
      expect(warned.every((l) => l.warning?.message?.includes('AWS SDK') === true)).toBe(true);
    }
    await kill9();
  });
});
