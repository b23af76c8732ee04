import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoTokens, provisionDemo } from '../../src/demo/demo-scenario.js';
import { type DemoSeed, seedDemo } from '../../src/demo/seed.js';
import type { CredentialsResponse } from '../../src/modules/credentials/credentials.routes.js';
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
    a = await startClusterInstance(database.url, key);
    b = await startClusterInstance(database.url, key);
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
});
