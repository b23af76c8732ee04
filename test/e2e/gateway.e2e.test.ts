/**
 * The S3 gateway at the protocol level (AWS SDK v3 with its default flexible checksums, and hand-made requests):
 * checksums, aws-chunked trailers, what is (not) stored when a body fails or a client goes away, idle multipart
 * uploads, instant revocation, NotImplemented, and the gateway-key API.
 */
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import {
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendS3Client } from '../../src/demo/seed.js';
import { checksumOf } from '../../src/gateway/checksums.js';
import {
  createGatewayKey,
  type GatewayKey,
  type GatewayRig,
  gatewayLeaks,
  gatewayS3Client,
  startGatewayRig,
} from '../harness/gateway.js';
import { smithyS3Signer } from '../harness/smithy-signer.js';

let rig: GatewayRig;
let alice: S3Client;

beforeAll(async () => {
  rig = await startGatewayRig({ gateway: { multipartIdleSeconds: 1 } });
  alice = gatewayS3Client(rig, rig.alice);
});
afterAll(async () => {
  alice?.destroy();
  await rig?.close();
});

const errorName = async (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { name?: string }) => e.name,
  );

/** Signs request headers for the gateway (the body is sent separately, exactly as given). */
async function signedHeaders(
  key: GatewayKey,
  method: string,
  path: string,
  headers: Record<string, string>,
  query: Record<string, string> = {},
) {
  const url = new URL(rig.endpoint);
  const signer = smithyS3Signer(key, 'us-east-1');
  const signed = await signer.sign({
    method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path,
    query,
    headers: { host: url.host, ...headers },
  });
  return signed.headers;
}

/** Sends a raw request; `abortAfter` bytes of the body, then the connection is destroyed. */
function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
  abortAfter?: number,
): Promise<{ status: number; text: string }> {
  const url = new URL(rig.endpoint);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    if (abortAfter === undefined) {
      req.on('error', reject);
      req.end(body);
      return;
    }
    req.on('error', () => resolve({ status: 0, text: 'aborted' }));
    req.write(body.subarray(0, abortAfter), () => setTimeout(() => req.destroy(), 200));
  });
}

/** What the backend itself (admin, not through rolegate) holds for a full key. */
async function backendState(fullKey: string) {
  const s3 = backendS3Client(rig.rg.backend.admin, rig.rg.backend.endpoint);
  try {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: rig.rg.seed.bucket, Prefix: fullKey }));
    const match = listed.Contents?.find((o) => o.Key === fullKey);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: rig.rg.seed.bucket, Prefix: fullKey }));
    return { exists: match !== undefined, size: match?.Size, pendingUploads: uploads.Uploads?.length ?? 0 };
  } finally {
    s3.destroy();
  }
}

describe('checksums and aws-chunked bodies', () => {
  it('accepts the AWS SDK default (CRC32 trailer) and every flexible checksum the SDK offers', async () => {
    for (const algorithm of ['CRC32', 'CRC32C', 'SHA1', 'SHA256'] as const) {
      const key = `sdk/${algorithm}.txt`;
      await alice.send(
        new PutObjectCommand({ Bucket: 's3-sales', Key: key, Body: `body ${algorithm}`, ChecksumAlgorithm: algorithm }),
      );
      const got = await alice.send(new GetObjectCommand({ Bucket: 's3-sales', Key: key }));
      expect(await got.Body?.transformToString()).toBe(`body ${algorithm}`);
    }
  });

  it('refuses a wrong checksum header with BadDigest and keeps the earlier version', async () => {
    await alice.send(new PutObjectCommand({ Bucket: 's3-sales', Key: 'sdk/keep.txt', Body: 'original' }));
    const name = await errorName(
      alice.send(
        new PutObjectCommand({ Bucket: 's3-sales', Key: 'sdk/keep.txt', Body: 'replaced', ChecksumCRC32: 'AAAAAA==' }),
      ),
    );
    expect(name).toBe('BadDigest');
    const got = await alice.send(new GetObjectCommand({ Bucket: 's3-sales', Key: 'sdk/keep.txt' }));
    expect(await got.Body?.transformToString()).toBe('original');
  });

  it.each(['crc64nvme', 'crc32c'] as const)(
    'verifies a streamed 3 MiB unsigned-trailer body (%s); a wrong trailer stores nothing',
    async (algorithm) => {
      const data = Buffer.alloc(3 * 1024 * 1024, 0x5a);
      const chunked = (value: string) => {
        const parts: Buffer[] = [];
        for (let i = 0; i < data.length; i += 65536) {
          const piece = data.subarray(i, i + 65536);
          parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
        }
        parts.push(Buffer.from(`0\r\nx-amz-checksum-${algorithm}:${value}\r\n\r\n`));
        return Buffer.concat(parts);
      };
      const put = async (key: string, value: string) => {
        const body = chunked(value);
        const headers = await signedHeaders(rig.alice, 'PUT', `/s3-sales/${key}`, {
          'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
          'content-encoding': 'aws-chunked',
          'x-amz-decoded-content-length': String(data.length),
          'x-amz-trailer': `x-amz-checksum-${algorithm}`,
          'content-length': String(body.length),
        });
        return send('PUT', `/s3-sales/${key}`, headers, body);
      };
      const good = await put(`raw/${algorithm}.bin`, checksumOf(algorithm, data));
      expect(good.status, good.text).toBe(200);
      expect((await backendState(`sales/raw/${algorithm}.bin`)).size).toBe(data.length);
      const bad = await put(`raw/${algorithm}-bad.bin`, checksumOf(algorithm, Buffer.from('other')));
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('<Code>BadDigest</Code>');
      expect(await backendState(`sales/raw/${algorithm}-bad.bin`)).toMatchObject({ exists: false, pendingUploads: 0 });
    },
  );
});

describe('uploads that do not finish', () => {
  it('stores nothing when the client goes away mid-upload, and keeps the earlier version', async () => {
    await alice.send(new PutObjectCommand({ Bucket: 's3-sales', Key: 'cut/object.bin', Body: 'earlier' }));
    const size = 10 * 1024 * 1024;
    const headers = await signedHeaders(rig.alice, 'PUT', '/s3-sales/cut/object.bin', {
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      'content-length': String(size),
    });
    const res = await send('PUT', '/s3-sales/cut/object.bin', headers, Buffer.alloc(size, 1), 3 * 1024 * 1024);
    expect(res.status).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(await backendState('sales/cut/object.bin')).toMatchObject({ exists: true, size: 7, pendingUploads: 0 });
  });

  it('aborts a multipart upload left idle (its client gone): no parts stay behind', async () => {
    const created = await alice.send(new CreateMultipartUploadCommand({ Bucket: 's3-sales', Key: 'idle/parts.bin' }));
    await alice.send(
      new UploadPartCommand({
        Bucket: 's3-sales',
        Key: 'idle/parts.bin',
        UploadId: created.UploadId,
        PartNumber: 1,
        Body: Buffer.alloc(5 * 1024 * 1024, 2),
      }),
    );
    expect((await backendState('sales/idle/parts.bin')).pendingUploads).toBe(1);
    for (let i = 0; i < 40 && (await backendState('sales/idle/parts.bin')).pendingUploads > 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await backendState('sales/idle/parts.bin')).toMatchObject({ exists: false, pendingUploads: 0 });
  });
});

describe('instant revocation', () => {
  it('refuses a key on the very next request after it is revoked', async () => {
    const key = await createGatewayKey(rig.rg, rig.rg.tokens.alice, 'alice');
    const client = gatewayS3Client(rig, key);
    expect(await errorName(client.send(new ListObjectsV2Command({ Bucket: 's3-sales' })))).toBe('ok');
    await rig.rg.api(rig.rg.tokens.alice, 'DELETE', `/api/users/alice/gateway-keys/${key.accessKeyId}`);
    expect(await errorName(client.send(new ListObjectsV2Command({ Bucket: 's3-sales' })))).toBe('InvalidAccessKeyId');
    client.destroy();
  });

  it('refuses a user removed from the connection group, and a deleted user', async () => {
    const admin = rig.rg.tokens.admin;
    expect(await errorName(alice.send(new ListObjectsV2Command({ Bucket: rig.privateConnection })))).toBe('ok');
    await rig.rg.api(admin, 'DELETE', '/api/groups/alice-team/members/alice');
    expect(await errorName(alice.send(new ListObjectsV2Command({ Bucket: rig.privateConnection })))).toBe(
      'NoSuchBucket',
    );
    await rig.rg.api(admin, 'PUT', '/api/groups/alice-team/members/alice');

    const carolKey = await createGatewayKey(rig.rg, admin, 'carol');
    const carol = gatewayS3Client(rig, carolKey);
    expect(await errorName(carol.send(new ListObjectsV2Command({ Bucket: 's3-sales' })))).not.toBe(
      'InvalidAccessKeyId',
    );
    await rig.rg.api(admin, 'DELETE', '/api/users/carol');
    expect(await errorName(carol.send(new ListObjectsV2Command({ Bucket: 's3-sales' })))).toBe('InvalidAccessKeyId');
    carol.destroy();
  });
});

describe('protocol edges', () => {
  it('answers NotImplemented in S3 XML, with a request id, for what it does not do', async () => {
    const headers = await signedHeaders(
      rig.alice,
      'GET',
      '/s3-sales',
      { 'x-amz-content-sha256': createHash('sha256').update('').digest('hex') },
      { acl: '' },
    );
    const res = await send('GET', '/s3-sales?acl', headers, Buffer.alloc(0));
    expect(res.status).toBe(501);
    expect(res.text).toMatch(/<Code>NotImplemented<\/Code>.*<RequestId>[0-9A-F]{16}<\/RequestId>/s);
  });

  it('refuses anonymous requests and a DOCTYPE in DeleteObjects', async () => {
    const anonymous = await fetch(`${rig.endpoint}/s3-sales/2024/q1.csv`);
    expect(anonymous.status).toBe(403);
    expect(await anonymous.text()).toContain('<Code>AccessDenied</Code>');
    const body = Buffer.from('<!DOCTYPE x [<!ENTITY a "b">]><Delete><Object><Key>&a;</Key></Object></Delete>');
    const headers = await signedHeaders(
      rig.alice,
      'POST',
      '/s3-sales',
      {
        'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
        'content-length': String(body.length),
      },
      { delete: '' },
    );
    const res = await send('POST', '/s3-sales?delete', headers, body);
    expect(res.status).toBe(400);
    expect(res.text).toContain('<Code>MalformedXML</Code>');
  });
});

describe('gateway key API', () => {
  it('shows a secret once, lists without it, and hides other users keys', async () => {
    const created = await rig.rg.api(rig.rg.tokens.admin, 'POST', '/api/users/bob/gateway-keys', { name: 'spark' });
    expect(created.status).toBe(201);
    const { accessKeyId, secretAccessKey } = created.json as { accessKeyId: string; secretAccessKey: string };
    rig.rg.secrets.add(secretAccessKey);
    expect(accessKeyId).toMatch(/^RG[A-Z2-7]{18}$/);
    const listed = await rig.rg.api(rig.rg.tokens.bob, 'GET', '/api/users/bob/gateway-keys');
    expect(listed.status).toBe(200);
    expect(listed.text).toContain(accessKeyId);
    expect(listed.text).not.toContain('secret');
    expect((await rig.rg.api(rig.rg.tokens.bob, 'GET', '/api/users/alice/gateway-keys')).status).toBe(404);
    expect(
      (await rig.rg.api(rig.rg.tokens.bob, 'DELETE', `/api/users/alice/gateway-keys/${rig.alice.accessKeyId}`)).status,
    ).toBe(404);
    expect((await rig.rg.api(undefined, 'GET', '/api/users/bob/gateway-keys')).status).toBe(401);
    expect(gatewayLeaks(rig)).toEqual([]);
  });
});

describe('audit', () => {
  it('records each gateway operation with the role session that performed it, and denials with their reason', async () => {
    const got = await alice.send(new GetObjectCommand({ Bucket: 's3-sales', Key: '2024/q1.csv' }));
    const body = await got.Body?.transformToString();
    const search = async (query: string) =>
      (
        (await rig.rg.api(rig.rg.tokens.admin, 'GET', `/api/audit?${query}`)).json as {
          events: Array<Record<string, unknown>>;
        }
      ).events;
    const [event] = await search('user=alice&action=gateway.GetObject&limit=1');
    expect(event).toMatchObject({
      authMethod: 'gateway-key',
      connection: 's3-sales',
      key: '2024/q1.csv',
      bytes: body?.length,
      outcome: 'allowed',
      sessionName: 'rg-s3-sales-for-alice',
    });
    const bob = gatewayS3Client(rig, rig.bob);
    try {
      expect(await errorName(bob.send(new ListObjectsV2Command({ Bucket: 's3-marketing' })))).toBe('AccessDenied');
    } finally {
      bob.destroy();
    }
    const [denied] = await search('user=bob&action=gateway.ListObjectsV2&outcome=denied&limit=1');
    expect(denied).toMatchObject({ connection: 's3-marketing', reasonCode: 'template.property_missing' });
  });
});
