import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickFreePort } from '../../src/demo/local-backend.js';
import { backendS3Client, type DemoSeed, seedDemo } from '../../src/demo/seed.js';
import { backendFromContext } from '../harness/backend-context.js';
import { cleanEnv, requireBuiltCli, runCli } from '../harness/cli.js';
import { createTestDatabase } from '../harness/postgres.js';
import { registerSecrets, registerText } from '../harness/secret-registry.js';
import { callApi, type ServeProcess, startServeProcess } from '../harness/serve-process.js';

/**
 * Two `rolegate serve` processes on one PostgreSQL store. The one streaming a user-API upload is SIGKILLed; the
 * other, still serving, aborts the multipart upload the dead one left in RGW once the dead one's lease has run out
 * (three missed heartbeats), and never while its holder is alive and streaming.
 */
const backend = backendFromContext();
const admin = backendS3Client(backend.admin, backend.endpoint);
const MiB = 1024 * 1024;
const SWEEP_SECONDS = 1;
/** The lease: a holder that missed this many heartbeats (one per sweep) is gone. */
const LEASE_SECONDS = 3 * SWEEP_SECONDS;

let dir: string;
let database: { url: string; drop(): Promise<void> };
let seed: DemoSeed;
let token: string;
const apis: string[] = [];
const processes: ServeProcess[] = [];
const secrets = new Set<string>();

const call = (api: string, method: string, path: string, body?: unknown) => callApi(api, token, method, path, body);

async function uploadsUnder(prefix: string) {
  const out = await admin.send(new ListMultipartUploadsCommand({ Bucket: seed.bucket, Prefix: prefix }));
  return out.Uploads ?? [];
}

describe('two rolegate processes on one PostgreSQL, one SIGKILLed mid-upload', () => {
  beforeAll(async () => {
    requireBuiltCli();
    const suffix = randomBytes(4).toString('hex');
    seed = await seedDemo(backend, { bucket: `rg-pgcrash-${suffix}`, roleNamePrefix: `rg-pgcrash-${suffix}-` });
    database = await createTestDatabase();
    dir = await mkdtemp(join(tmpdir(), 'rolegate-pgcrash-'));
    const vaultKey = randomBytes(32).toString('hex');
    const env = cleanEnv({
      AWS_ACCESS_KEY_ID: backend.master.accessKeyId,
      AWS_SECRET_ACCESS_KEY: backend.master.secretAccessKey,
      AWS_REGION: backend.region,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ROLEGATE_SECRET_KEY: vaultKey,
      ROLEGATE_DATABASE_URL: database.url,
    });
    const init = await runCli(['init', '--admin', 'root'], { ...env, ROLEGATE_DATA_DIR: join(dir, 'init') });
    if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
    token = /rg_[A-Za-z0-9_-]{43}/.exec(init.stdout)?.[0] ?? '';
    for (const s of [vaultKey, token, backend.master.secretAccessKey, backend.admin.secretAccessKey]) secrets.add(s);
    for (const name of ['a', 'b']) {
      const port = await pickFreePort();
      const config = join(dir, `${name}.yaml`);
      await writeFile(
        config,
        `server:\n  port: ${port}\n  drainSeconds: 1\ndataDir: ${join(dir, name)}\nlog:\n  level: info\n` +
          `gateway:\n  port: 0\nmultipart:\n  sweepSeconds: ${SWEEP_SECONDS}\n`,
      );
      const api = `http://127.0.0.1:${port}`;
      apis.push(api);
      processes.push(await startServeProcess(config, env, api));
    }
    const created = await call(apis[0] ?? '', 'POST', '/api/connections', {
      name: 'crash',
      bucket: seed.bucket,
      path: 'sales/',
      region: backend.region,
      endpoint: backend.endpoint,
      forcePathStyle: true,
      credentials: { mode: 'assume-role', roleArn: seed.salesRoleArn, durationSeconds: 3600 },
      usableBy: 'everyone',
      allowedRoles: ['arn:aws:iam:::role/*'],
    });
    if (created.status !== 201) throw new Error(`connection: ${created.status} ${JSON.stringify(created.json)}`);
  });

  afterAll(async () => {
    for (const p of processes) await p.kill9();
    registerSecrets(secrets);
    for (const p of processes) registerText('crash-postgres-child-output', p.output());
    await database?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("leaves a live holder's upload alone, and aborts it from the other process once the holder is dead", async () => {
    const [a = '', b = ''] = apis;
    const [holder, survivor] = processes;
    if (holder === undefined || survivor === undefined) throw new Error('two processes expected');
    const key = 'crash/pg-api.bin';
    // Through A: 64 MiB declared, 20 MiB sent (past the first 8 MiB part of its multipart upload), then stalled.
    const req = request(`${a}/api/connections/crash/object?key=${key}`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/octet-stream',
        'content-length': String(64 * MiB),
      },
    });
    req.on('error', () => undefined);
    await new Promise<void>((resolve) => req.write(Buffer.alloc(20 * MiB, 1), () => resolve()));
    const deadline = Date.now() + 10_000;
    while ((await uploadsUnder(`sales/${key}`)).length === 0) {
      if (Date.now() > deadline) throw new Error('the upload never reached RGW');
      await new Promise((r) => setTimeout(r, 100));
    }

    // A is alive and heartbeating: past a whole lease, B's sweeps (one a second) have left the upload alone.
    await new Promise((r) => setTimeout(r, (LEASE_SECONDS + 2) * 1000));
    expect(await uploadsUnder(`sales/${key}`)).toHaveLength(1);
    expect(survivor.proc.exitCode).toBeNull();

    await holder.kill9();
    req.destroy();
    const killedAt = performance.now();
    for (;;) {
      if ((await uploadsUnder(`sales/${key}`)).length === 0) break;
      if (performance.now() - killedAt > (LEASE_SECONDS + 15) * 1000)
        throw new Error(`the upload was never swept: ${survivor.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const seconds = (performance.now() - killedAt) / 1000;
    console.info(
      `[crash-postgres] the dead process's upload was aborted by the other ${seconds.toFixed(1)} s after the kill`,
    );

    // B did it, as the upload's owner, in a periodic sweep; the shared audit chain still verifies.
    const events = await call(b, 'GET', '/api/audit?action=upload.sweep_abort&limit=100');
    expect(events.status).toBe(200);
    expect((events.json as { events: unknown[] }).events).toContainEqual(
      expect.objectContaining({
        actor: 'root',
        outcome: 'allowed',
        key: `sales/${key}`,
        details: expect.objectContaining({ origin: 'api', trigger: 'periodic' }),
      }),
    );
    const verify = await call(b, 'GET', '/api/audit/verify');
    expect(verify.status).toBe(200);
    expect((verify.json as { ok: boolean }).ok).toBe(true);
  });
});
