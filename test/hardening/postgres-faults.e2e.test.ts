import { ListBucketsCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fault, type FaultProxy, startFaultProxy } from '../harness/fault-proxy.js';
import { createGatewayKey } from '../harness/gateway.js';
import { createTestDatabase } from '../harness/postgres.js';
import { startTestRolegate, type TestRolegate } from '../harness/rolegate.js';

/**
 * rolegate on PostgreSQL behind a TCP fault proxy: the store dropped, reset mid-stream, slow, or swallowing
 * connections. Requests fail with a typed 503 (`store.unavailable`, or `audit.unavailable` where the trail fails
 * closed) within a bound, never a hang and never a bare 500; a write refused during the fault is not there
 * afterwards and one that was acknowledged is whole; the pool reconnects when PostgreSQL is back, and the audit
 * chain verifies.
 */
let database: { url: string; drop(): Promise<void> };
let proxy: FaultProxy;
let rg: TestRolegate;
let gateway: S3Client;

/** The pool waits this long for a connection (src/db/connect.ts); a request may wait once more for the trail. */
const POOL_WAIT_MS = 10_000;
const BOUND_MS = POOL_WAIT_MS + 5_000;
const TYPED = ['store.unavailable', 'audit.unavailable'];

interface Answer {
  readonly status: number;
  readonly code: string | undefined;
  readonly keys: string[];
  readonly text: string;
  readonly ms: number;
}

async function call(token: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const started = performance.now();
  const res = await rg.api(token, method, path, body);
  const json = res.json as Record<string, unknown> | undefined;
  return {
    status: res.status,
    code: typeof json?.code === 'string' ? json.code : undefined,
    keys: json === undefined || Array.isArray(json) ? [] : Object.keys(json).sort(),
    text: res.text,
    ms: performance.now() - started,
  };
}

/** A request that needs the store now: the principal and connection caches cannot answer it. */
const probes = () => [
  call(rg.tokens.admin, 'GET', '/api/users'),
  call(rg.tokens.admin, 'GET', '/api/audit/verify'),
  call(rg.tokens.alice, 'POST', '/api/connections/s3-sales/credentials', {}),
];

/** Each failure a typed, retryable 503 with the usual body, in time, with nothing of the internals in it. */
function expectTypedFailures(answers: readonly Answer[], kind: Fault['kind']): void {
  for (const a of answers) {
    expect([kind, a.status, TYPED.includes(a.code ?? '')]).toEqual([kind, 503, true]);
    expect(a.keys.filter((k) => k !== 'details')).toEqual(['code', 'message', 'requestId']);
    expect(a.text).not.toMatch(/node_modules|\.[jt]s:\d+|\bat \S+ \(|ECONN|127\.0\.0\.1|password/i);
    expect(a.ms).toBeLessThan(BOUND_MS);
  }
}

/**
 * Switches the fault and lets the pool notice that the proxy cut its pooled connections (`set` does), so that what
 * follows meets the fault itself rather than a connection dying under it.
 */
async function fault(f: Fault): Promise<void> {
  proxy.set(f);
  await new Promise((r) => setTimeout(r, 300));
}

async function untilHealthy(limitMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const answers = await Promise.all(probes());
    if (answers.every((a) => a.status === 200)) return performance.now() - started;
    if (performance.now() - started > limitMs) {
      throw new Error(`not recovered within ${limitMs} ms: ${answers.map((a) => `${a.status} ${a.code}`).join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function verifyChain(): Promise<void> {
  const verify = await rg.api(rg.tokens.admin, 'GET', '/api/audit/verify');
  expect(verify.status).toBe(200);
  expect(verify.json).toMatchObject({ ok: true });
}

const connection = (name: string, n: number) => ({
  name,
  description: `v${n}`,
  bucket: rg.seed.bucket,
  path: `sales/v${n}/`,
  region: rg.backend.region,
  endpoint: rg.backend.endpoint,
  forcePathStyle: true,
  credentials: { mode: 'assume-role', roleArn: '${adminProperty:salesRole}', durationSeconds: 3600 },
  usableBy: 'everyone',
  detailsReadableBy: 'everyone',
  allowedRoles: ['arn:aws:iam:::role/*'],
});

describe('PostgreSQL behind a fault proxy', () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    const direct = new URL(database.url);
    proxy = await startFaultProxy(`http://${direct.hostname}:${direct.port}`);
    const proxied = new URL(database.url);
    proxied.port = new URL(proxy.url).port;
    rg = await startTestRolegate({ config: { database: { url: proxied.toString() } } });
    // The connection password must not reach a log line or an error body either (whole-suite scan).
    rg.secrets.add(decodeURIComponent(direct.password));
    const key = await createGatewayKey(rg, rg.tokens.alice, 'alice');
    gateway = new S3Client({
      endpoint: await rg.app.gateway.listen({ host: '127.0.0.1', port: 0 }),
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: key,
      maxAttempts: 1,
    });
    await untilHealthy(5_000);
  });
  afterAll(async () => {
    gateway?.destroy();
    proxy?.set({ kind: 'pass' });
    await rg?.close();
    await proxy?.close();
    await database?.drop();
  });

  it('answers a typed 503 at once while PostgreSQL refuses connections, and recovers when it is back', async () => {
    await fault({ kind: 'refuse' });
    const down = await Promise.all([
      ...probes(),
      call(rg.tokens.admin, 'POST', '/api/users', { username: 'pg-refused', role: 'analyst' }),
    ]);
    expectTypedFailures(down, 'refuse');
    // Refused: answered fast, not after the pool's wait.
    expect(Math.max(...down.map((a) => a.ms))).toBeLessThan(3_000);
    // The S3 gateway says the same in S3's words: a retryable ServiceUnavailable, not an InternalError.
    const s3Answer = await gateway.send(new ListBucketsCommand({})).then(
      () => 'answered',
      (e: unknown) => (e instanceof S3ServiceException ? `${e.$metadata.httpStatusCode} ${e.name}` : String(e)),
    );
    expect(s3Answer).toBe('503 ServiceUnavailable');
    proxy.set({ kind: 'pass' });
    const recovered = await untilHealthy(10_000);
    console.info(
      `[pg-faults] refused: ${down.map((a) => `${a.code} in ${Math.round(a.ms)} ms`).join(', ')}; ` +
        `healthy ${Math.round(recovered)} ms after PostgreSQL was back`,
    );
    // The refused write is not there.
    expect((await call(rg.tokens.admin, 'GET', '/api/users/pg-refused')).status).toBe(404);
    await verifyChain();
  });

  it('keeps every connection write whole or absent when PostgreSQL connections are reset mid-stream', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `pg-reset-${i}`);
    for (const name of names) {
      expect((await call(rg.tokens.admin, 'POST', '/api/connections', connection(name, 0))).status).toBe(201);
    }
    // Handshakes pass (about 650 bytes to the client); each connection is cut a few queries later.
    await fault({ kind: 'reset', afterBytes: 4_000, direction: 'down' });
    const acknowledged = new Map<string, number>();
    const failed: Answer[] = [];
    await Promise.all(
      names.map(async (name, i) => {
        for (let v = 1; v <= 4; v++) {
          const a = await call(rg.tokens.admin, 'PUT', `/api/connections/${name}`, connection(name, i * 10 + v));
          if (a.status === 200) acknowledged.set(name, i * 10 + v);
          else failed.push(a);
        }
      }),
    );
    proxy.set({ kind: 'pass' });
    expectTypedFailures(failed, 'reset');
    // Both kinds happened: the check below covers acknowledged and refused writes.
    expect(failed.length).toBeGreaterThan(0);
    expect(acknowledged.size).toBeGreaterThan(0);
    await untilHealthy(10_000);
    console.info(`[pg-faults] reset: ${32 - failed.length} of 32 updates acknowledged, ${failed.length} refused (503)`);
    for (const [i, name] of names.entries()) {
      const got = await rg.api(rg.tokens.admin, 'GET', `/api/connections/${name}`);
      expect(got.status).toBe(200);
      const view = got.json as { description: string; path: string };
      const v = Number(view.description.slice(1));
      // Whole: description and path from the same update; an update of this connection, or the original.
      expect(view.path).toBe(`sales/v${v}/`);
      expect(v === 0 || (v > i * 10 && v <= i * 10 + 4)).toBe(true);
      // Durable: no acknowledged update lost (a later, unacknowledged one may have committed).
      expect(v).toBeGreaterThanOrEqual(acknowledged.get(name) ?? 0);
    }
    await verifyChain();
  });

  it('serves through added latency, only slower', async () => {
    await fault({ kind: 'slow', ms: 50 });
    const slow = await Promise.all(probes());
    proxy.set({ kind: 'pass' });
    // Some requests may meet a pooled connection the fault cut; a retry on a new one goes through.
    const again = await Promise.all(probes());
    const served = slow.map((a, i) => (a.status === 200 ? a : again[i])) as Answer[];
    expectTypedFailures(
      slow.filter((a) => a.status !== 200),
      'slow',
    );
    expect(served.map((a) => a.status)).toEqual([200, 200, 200]);
    console.info(
      `[pg-faults] 50 ms per round trip: ${slow.map((a) => `${a.status} in ${Math.round(a.ms)} ms`).join(', ')}`,
    );
    await verifyChain();
  });

  it('fails within the pool’s bound, never hangs, when PostgreSQL accepts connections but never answers', async () => {
    await fault({ kind: 'delay', ms: 120_000 });
    const hung = await Promise.all([
      ...probes(),
      call(rg.tokens.admin, 'POST', '/api/users', { username: 'pg-hung', role: 'analyst' }),
    ]);
    proxy.set({ kind: 'pass' });
    expectTypedFailures(hung, 'delay');
    console.info(`[pg-faults] unanswered: ${hung.map((a) => `${a.code} in ${Math.round(a.ms)} ms`).join(', ')}`);
    await untilHealthy(10_000);
    expect((await call(rg.tokens.admin, 'GET', '/api/users/pg-hung')).status).toBe(404);
    await verifyChain();
  });
});
