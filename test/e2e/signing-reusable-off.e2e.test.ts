import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3SignResponse } from '../../src/modules/signing/signing.routes.js';
import {
  findLeaks,
  salesConnectionBody,
  startTestRolegate,
  type TestRolegate,
  uniqueSuffix,
} from '../harness/rolegate.js';

/** `signing.reusableReads: false`: every object read is signed alone, over all its headers, and never cacheable. */
let rg: TestRolegate;
let connection: string;

beforeAll(async () => {
  rg = await startTestRolegate({ config: { signing: { reusableReads: false } } });
  connection = `sig-${uniqueSuffix()}`;
  const res = await rg.api(
    rg.tokens.admin,
    'POST',
    '/api/connections',
    salesConnectionBody(rg, { name: connection, signingAllowedBy: 'everyone' }),
  );
  expect(res.status, res.text).toBe(201);
});

afterAll(async () => {
  await rg?.close();
});

async function signedGet(range: string): Promise<{ answer: S3SignResponse; cacheControl: string | null }> {
  const res = await rg.api(rg.tokens.alice, 'POST', `/api/connections/${connection}/iceberg/v1/aws/s3/sign`, {
    region: rg.backend.region,
    method: 'GET',
    uri: `${rg.backend.endpoint}/${rg.seed.bucket}/sales/2024/q1.csv`,
    headers: { Range: [range] },
  });
  expect(res.status, res.text).toBe(200);
  const answer = res.json as S3SignResponse;
  for (const name of ['authorization', 'x-amz-security-token'])
    for (const v of answer.headers[name] ?? []) rg.secrets.add(v);
  return { answer, cacheControl: res.headers.get('cache-control') };
}

function send(answer: S3SignResponse, range: string): Promise<Response> {
  const headers = new Headers({ range });
  for (const [name, values] of Object.entries(answer.headers)) for (const v of values) headers.append(name, v);
  return fetch(answer.uri, { headers });
}

describe('remote signing with signing.reusableReads off', () => {
  it('signs an object read over its Range too and tells clients not to keep the answer', async () => {
    const { answer, cacheControl } = await signedGet('bytes=0-3');
    expect(cacheControl).toBe('no-cache, no-store');
    expect(answer.headers.authorization?.[0]).toContain('SignedHeaders=host;range;');
    const read = await send(answer, 'bytes=0-3');
    expect(read.status).toBe(206);
    expect(await read.text()).toBe((rg.seed.objects['sales/2024/q1.csv'] ?? '').slice(0, 4));
    // The signature covers that range only: another range with it is S3's signature mismatch.
    const other = await send(answer, 'bytes=4-7');
    expect(other.status).toBe(403);
    expect(await other.text()).toContain('SignatureDoesNotMatch');
  });

  it('audits each read as not reusable, and logs no secret', async () => {
    await rg.app.trail.flush();
    const res = await rg.api(rg.tokens.admin, 'GET', `/api/audit?connection=${connection}&limit=50`);
    const events = (res.json as { events: Array<{ action: string; details?: Record<string, unknown> }> }).events;
    const signs = events.filter((e) => e.action === 'signing.sign');
    expect(signs.length).toBeGreaterThan(0);
    for (const e of signs) expect(e.details?.reusable).toBeUndefined();
    expect(findLeaks(rg, (body) => body.includes('"x-amz-security-token"'))).toEqual([]);
  });
});
