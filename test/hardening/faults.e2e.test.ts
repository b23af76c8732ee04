import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../harness/fault-proxy.js';
import { type RecordingProxy, startRecordingProxy } from '../harness/recording-proxy.js';
import { startTestRolegate, type TestRolegate } from '../harness/rolegate.js';

/**
 * Faults between rolegate and its backends: rolegate → fault proxy (TCP) → recording proxy (counts calls) → RGW.
 * STS of the `faulty` connection goes through one pair, its S3 traffic through another.
 */
let rg: TestRolegate;
let stsFault: FaultProxy;
let stsCount: RecordingProxy;
let s3Fault: FaultProxy;

const STS_TIMEOUT_MS = 1_000;
const STS_ATTEMPTS = 2;

async function credentials(token: string) {
  const started = performance.now();
  const res = await rg.api(token, 'POST', '/api/connections/faulty/credentials', {});
  return { ...res, ms: performance.now() - started };
}

describe('faults between rolegate and STS / S3', () => {
  beforeAll(async () => {
    rg = await startTestRolegate({
      config: { credentials: { stsTimeoutMs: STS_TIMEOUT_MS, stsMaxAttempts: STS_ATTEMPTS } },
    });
    stsCount = await startRecordingProxy(rg.backend.endpoint);
    stsFault = await startFaultProxy(stsCount.url);
    s3Fault = await startFaultProxy(rg.backend.endpoint);
    const res = await rg.api(rg.tokens.admin, 'POST', '/api/connections', {
      name: 'faulty',
      bucket: rg.seed.bucket,
      path: 'sales/',
      region: rg.backend.region,
      endpoint: s3Fault.url,
      stsEndpoint: stsFault.url,
      forcePathStyle: true,
      credentials: { mode: 'assume-role', roleArn: '${adminProperty:salesRole}', durationSeconds: 3600 },
      usableBy: 'everyone',
      detailsReadableBy: 'everyone',
      allowedRoles: ['arn:aws:iam:::role/*'],
    });
    if (res.status !== 201) throw new Error(`setup: ${res.status} ${res.text}`);
  });
  afterAll(async () => {
    await stsFault?.close();
    await s3Fault?.close();
    await stsCount?.close();
    await rg?.close();
  });

  it('merges 50 concurrent waiters on a slow STS into one AssumeRole call', async () => {
    stsFault.set({ kind: 'delay', ms: 400 });
    const before = stsCount.assumeRoleCalls().length;
    const answers = await Promise.all(Array.from({ length: 50 }, () => credentials(rg.tokens.alice)));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    expect(stsCount.assumeRoleCalls().length - before).toBe(1);
  });

  it('keeps serving cached sessions while STS is down; new sessions fail fast with a clear error', async () => {
    for (const fault of [{ kind: 'refuse' }, { kind: 'answer503' }, { kind: 'delay', ms: 10_000 }] as const) {
      stsFault.set(fault);
      const before = stsCount.assumeRoleCalls().length;
      const cached = await credentials(rg.tokens.alice);
      expect([fault.kind, cached.status]).toEqual([fault.kind, 200]);

      const fresh = await credentials(rg.tokens.bob);
      expect([fault.kind, fresh.status]).toEqual([fault.kind, 503]);
      expect((fresh.json as { code: string }).code).toMatch(/^sts\./);
      // Bounded: the attempts and their timeouts, plus backoff, never an unbounded wait.
      expect(fresh.ms).toBeLessThan(STS_ATTEMPTS * STS_TIMEOUT_MS + 3_000);
      // Retries are bounded: at most the configured attempts reached STS.
      expect(stsCount.assumeRoleCalls().length - before).toBeLessThanOrEqual(STS_ATTEMPTS);
    }
    stsFault.set({ kind: 'pass' });
    expect((await credentials(rg.tokens.bob)).status).toBe(200);
  });

  it('never reports a GET cut mid-stream as a success', async () => {
    const body = Buffer.alloc(256 * 1024, 7);
    const put = await fetch(`${rg.url}/api/connections/faulty/object?key=hardening/big.bin`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${rg.tokens.alice}`, 'content-type': 'application/octet-stream' },
      body,
    });
    expect(put.status).toBe(201);
    s3Fault.set({ kind: 'reset', afterBytes: 64 * 1024, direction: 'down' });
    let outcome: string;
    try {
      const res = await fetch(`${rg.url}/api/connections/faulty/object?key=hardening/big.bin`, {
        headers: { authorization: `Bearer ${rg.tokens.alice}` },
      });
      const got = Buffer.from(await res.arrayBuffer());
      outcome =
        res.status !== 200
          ? `status ${res.status}`
          : got.equals(body)
            ? 'complete'
            : `truncated success (${got.length})`;
    } catch {
      // The connection was cut before the declared length: the client knows the body is incomplete.
      outcome = 'error';
    }
    s3Fault.set({ kind: 'pass' });
    expect(outcome).not.toMatch(/truncated/);
    expect(outcome).not.toBe('complete');
  });

  it('never stores a partial object when S3 resets mid-PUT', async () => {
    s3Fault.set({ kind: 'reset', afterBytes: 64 * 1024, direction: 'up' });
    const body = Buffer.alloc(512 * 1024, 9);
    const res = await fetch(`${rg.url}/api/connections/faulty/object?key=hardening/cut.bin`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${rg.tokens.alice}`, 'content-type': 'application/octet-stream' },
      body,
    });
    s3Fault.set({ kind: 'pass' });
    expect(res.status).toBeGreaterThanOrEqual(500);
    const head = await fetch(`${rg.url}/api/connections/faulty/object?key=hardening/cut.bin`, {
      headers: { authorization: `Bearer ${rg.tokens.alice}` },
    });
    const got = Buffer.from(await head.arrayBuffer());
    // Either nothing, or the whole object (S3 retried to completion): never a prefix of it.
    expect(head.status === 404 || got.equals(body)).toBe(true);
  });

  it('leaves no multipart upload, in RGW or in the store, when S3 resets a part of a streamed user-API PUT', async () => {
    const pending = () => rg.app.db.selectFrom('pending_uploads').select(['object_key', 'origin']).execute();
    // 20 MiB: a multipart upload of 8 MiB parts. The proxy cuts every connection after 4 MiB, so each part (and
    // each of the SDK's retries of it) fails, while the small CreateMultipartUpload and AbortMultipartUpload pass.
    const body = Buffer.alloc(20 * 1024 * 1024, 5);
    const whole = await fetch(`${rg.url}/api/connections/faulty/object?key=hardening/multi-ok.bin`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${rg.tokens.alice}`, 'content-type': 'application/octet-stream' },
      body,
    });
    expect(whole.status).toBe(201);
    expect(await pending()).toEqual([]);

    s3Fault.set({ kind: 'reset', afterBytes: 4 * 1024 * 1024, direction: 'up' });
    const cut = await fetch(`${rg.url}/api/connections/faulty/object?key=hardening/multi-cut.bin`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${rg.tokens.alice}`, 'content-type': 'application/octet-stream' },
      body,
    });
    s3Fault.set({ kind: 'pass' });
    expect(cut.status).toBeGreaterThanOrEqual(500);
    const admin = new S3Client({
      endpoint: rg.backend.endpoint,
      region: rg.backend.region,
      forcePathStyle: true,
      credentials: rg.backend.admin,
    });
    const left = await admin.send(
      new ListMultipartUploadsCommand({ Bucket: rg.seed.bucket, Prefix: 'sales/hardening/multi-' }),
    );
    admin.destroy();
    expect(left.Uploads ?? []).toEqual([]);
    expect(await pending()).toEqual([]);
  });
});
