import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStsGateway } from '../../src/cloud/aws/sts.js';
import { isRolegateError } from '../../src/errors/errors.js';
import { startTestStsStub, type TestStsStub } from '../harness/sts-stub.js';

/**
 * The spacing of STS retries, measured where it matters: at the STS. A stub STS that throttles (503) and fails
 * (500) every call records when each retry arrives; 32 callers retry at once through rolegate's STS client
 * (src/cloud/aws/sts.ts, full-jitter exponential backoff: base 100 ms, doubling, capped at 2 s).
 */
const CALLERS = 32;
const ATTEMPTS = 6;
const BASE_MS = 100;
/** The cap of the backoff before attempt k + 1 (k = 1 … ATTEMPTS − 1). */
const capBefore = (k: number) => Math.min(2_000, BASE_MS * 2 ** (k - 1));
/** HTTP round trip and scheduling on a loaded loopback: what a gap may exceed its cap by. */
const SLACK_MS = 250;

const throttled =
  '<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>';
const failed =
  '<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>oops</Message></Error></ErrorResponse>';

let stub: TestStsStub;

describe('STS retries back off with jitter (measured at a stub STS)', () => {
  beforeAll(async () => {
    const seen = new Map<string, number>();
    stub = await startTestStsStub({
      answer: (request) => {
        const caller = request.form.get('RoleSessionName') ?? '';
        const n = (seen.get(caller) ?? 0) + 1;
        seen.set(caller, n);
        // Throttling and a server error in turn: both are retried.
        return n % 2 === 1 ? { status: 503, body: throttled } : { status: 500, body: failed };
      },
    });
  });
  afterAll(async () => {
    await stub?.close();
  });

  it('spaces each caller’s retries further apart, and no two callers alike', async () => {
    const sts = createStsGateway({ timeoutMs: 2_000, maxAttempts: ATTEMPTS, baseDelayMs: BASE_MS });
    const started = performance.now();
    const outcomes = await Promise.all(
      Array.from({ length: CALLERS }, (_, i) =>
        sts
          .assumeRole({
            masterCredentials: { accessKeyId: 'STUBMASTERKEY0000001', secretAccessKey: 'stub-master-secret' },
            region: 'us-east-1',
            endpoint: stub.url,
            roleArn: 'arn:aws:iam:::role/retry',
            sessionName: `caller-${i}`,
            durationSeconds: 900,
            policy: '{}',
            connectionName: 'retry',
          })
          .then(
            () => 'issued',
            (e: unknown) => (isRolegateError(e) ? e.code : 'untyped'),
          ),
      ),
    );
    const elapsed = performance.now() - started;
    // Every caller gave up after its attempts with a typed error, within the sum of the caps.
    expect(new Set(outcomes)).toEqual(new Set(['sts.unavailable']));
    let capSum = 0;
    for (let k = 1; k < ATTEMPTS; k++) capSum += capBefore(k);
    expect(elapsed).toBeLessThan(capSum + ATTEMPTS * SLACK_MS);

    const byCaller = new Map<string, number[]>();
    for (const r of stub.requests) {
      const caller = r.form.get('RoleSessionName') ?? '';
      byCaller.set(caller, [...(byCaller.get(caller) ?? []), r.at]);
    }
    expect(byCaller.size).toBe(CALLERS);
    // gaps[k - 1][c]: how long caller c waited between its attempt k and k + 1, at the STS.
    const gaps: number[][] = Array.from({ length: ATTEMPTS - 1 }, () => []);
    for (const times of byCaller.values()) {
      expect(times).toHaveLength(ATTEMPTS);
      times.sort((a, b) => a - b);
      for (let k = 1; k < ATTEMPTS; k++) gaps[k - 1]?.push((times[k] ?? 0) - (times[k - 1] ?? 0));
    }

    const rows = gaps.map((g, i) => {
      const k = i + 1;
      const sorted = [...g].sort((a, b) => a - b);
      const mean = g.reduce((s, x) => s + x, 0) / g.length;
      return {
        k,
        cap: capBefore(k),
        min: sorted[0] ?? 0,
        p50: sorted[Math.floor(sorted.length / 2)] ?? 0,
        max: sorted[sorted.length - 1] ?? 0,
        mean,
        distinct: new Set(g.map((x) => Math.round(x))).size,
      };
    });
    console.info(
      `[retry-spacing] ${CALLERS} callers × ${ATTEMPTS} attempts, gaps at the STS (ms):\n` +
        rows
          .map(
            (r) =>
              `  before attempt ${r.k + 1}: cap ${r.cap}, min ${r.min.toFixed(0)}, p50 ${r.p50.toFixed(0)}, ` +
              `mean ${r.mean.toFixed(0)}, max ${r.max.toFixed(0)}, distinct ${r.distinct}/${CALLERS}`,
          )
          .join('\n'),
    );

    for (const r of rows) {
      // Bounded by the policy: no gap exceeds its cap (plus a round trip).
      expect(r.max).toBeLessThan(r.cap + SLACK_MS);
      // Jittered: the callers do not retry in lockstep (full jitter spreads them over the whole cap).
      expect(r.distinct).toBeGreaterThanOrEqual(CALLERS / 2);
      expect(r.max - r.min).toBeGreaterThan(r.cap / 4);
    }
    for (let i = 1; i < rows.length; i++) {
      const [before, after] = [rows[i - 1], rows[i]];
      if (before === undefined || after === undefined) continue;
      // Growing: the mean gap roughly doubles per attempt (expected cap / 2), and some caller waited longer
      // than the previous cap allowed.
      expect(after.mean).toBeGreaterThan(before.mean * 1.25);
      expect(after.max).toBeGreaterThan(before.cap);
    }
  });
});
