import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendS3Client } from '../../src/demo/seed.js';
import type { ListingResponse } from '../../src/modules/data/data.routes.js';
import { startRecordingProxy } from '../harness/recording-proxy.js';
import { findLeaks, startTestRolegate, type TestRolegate } from '../harness/rolegate.js';

let rg: TestRolegate;

beforeAll(async () => {
  rg = await startTestRolegate();
});
afterAll(async () => {
  await rg?.close();
});

const code = (json: unknown) => (json as { code: string }).code;

async function putBytes(token: string, connection: string, key: string, body: Buffer) {
  const res = await fetch(`${rg.url}/api/connections/${connection}/object?key=${encodeURIComponent(key)}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body,
  });
  return { status: res.status, json: (await res.json()) as unknown };
}

/** Whether the backend (seen with admin rights, not through rolegate) has the object or pending uploads for it. */
async function backendState(key: string): Promise<{ exists: boolean; pendingUploads: number; size?: number }> {
  const s3 = backendS3Client(rg.backend.admin, rg.backend.endpoint);
  try {
    // Listing, not HeadObject: objects written by role sessions belong to the master user in RGW, and
    // the bucket owner may list them but not read their metadata.
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: rg.seed.bucket, Prefix: key }));
    const match = listed.Contents?.find((o) => o.Key === key);
    const exists = match !== undefined;
    const size = match?.Size;
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: rg.seed.bucket, Prefix: key }));
    return { exists, pendingUploads: uploads.Uploads?.length ?? 0, size };
  } finally {
    s3.destroy();
  }
}

describe('browsing', () => {
  it('lists folders and objects relative to the connection path, never the sibling prefix', async () => {
    const root = await rg.api(rg.tokens.alice, 'GET', '/api/connections/s3-sales/objects');
    expect(root.status).toBe(200);
    expect(root.json).toMatchObject({ prefix: '', folders: ['2024/'], objects: [] });
    expect(root.text).not.toContain('archive');
  });

  it('asks S3 for the bucket region first when useBucketRegion is set', async () => {
    const s3 = await startRecordingProxy(rg.backend.endpoint);
    const created = await rg.api(rg.tokens.admin, 'POST', '/api/connections', {
      name: 'sales-bucket-region',
      bucket: rg.seed.bucket,
      path: 'sales/',
      region: 'eu-west-3',
      useBucketRegion: true,
      endpoint: s3.url,
      stsEndpoint: rg.backend.endpoint,
      forcePathStyle: true,
      credentials: { mode: 'assume-role', roleArn: '${adminProperty:salesRole}' },
    });
    expect(created.status, created.text).toBe(201);
    const res = await rg.api(rg.tokens.alice, 'GET', '/api/connections/sales-bucket-region/objects');
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ folders: ['2024/'] });
    await s3.close();
    const [first, second] = s3.requests;
    expect(first?.url).toMatch(new RegExp(`^/${rg.seed.bucket}/?\\?location`));
    expect(first?.headers.authorization).toContain('/eu-west-3/s3/');
    // RGW names its zonegroup's region "default"; what matters is that the listing is signed for the answer.
    expect(second?.headers.authorization).not.toContain('/eu-west-3/s3/');
  });

  it('paginates with a cursor', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await putBytes(rg.tokens.alice, 's3-sales', `pages/p${i}.txt`, Buffer.from(`page ${i}`))).status).toBe(
        201,
      );
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const q = `prefix=pages/&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await rg.api(rg.tokens.alice, 'GET', `/api/connections/s3-sales/objects?${q}`);
      expect(res.status).toBe(200);
      const listing = res.json as ListingResponse;
      expect(listing.objects.length).toBeLessThanOrEqual(2);
      seen.push(...listing.objects.map((o) => o.key));
      cursor = listing.nextCursor;
      pages++;
    } while (cursor !== undefined && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(['pages/p0.txt', 'pages/p1.txt', 'pages/p2.txt', 'pages/p3.txt', 'pages/p4.txt']);
  });
});

describe('reading', () => {
  it('streams an object and honours Range', async () => {
    const full = rg.seed.objects['sales/2024/q1.csv'] as string;
    const res = await fetch(`${rg.url}/api/connections/s3-sales/object?key=2024/q1.csv`, {
      headers: { authorization: `Bearer ${rg.tokens.alice}`, range: 'bytes=7-13' },
    });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 7-13/${full.length}`);
    expect(await res.text()).toBe(full.slice(7, 14));
    const head = await fetch(`${rg.url}/api/connections/s3-sales/object?key=2024/q1.csv`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${rg.tokens.alice}` },
    });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(full.length));
  });

  it('rejects a malformed Range and reports a missing object as 404', async () => {
    const bad = await rg.api(rg.tokens.alice, 'GET', '/api/connections/s3-sales/object?key=2024/q1.csv', undefined, {
      range: 'bytes=1-2,5-6',
    });
    expect(bad.status).toBe(400);
    expect(code(bad.json)).toBe('object.invalid_range');
    const missing = await rg.api(rg.tokens.alice, 'GET', '/api/connections/s3-sales/object?key=2024/none.csv');
    expect(missing.status).toBe(404);
    expect(code(missing.json)).toBe('object.not_found');
  });
});

describe('writing', () => {
  it('writes, reads back and deletes a small object', async () => {
    const body = Buffer.from('a,b\n1,2\n');
    const put = await putBytes(rg.tokens.alice, 's3-sales', 'uploads/small.csv', body);
    expect(put.status).toBe(201);
    expect(put.json).toMatchObject({ key: 'uploads/small.csv', size: body.length });
    const got = await rg.api(rg.tokens.alice, 'GET', '/api/connections/s3-sales/object?key=uploads/small.csv');
    expect(got.text).toBe(body.toString());
    expect((await backendState('sales/uploads/small.csv')).exists).toBe(true);
    const del = await rg.api(rg.tokens.alice, 'DELETE', '/api/connections/s3-sales/object?key=uploads/small.csv');
    expect(del.status).toBe(204);
    expect((await backendState('sales/uploads/small.csv')).exists).toBe(false);
  });

  it('streams a large body as a multipart upload', async () => {
    const body = randomBytes(19 * 1024 * 1024);
    const put = await putBytes(rg.tokens.alice, 's3-sales', 'uploads/large.bin', body);
    expect(put.status, JSON.stringify(put.json)).toBe(201);
    const state = await backendState('sales/uploads/large.bin');
    expect(state).toMatchObject({ exists: true, pendingUploads: 0, size: body.length });
    const res = await fetch(`${rg.url}/api/connections/s3-sales/object?key=uploads/large.bin`, {
      headers: { authorization: `Bearer ${rg.tokens.alice}` },
    });
    expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);
  });

  it('leaves nothing behind, and the previous version intact, when the client disconnects mid-upload', async () => {
    const key = 'uploads/interrupted.bin';
    const original = Buffer.from('the previous version');
    expect((await putBytes(rg.tokens.alice, 's3-sales', key, original)).status).toBe(201);
    const total = 24 * 1024 * 1024;
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${rg.url}/api/connections/s3-sales/object?key=${key}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${rg.tokens.alice}`, 'content-length': String(total) },
      });
      req.on('error', () => resolve());
      req.on('response', () => resolve());
      // Send more than one part (so a multipart upload is under way), then vanish.
      req.write(randomBytes(18 * 1024 * 1024), () => setTimeout(() => req.destroy(), 300));
    });
    let state = await backendState(`sales/${key}`);
    for (let i = 0; i < 40 && state.pendingUploads > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = await backendState(`sales/${key}`);
    }
    expect(state).toMatchObject({ exists: true, pendingUploads: 0, size: original.length });
    const got = await rg.api(rg.tokens.alice, 'GET', `/api/connections/s3-sales/object?key=${key}`);
    expect(got.text).toBe(original.toString());
  });

  it('refuses writes on a read-only connection, and for a user without the role', async () => {
    const conn = await rg.api(rg.tokens.admin, 'POST', '/api/connections', {
      name: 'sales-readonly',
      bucket: rg.seed.bucket,
      path: 'sales/',
      region: rg.backend.region,
      endpoint: rg.backend.endpoint,
      forcePathStyle: true,
      readOnly: true,
      credentials: { mode: 'assume-role', roleArn: '${adminProperty:salesRole}' },
    });
    expect(conn.status, conn.text).toBe(201);
    const ro = await putBytes(rg.tokens.alice, 'sales-readonly', 'x.csv', Buffer.from('x'));
    expect(ro.status).toBe(403);
    expect(code(ro.json)).toBe('connection.read_only');
    expect((await rg.api(rg.tokens.alice, 'GET', '/api/connections/sales-readonly/objects')).status).toBe(200);
    const bob = await putBytes(rg.tokens.bob, 's3-marketing', 'x.csv', Buffer.from('x'));
    expect(bob.status).toBe(403);
    expect(code(bob.json)).toBe('template.property_missing');
    expect((await backendState('marketing/x.csv')).exists).toBe(false);
  });
});

describe('keys that try to leave the connection path', () => {
  const escapes = [
    '../marketing/campaigns.csv',
    '2024/../../marketing/campaigns.csv',
    '/sales-archive/old.csv',
    './2024/q1.csv',
    '2024//q1.csv',
    '..%2Fmarketing%2Fcampaigns.csv',
    '2024%2F..%2F..%2Fmarketing',
    '2024\\..\\q1.csv',
    '2024/q1.csv\u0000',
    '..',
  ];
  it.each(escapes)('refuses %j before any S3 call', async (key) => {
    for (const method of ['GET', 'DELETE']) {
      const res = await rg.api(
        rg.tokens.alice,
        method,
        `/api/connections/s3-sales/object?key=${encodeURIComponent(key)}`,
      );
      expect(res.status).toBe(400);
      expect(code(res.json)).toBe('key.invalid');
    }
    const put = await putBytes(rg.tokens.alice, 's3-sales', key, Buffer.from('x'));
    expect(put.status).toBe(400);
  });

  it('refuses a listing prefix that climbs out', async () => {
    const res = await rg.api(
      rg.tokens.alice,
      'GET',
      `/api/connections/s3-sales/objects?prefix=${encodeURIComponent('../sales-archive/')}`,
    );
    expect(res.status).toBe(400);
    expect(['key.invalid', 'prefix.invalid']).toContain(code(res.json));
  });

  it('kept the sibling prefix untouched', async () => {
    expect((await backendState('sales-archive/old.csv')).exists).toBe(true);
    expect(findLeaks(rg)).toEqual([]);
  });
});
