import { request } from 'node:http';
import { DeleteObjectsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayRig, gatewayLeaks, gatewayS3Client, startGatewayRig } from '../harness/gateway.js';

/**
 * Oversized headers (> 16 KiB, Node's limit) and bodies (> server.bodyLimitBytes, > S3's limits) against the REST
 * API and the S3 gateway: a clean 4xx (431, 413 or 400), never a 5xx, and both listeners keep answering.
 */
let rig: GatewayRig;
let s3: S3Client;
const BODY_LIMIT = 64 * 1024;

/** One raw HTTP request (Node's client sends any header size); resolves with the status or 'reset'. */
function raw(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer },
): Promise<number | 'reset'> {
  return new Promise((resolve) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve('reset'));
    req.end(options.body);
  });
}

async function healthy(): Promise<void> {
  expect((await fetch(`${rig.rg.url}/healthz`)).status).toBe(200);
  // The gateway answers an anonymous ListBuckets with AccessDenied: it is up.
  expect((await fetch(rig.endpoint)).status).toBe(403);
}

describe('oversized headers and bodies', () => {
  beforeAll(async () => {
    rig = await startGatewayRig({ server: { port: 0, bodyLimitBytes: BODY_LIMIT } });
    s3 = gatewayS3Client(rig, rig.alice, { checksums: false });
  });
  afterAll(async () => {
    s3?.destroy();
    const leaks = rig === undefined ? [] : gatewayLeaks(rig);
    await rig?.close();
    expect(leaks).toEqual([]);
  });

  it('answers a header block over 16 KiB with 431 on both listeners', async () => {
    for (const size of [17 * 1024, 64 * 1024, 1024 * 1024]) {
      const big = { 'x-padding': 'a'.repeat(size), authorization: `Bearer ${rig.rg.tokens.alice}` };
      expect([size, await raw(`${rig.rg.url}/api/me`, { headers: big })]).toEqual([size, 431]);
      expect([size, await raw(`${rig.endpoint}/${rig.rg.seed.bucket}`, { headers: big })]).toEqual([size, 431]);
      // Many small headers adding up to the same size.
      const many = Object.fromEntries(Array.from({ length: size / 512 }, (_, i) => [`x-h${i}`, 'b'.repeat(500)]));
      expect([size, await raw(`${rig.rg.url}/api/me`, { headers: many })]).toEqual([size, 431]);
      expect([size, await raw(rig.endpoint, { headers: many })]).toEqual([size, 431]);
    }
    await healthy();
  });

  it('answers a REST body over bodyLimitBytes with 413, declared or chunked', async () => {
    const body = Buffer.from(JSON.stringify({ name: 'x', description: 'd'.repeat(BODY_LIMIT * 4) }));
    const headers = { authorization: `Bearer ${rig.rg.tokens.admin}`, 'content-type': 'application/json' };
    expect(
      await raw(`${rig.rg.url}/api/groups`, {
        method: 'POST',
        headers: { ...headers, 'content-length': String(body.length) },
        body,
      }),
    ).toBe(413);
    expect(
      await raw(`${rig.rg.url}/api/groups`, {
        method: 'POST',
        headers: { ...headers, 'transfer-encoding': 'chunked' },
        body,
      }),
    ).toBe(413);
    // Anonymous: refused before the body matters, never a 5xx.
    const anonymous = await raw(`${rig.rg.url}/api/groups`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect([401, 413]).toContain(anonymous);
    await healthy();
  });

  it('refuses gateway bodies beyond S3 limits with a 4xx S3 error', async () => {
    // A PutObject declaring more than S3's 5 GiB single-PUT limit, with a few bytes actually sent.
    const status = await s3
      .send(
        new PutObjectCommand({
          Bucket: rig.privateConnection,
          Key: 'too-big.bin',
          Body: Buffer.alloc(1024),
          ContentLength: 6 * 1024 * 1024 * 1024,
        }),
      )
      .then(
        () => 200,
        (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode ?? 0,
      );
    expect([status >= 400 && status < 500, status]).toEqual([true, status]);
    // DeleteObjects with 20 000 keys (S3 allows 1 000): a megabyte of valid XML.
    const del = await s3
      .send(
        new DeleteObjectsCommand({
          Bucket: rig.privateConnection,
          Delete: { Objects: Array.from({ length: 20_000 }, (_, i) => ({ Key: `k/${i}` })) },
        }),
      )
      .then(
        () => 200,
        (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode ?? 0,
      );
    expect([del >= 400 && del < 500, del]).toEqual([true, del]);
    await healthy();
  });
});
