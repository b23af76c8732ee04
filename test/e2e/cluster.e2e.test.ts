import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoTokens, provisionDemo } from '../../src/demo/demo-scenario.js';
import { backendS3Client, type DemoSeed, seedDemo } from '../../src/demo/seed.js';
import type { CredentialsResponse } from '../../src/modules/credentials/credentials.routes.js';
import type { IssuedGatewayKeyResponse } from '../../src/modules/gateway-keys/gateway-keys.routes.js';
import { backendFromContext } from '../harness/backend-context.js';
import { type ClusterInstance, startClusterInstance } from '../harness/cluster.js';
import { createTestDatabase } from '../harness/postgres.js';
import { type RecordingProxy, startRecordingProxy } from '../harness/recording-proxy.js';
import { uniqueSuffix } from '../harness/rolegate.js';
import { registerSecrets } from '../harness/secret-registry.js';

type Instance = ClusterInstance;

let database: { url: string; drop(): Promise<void> };
let a: Instance;
let b: Instance;
let sts: RecordingProxy;
let seed: DemoSeed;
let tokens: DemoTokens;

async function call(on: Instance, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${on.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, text, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

/** Issued here or by rolegate; the whole-suite secret scan looks for them in the shared database too. */
const secrets = new Set<string>();

async function credentials(on: Instance, token: string, connection: string) {
  const res = await call(on, token, 'POST', `/api/connections/${connection}/credentials`);
  if (res.status === 200) {
    const vended = res.json as CredentialsResponse;
    secrets.add(vended.SecretAccessKey);
    if (vended.SessionToken !== undefined) secrets.add(vended.SessionToken);
  }
  return res;
}

/** Polls until `done` holds; returns how long that took (ms). Fails after `limitMs`. */
async function timeUntil(done: () => Promise<boolean>, limitMs: number): Promise<number> {
  const started = performance.now();
  while (!(await done())) {
    if (performance.now() - started > limitMs) throw new Error(`not seen within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - started;
}

const IDLE_SECONDS = 2;

describe('two rolegate instances on one PostgreSQL', () => {
  beforeAll(async () => {
    const backend = backendFromContext();
    const suffix = uniqueSuffix();
    seed = await seedDemo(backend, { bucket: `rg-${suffix}`, roleNamePrefix: `rg-${suffix}-` });
    process.env.AWS_ACCESS_KEY_ID = backend.master.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = backend.master.secretAccessKey;
    process.env.AWS_REGION = backend.region;
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    database = await createTestDatabase();
    const key = randomBytes(32).toString('hex');
    // A short idle time for gateway multipart uploads: the instance that started one watches it.
    const options = { config: { gateway: { multipartIdleSeconds: IDLE_SECONDS } } };
    a = await startClusterInstance(database.url, key, options);
    b = await startClusterInstance(database.url, key, options);
    tokens = await provisionDemo(a.app.services, backend, seed);
    for (const s of [key, backend.master.secretAccessKey, tokens.admin, tokens.alice, tokens.bob]) secrets.add(s);
    sts = await startRecordingProxy(backend.endpoint);
  });

  afterAll(async () => {
    for (const i of [a, b]) await i?.close();
    await sts?.close();
    // The shared role sessions are stored sealed: none of their secrets may be found in the database.
    registerSecrets(secrets);
    await database?.drop();
  });

  async function createConnection(name: string, extra: Record<string, unknown> = {}) {
    const res = await call(a, tokens.admin, 'POST', '/api/connections', {
      name,
      bucket: seed.bucket,
      region: backendFromContext().region,
      endpoint: backendFromContext().endpoint,
      stsEndpoint: sts.url,
      forcePathStyle: true,
      path: 'sales/',
      credentials: { mode: 'assume-role', roleArn: '${adminProperty:salesRole}', durationSeconds: 3600 },
      detailsReadableBy: 'everyone',
      ...extra,
    });
    expect(res.status, res.text).toBe(201);
  }

  it('see a connection change made on the other instance at once (not after the cache TTL)', async () => {
    const name = `cl-edit-${uniqueSuffix()}`;
    await createConnection(name);
    // B caches the connection record, alice's principal and her role session.
    expect((await credentials(b, tokens.alice, name)).status).toBe(200);
    expect((await credentials(b, tokens.alice, name)).status).toBe(200);
    const edit = await call(a, tokens.admin, 'PUT', `/api/connections/${name}`, {
      name,
      bucket: seed.bucket,
      region: backendFromContext().region,
      endpoint: backendFromContext().endpoint,
      stsEndpoint: sts.url,
      forcePathStyle: true,
      path: 'sales/',
      credentials: { mode: 'assume-role', roleArn: '${adminProperty:salesRole}', durationSeconds: 3600 },
      detailsReadableBy: 'nobody',
    });
    expect(edit.status, edit.text).toBe(200);
    // The caches' TTL is 5 s; a notification reaches B within milliseconds.
    const ms = await timeUntil(async () => (await credentials(b, tokens.alice, name)).status === 403, 4_000);
    expect(ms).toBeLessThan(1_000);
  });

  it('see a property change made on the other instance at once', async () => {
    const name = `cl-prop-${uniqueSuffix()}`;
    await createConnection(name);
    expect((await credentials(b, tokens.bob, name)).status).toBe(200);
    const del = await call(a, tokens.admin, 'DELETE', `/api/users/bob/properties/salesRole`);
    expect(del.status, del.text).toBe(204);
    const ms = await timeUntil(async () => (await credentials(b, tokens.bob, name)).status !== 200, 4_000);
    expect(ms).toBeLessThan(1_000);
    const put = await call(a, tokens.admin, 'PUT', `/api/users/bob/properties/salesRole`, { value: seed.salesRoleArn });
    expect(put.status, put.text).toBe(204);
    await timeUntil(async () => (await credentials(b, tokens.bob, name)).status === 200, 1_000);
  });

  it('make one STS call for 200 concurrent first requests spread over both, and keep one audit chain', async () => {
    const name = `cl-flight-${uniqueSuffix()}`;
    await createConnection(name);
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) => credentials(i % 2 === 0 ? a : b, tokens.alice, name)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(200).fill(200));
    expect(new Set(responses.map((r) => (r.json as CredentialsResponse).AccessKeyId)).size).toBe(1);
    const calls = sts.assumeRoleCalls().filter((c) => c.get('RoleSessionName') === `rg-${name}-for-alice`);
    expect(calls).toHaveLength(1);
    // Both instances appended to the same hash chain, one after another.
    const verify = await call(b, tokens.admin, 'GET', '/api/audit/verify');
    expect(verify.status, verify.text).toBe(200);
    expect(verify.json).toMatchObject({ ok: true });
  });

  it('make a revocation on one instance hold on the other at once: the revoked session is not handed out, new ones work', async () => {
    const name = `cl-revoke-${uniqueSuffix()}`;
    await createConnection(name);
    // B caches alice's role session; A revokes it.
    const before = await credentials(b, tokens.alice, name);
    expect(before.status, before.text).toBe(200);
    const old = before.json as CredentialsResponse;
    const revoked = await call(a, tokens.admin, 'POST', `/api/connections/${name}/revocations`, { username: 'alice' });
    expect(revoked.status, revoked.text).toBe(200);
    const after = await credentials(b, tokens.alice, name);
    expect(after.status, after.text).toBe(200);
    const fresh = after.json as CredentialsResponse;
    expect(fresh.AccessKeyId).not.toBe(old.AccessKeyId);
    expect(fresh.roleSessionName).toBe(`rg-${name}-for-alice-r1`);
    // RGW refuses the revoked session and serves the new one, whichever instance handed it out.
    const statusWith = async (c: CredentialsResponse) => {
      const s3 = new S3Client({
        endpoint: backendFromContext().endpoint,
        region: backendFromContext().region,
        forcePathStyle: true,
        credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
      });
      try {
        await s3.send(new HeadObjectCommand({ Bucket: seed.bucket, Key: 'sales/2024/q1.csv' }));
        return 200;
      } catch (e) {
        return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
      } finally {
        s3.destroy();
      }
    };
    expect(await statusWith(old)).toBe(403);
    expect(await statusWith(fresh)).toBe(200);
    const viaA = (await credentials(a, tokens.alice, name)).json as CredentialsResponse;
    expect(viaA.roleSessionName).toBe(`rg-${name}-for-alice-r1`);
  });

  it('leave a gateway multipart upload alone while its parts go through the other instance, and abort it once idle', async () => {
    const created = await call(a, tokens.alice, 'POST', '/api/users/alice/gateway-keys', { name: 'cluster' });
    expect(created.status, created.text).toBe(201);
    const key = created.json as IssuedGatewayKeyResponse;
    secrets.add(key.secretAccessKey);
    const clientOf = async (on: Instance) =>
      new S3Client({
        endpoint: await on.app.gateway.listen({ host: '127.0.0.1', port: 0 }),
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
      });
    const [viaA, viaB] = [await clientOf(a), await clientOf(b)];
    const part = Buffer.alloc(5 * 1024 * 1024, 7);
    // What the backend itself holds (a role session may not list multipart uploads).
    const backend = backendS3Client(backendFromContext().admin, backendFromContext().endpoint);
    const pendingIn = async (key: string) =>
      (await backend.send(new ListMultipartUploadsCommand({ Bucket: seed.bucket, Prefix: `sales/${key}` }))).Uploads ??
      [];

    // Started on A, every part through B, for twice the idle time: A must not abort it.
    const busy = `cluster/busy-${uniqueSuffix()}.bin`;
    const { UploadId: busyId } = await viaA.send(new CreateMultipartUploadCommand({ Bucket: 's3-sales', Key: busy }));
    const parts: Array<{ PartNumber: number; ETag: string }> = [];
    for (let n = 1; n <= 5; n++) {
      const out = await viaB.send(
        new UploadPartCommand({ Bucket: 's3-sales', Key: busy, UploadId: busyId, PartNumber: n, Body: part }),
      );
      parts.push({ PartNumber: n, ETag: out.ETag ?? '' });
      await new Promise((r) => setTimeout(r, (IDLE_SECONDS * 1000 * 2) / 5));
    }
    await viaB.send(
      new CompleteMultipartUploadCommand({
        Bucket: 's3-sales',
        Key: busy,
        UploadId: busyId,
        MultipartUpload: { Parts: parts },
      }),
    );
    const stored = await viaA.send(new HeadObjectCommand({ Bucket: 's3-sales', Key: busy }));
    expect(stored.ContentLength).toBe(5 * part.length);

    // Started on A, one part through B, then nothing: aborted by A once idle, with no parts left.
    const idle = `cluster/idle-${uniqueSuffix()}.bin`;
    const { UploadId: idleId } = await viaA.send(new CreateMultipartUploadCommand({ Bucket: 's3-sales', Key: idle }));
    await viaB.send(
      new UploadPartCommand({ Bucket: 's3-sales', Key: idle, UploadId: idleId, PartNumber: 1, Body: part }),
    );
    expect(await pendingIn(idle)).toHaveLength(1);
    const took = await timeUntil(async () => (await pendingIn(idle)).length === 0, 10 * IDLE_SECONDS * 1000);
    // Not before its last use (the part, noted by B) had been idle long enough.
    expect(took).toBeGreaterThan((IDLE_SECONDS * 1000) / 2);
    for (const client of [viaA, viaB, backend]) client.destroy();
  });
});

describe('two instances sharing one STS budget', () => {
  let budgetDb: { url: string; drop(): Promise<void> };
  let x: Instance;
  let y: Instance;
  let budgetTokens: DemoTokens;

  beforeAll(async () => {
    const backend = backendFromContext();
    const suffix = uniqueSuffix();
    const budgetSeed = await seedDemo(backend, { bucket: `rg-${suffix}`, roleNamePrefix: `rg-${suffix}-` });
    process.env.AWS_ACCESS_KEY_ID = backend.master.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = backend.master.secretAccessKey;
    process.env.AWS_REGION = backend.region;
    budgetDb = await createTestDatabase();
    const key = randomBytes(32).toString('hex');
    // Two role sessions at once, then one a minute: a third within the minute waits too long and is refused.
    const options = { config: { credentials: { stsRateLimit: { perSecond: 1 / 60, burst: 2, maxWaitMs: 100 } } } };
    x = await startClusterInstance(budgetDb.url, key, options);
    y = await startClusterInstance(budgetDb.url, key, options);
    budgetTokens = await provisionDemo(x.app.services, backend, budgetSeed);
    for (const s of [key, budgetTokens.admin, budgetTokens.alice, budgetTokens.bob]) secrets.add(s);
  });

  afterAll(async () => {
    for (const i of [x, y]) await i?.close();
    registerSecrets(secrets);
    await budgetDb?.drop();
  });

  it('refuse the call beyond the budget on the other instance too (each on its own would allow twice as many)', async () => {
    // Listings through rolegate: each first one of a user on a connection takes a role session from STS.
    const list = (on: Instance, token: string, connection: string) =>
      call(on, token, 'GET', `/api/connections/${connection}/objects`);
    const first = await list(x, budgetTokens.alice, 's3-sales');
    expect(first.status, first.text).toBe(200);
    expect((await list(y, budgetTokens.alice, 's3-marketing')).status).toBe(200);
    const third = await list(y, budgetTokens.bob, 's3-sales');
    expect(third.status).toBe(503);
    expect((third.json as { code: string }).code).toBe('sts.rate_limited');
    // Sessions already obtained need no budget, on either instance.
    expect((await list(x, budgetTokens.alice, 's3-marketing')).status).toBe(200);
    expect((await list(y, budgetTokens.alice, 's3-sales')).status).toBe(200);
  });
});
