import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRolegate, type TestRolegate } from '../harness/rolegate.js';

let rg: TestRolegate;
beforeAll(async () => {
  rg = await startTestRolegate({ config: { server: { port: 0, drainSeconds: 20 } } });
});
afterAll(async () => {
  await rg?.close().catch(() => undefined);
});

/** The value of one series in Prometheus text format, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('operations', () => {
  it('is ready when the database, the vault key and the audit trail answer', async () => {
    const res = await rg.api(undefined, 'GET', '/readyz');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      status: 'ready',
      checks: [
        { name: 'database', ok: true },
        { name: 'vault key', ok: true },
        { name: 'audit trail', ok: true },
      ],
    });
    expect((await rg.api(undefined, 'GET', '/healthz')).status).toBe(200);
  });

  it('exposes request, credential cache, STS, stream and audit metrics', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await rg.api(rg.tokens.alice, 'GET', '/api/connections/s3-sales/object?key=2024/q1.csv')).status).toBe(
        200,
      );
    }
    const text = (await rg.api(undefined, 'GET', '/metrics')).text;
    expect(
      sample(text, 'rolegate_http_requests_total{method="GET",route="/api/connections/:name/object",status="200"}'),
    ).toBe(3);
    expect(sample(text, 'rolegate_sts_calls_total{outcome="ok"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'rolegate_credential_cache_hits_total')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'rolegate_data_bytes_total{transport="object",direction="out"}')).toBe(
      3 * (rg.seed.objects['sales/2024/q1.csv'] as string).length,
    );
    expect(sample(text, 'rolegate_audit_sink_writes_total{sink="database",outcome="ok"}')).toBeGreaterThanOrEqual(6);
    expect(sample(text, 'rolegate_active_streams{direction="out"}')).toBe(0);
    expect(text).not.toContain('alice');
  });

  it('lets a download in flight finish when it shuts down', async () => {
    const body = randomBytes(12 * 1024 * 1024);
    const put = await fetch(`${rg.url}/api/connections/s3-sales/object?key=drain/big.bin`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${rg.tokens.alice}` },
      body,
    });
    expect(put.status).toBe(201);
    const received = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${rg.url}/api/connections/s3-sales/object?key=drain/big.bin`, {
        headers: { authorization: `Bearer ${rg.tokens.alice}` },
      });
      req.on('response', (res) => {
        let n = 0;
        res.pause();
        // Start the shutdown while the body is still coming, then read slowly to the end.
        void rg.app.close();
        const timer = setInterval(() => res.read(), 5);
        res.on('readable', () => {
          for (let chunk = res.read(); chunk !== null; chunk = res.read()) n += (chunk as Buffer).length;
        });
        res.on('end', () => {
          clearInterval(timer);
          resolve(n);
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    expect(received).toBe(body.length);
    // ...and new connections are refused once it has closed.
    await expect(fetch(`${rg.url}/healthz`)).rejects.toThrow();
  });
});
