/**
 * The gateway's read-only `mnt` bucket, with the AWS SDK v3 against RGW: its folders are the mounts the gateway
 * key's user can see; each mount is read with its own role (gateway keys carry no session), so one client reads
 * two datasets needing different roles side by side; a user without a mount's role sees neither it nor its data.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGatewayKey,
  type GatewayKey,
  type GatewayRig,
  gatewayLeaks,
  gatewayS3Client,
  startGatewayRig,
} from '../harness/gateway.js';
import { uniqueSuffix } from '../harness/rolegate.js';

let rig: GatewayRig;
let carolKey: GatewayKey;
const clients: S3Client[] = [];
const client = (key: GatewayKey) => {
  const c = gatewayS3Client(rig, key);
  clients.push(c);
  return c;
};
const Bucket = 'mnt';

beforeAll(async () => {
  rig = await startGatewayRig();
  const { rg } = rig;
  const connection = `s3-mnt-${uniqueSuffix()}`;
  const created = await rg.api(rg.tokens.admin, 'POST', '/api/connections', {
    name: connection,
    bucket: rg.seed.bucket,
    region: rg.backend.region,
    endpoint: rg.backend.endpoint,
    forcePathStyle: true,
    allowedRoles: ['arn:aws:iam:::role/*'],
    detailsReadableBy: 'everyone',
    credentials: { mode: 'assume-role', roleArn: '${sessionRole}', durationSeconds: 3600 },
  });
  expect(created.status, created.text).toBe(201);
  for (const body of [
    { path: '/mnt/sales', connection, prefix: 'sales/', roleArn: rg.seed.salesRoleArn },
    { path: '/mnt/sales/2024', connection, prefix: 'sales/2024/', roleArn: rg.seed.salesRoleArn },
    { path: '/mnt/mkt', connection, prefix: 'marketing/', roleArn: rg.seed.marketingRoleArn },
  ]) {
    const res = await rg.api(rg.tokens.admin, 'POST', '/api/mounts', body);
    expect(res.status, res.text).toBe(201);
  }
  carolKey = await createGatewayKey(rg, rg.tokens.carol, 'carol');
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await rig?.close();
});

const text = async (s3: S3Client, Key: string) =>
  (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body?.transformToString() ?? '';
const folders = async (s3: S3Client, Prefix?: string) =>
  ((await s3.send(new ListObjectsV2Command({ Bucket, Delimiter: '/', Prefix }))).CommonPrefixes ?? []).map(
    (p) => p.Prefix,
  );
const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => ({ name: 'ok', status: 200 }),
    (e: { name?: string; $metadata?: { httpStatusCode?: number } }) => ({
      name: e.name,
      status: e.$metadata?.httpStatusCode,
    }),
  );

describe('the mnt bucket', () => {
  it('lists the mounts the user can see as its folders, and only then appears in ListBuckets', async () => {
    const alice = client(rig.alice);
    const bob = client(rig.bob);
    const carol = client(carolKey);
    expect(await folders(alice)).toEqual(['mkt/', 'sales/']);
    expect(await folders(bob)).toEqual(['sales/']);
    expect(await folders(carol)).toEqual([]);
    expect(await folders(alice, 's')).toEqual(['sales/']);

    const names = async (s3: S3Client) =>
      ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name);
    expect(await names(alice)).toContain(Bucket);
    expect(await names(bob)).toContain(Bucket);
    expect(await names(carol)).not.toContain(Bucket);
  });

  it('reads two datasets needing different roles in one client: a join-like read', async () => {
    const alice = client(rig.alice);
    const [sales, mkt] = await Promise.all([text(alice, 'sales/2024/q1.csv'), text(alice, 'mkt/campaigns.csv')]);
    expect(sales).toBe(rig.rg.seed.objects['sales/2024/q1.csv']);
    expect(mkt).toBe(rig.rg.seed.objects['marketing/campaigns.csv']);
    const rows = (csv: string) => csv.trim().split('\n').slice(1);
    const joined = rows(sales).flatMap((r) => rows(mkt).map((c) => `${r.split(',')[0]}:${c.split(',')[0]}`));
    expect(joined).toEqual(['north:spring-launch', 'north:summer-sale', 'south:spring-launch', 'south:summer-sale']);

    const head = await alice.send(new HeadObjectCommand({ Bucket, Key: 'mkt/campaigns.csv' }));
    expect(head.ContentLength).toBe(mkt.length);
    // Inside a mount: the connection's listing under the mount's prefix, keys as mnt keys.
    const inside = await alice.send(new ListObjectsV2Command({ Bucket, Prefix: 'sales/', Delimiter: '/' }));
    expect((inside.CommonPrefixes ?? []).map((p) => p.Prefix)).toEqual(['sales/2024/']);
    const year = await alice.send(new ListObjectsV2Command({ Bucket, Prefix: 'sales/2024/' }));
    expect((year.Contents ?? []).map((o) => o.Key)).toEqual(['sales/2024/q1.csv', 'sales/2024/q2.csv']);

    // Recursively across mounts, one key per page: every key once, in order, each read with its mount's role.
    const keys: string[] = [];
    for await (const page of paginateListObjectsV2({ client: alice, pageSize: 1 }, { Bucket })) {
      keys.push(...(page.Contents ?? []).map((o) => o.Key as string));
    }
    expect(keys).toEqual(['mkt/campaigns.csv', 'sales/2024/q1.csv', 'sales/2024/q2.csv']);
    expect(await text(alice, 'sales/2024/q2.csv')).toBe(rig.rg.seed.objects['sales/2024/q2.csv']);
  });

  it('hides a mount whose role the user cannot assume: its data is not found, listings are empty', async () => {
    const bob = client(rig.bob);
    const carol = client(carolKey);
    expect(await errorOf(text(bob, 'mkt/campaigns.csv'))).toEqual({ name: 'NoSuchKey', status: 404 });
    expect((await bob.send(new ListObjectsV2Command({ Bucket, Prefix: 'mkt/' }))).Contents ?? []).toEqual([]);
    expect(await text(bob, 'sales/2024/q1.csv')).toBe(rig.rg.seed.objects['sales/2024/q1.csv']);
    for (const key of ['mkt/campaigns.csv', 'sales/2024/q1.csv']) {
      expect(await errorOf(text(carol, key))).toEqual({ name: 'NoSuchKey', status: 404 });
    }
    expect((await carol.send(new ListObjectsV2Command({ Bucket }))).Contents ?? []).toEqual([]);
    // A mount's prefix is a fence: no escaping it with "..".
    expect((await errorOf(text(bob, 'sales/../marketing/campaigns.csv'))).status).toBe(403);
  });

  it('is read-only: writes are AccessDenied, ListObjects v1 is NotImplemented, in S3 XML', async () => {
    const alice = client(rig.alice);
    expect(await errorOf(alice.send(new PutObjectCommand({ Bucket, Key: 'sales/x.csv', Body: 'x' })))).toEqual({
      name: 'AccessDenied',
      status: 403,
    });
    expect(await errorOf(alice.send(new ListObjectsCommand({ Bucket })))).toEqual({
      name: 'NotImplemented',
      status: 501,
    });
    expect(gatewayLeaks(rig)).toEqual([]);
  });
});
