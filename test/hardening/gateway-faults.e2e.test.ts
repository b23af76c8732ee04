import {
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../harness/fault-proxy.js';
import { type GatewayRig, gatewayLeaks, gatewayS3Client, startGatewayRig } from '../harness/gateway.js';

/**
 * S3 resets between the gateway and RGW: rolegate's connection endpoint is a fault proxy in front of RGW; the
 * client is the AWS SDK against the gateway. A cut GET is an error, never a short success; a cut PUT or part
 * leaves no object and, once the client or the idle sweeper aborted, no multipart upload.
 */
const MiB = 1024 * 1024;
let rig: GatewayRig;
let proxy: FaultProxy;
let client: S3Client;
let admin: S3Client;

async function exists(key: string): Promise<boolean> {
  try {
    await admin.send(new HeadObjectCommand({ Bucket: rig.rg.seed.bucket, Key: key }));
    return true;
  } catch (e) {
    if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw e;
  }
}

async function uploads(prefix: string) {
  const out = await admin.send(new ListMultipartUploadsCommand({ Bucket: rig.rg.seed.bucket, Prefix: prefix }));
  return out.Uploads ?? [];
}

describe('S3 resets behind the gateway', () => {
  beforeAll(async () => {
    // The sweeper aborts an upload idle for 1 s.
    rig = await startGatewayRig({ gateway: { multipartIdleSeconds: 1 } });
    proxy = await startFaultProxy(rig.rg.backend.endpoint);
    const res = await rig.rg.api(rig.rg.tokens.admin, 'POST', '/api/connections', {
      name: 'gw-faulty',
      bucket: rig.rg.seed.bucket,
      path: 'sales/',
      region: rig.rg.backend.region,
      endpoint: proxy.url,
      stsEndpoint: rig.rg.backend.endpoint,
      forcePathStyle: true,
      credentials: { mode: 'assume-role', roleArn: '${adminProperty:salesRole}', durationSeconds: 3600 },
      usableBy: 'everyone',
      detailsReadableBy: 'everyone',
      allowedRoles: ['arn:aws:iam:::role/*'],
    });
    if (res.status !== 201) throw new Error(`setup: ${res.status} ${res.text}`);
    client = gatewayS3Client(rig, rig.alice, { checksums: false });
    admin = new S3Client({
      endpoint: rig.rg.backend.endpoint,
      region: rig.rg.backend.region,
      forcePathStyle: true,
      credentials: rig.rg.backend.admin,
    });
  });
  afterAll(async () => {
    client?.destroy();
    admin?.destroy();
    await proxy?.close();
    const leaks = rig === undefined ? [] : gatewayLeaks(rig);
    await rig?.close();
    expect(leaks).toEqual([]);
  });

  it('never reports a GET cut mid-stream as a success', async () => {
    const body = Buffer.alloc(2 * MiB, 5);
    await client.send(new PutObjectCommand({ Bucket: 'gw-faulty', Key: 'gwf/big.bin', Body: body }));
    proxy.set({ kind: 'reset', afterBytes: 256 * 1024, direction: 'down' });
    let outcome: string;
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: 'gw-faulty', Key: 'gwf/big.bin' }));
      const got = Buffer.from(
        await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
      outcome = got.equals(body) ? 'complete' : `truncated success (${got.length})`;
    } catch {
      outcome = 'error';
    } finally {
      proxy.set({ kind: 'pass' });
    }
    expect(outcome).toBe('error');
  });

  it('never stores a partial object when S3 resets mid-PUT', async () => {
    proxy.set({ kind: 'reset', afterBytes: 256 * 1024, direction: 'up' });
    const body = Buffer.alloc(2 * MiB, 6);
    const outcome = await client
      .send(new PutObjectCommand({ Bucket: 'gw-faulty', Key: 'gwf/cut.bin', Body: body }))
      .then(
        () => 'success',
        (e: { $metadata?: { httpStatusCode?: number } }) => `error ${e.$metadata?.httpStatusCode ?? ''}`,
      );
    proxy.set({ kind: 'pass' });
    expect(outcome).toMatch(/^error 5\d\d$/);
    expect(await exists('sales/gwf/cut.bin')).toBe(false);
  });

  it('leaves no multipart upload when a part is cut: the SDK aborts, else the idle sweeper does', async () => {
    // lib-storage: a failed part makes the client abort the upload through the gateway.
    proxy.set({ kind: 'reset', afterBytes: 1 * MiB, direction: 'up' });
    const upload = new Upload({
      client,
      params: { Bucket: 'gw-faulty', Key: 'gwf/multi.bin', Body: Buffer.alloc(12 * MiB, 7) },
      partSize: 5 * MiB,
      queueSize: 1,
    });
    const sdk = await upload.done().then(
      () => 'success',
      () => 'error',
    );
    expect(sdk).toBe('error');

    // A raw client that gives up without aborting: the upload stays idle, and the sweeper aborts it.
    proxy.set({ kind: 'pass' });
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: 'gw-faulty', Key: 'gwf/raw.bin' }),
    );
    proxy.set({ kind: 'reset', afterBytes: 1 * MiB, direction: 'up' });
    const part = await client
      .send(
        new UploadPartCommand({
          Bucket: 'gw-faulty',
          Key: 'gwf/raw.bin',
          UploadId,
          PartNumber: 1,
          Body: Buffer.alloc(5 * MiB, 8),
        }),
      )
      .then(
        () => 'success',
        () => 'error',
      );
    proxy.set({ kind: 'pass' });
    expect(part).toBe('error');

    let left = await uploads('sales/gwf/');
    for (let i = 0; i < 40 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      left = await uploads('sales/gwf/');
    }
    expect(left.map((u) => u.Key)).toEqual([]);
    expect(await exists('sales/gwf/multi.bin')).toBe(false);
    expect(await exists('sales/gwf/raw.bin')).toBe(false);
    // Aborted by the client or by the idle sweeper, neither is pending in the store any more either.
    expect(await rig.rg.app.db.selectFrom('pending_uploads').select('object_key').execute()).toEqual([]);
  });
});
