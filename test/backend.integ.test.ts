import { randomBytes } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoSeed, httpStatusOf, seedDemo } from '../src/demo/seed.js';
import { backendFromContext } from './harness/backend-context.js';

// Files of the integ project share one backend and run in parallel: everything this file
// creates carries its own random suffix.
const suffix = randomBytes(4).toString('hex');
const backend = backendFromContext();
let seed: DemoSeed;
let sessionS3: S3Client;

beforeAll(async () => {
  seed = await seedDemo(backend, { bucket: `harness-${suffix}`, roleNamePrefix: `harness-${suffix}-` });
  const sts = new STSClient({ endpoint: backend.endpoint, region: 'us-east-1', credentials: backend.master });
  const assumed = await sts.send(
    new AssumeRoleCommand({ RoleArn: seed.salesRoleArn, RoleSessionName: 'harness-check', DurationSeconds: 900 }),
  );
  sts.destroy();
  const c = assumed.Credentials;
  if (c?.AccessKeyId === undefined || c.SecretAccessKey === undefined || c.SessionToken === undefined) {
    throw new Error('AssumeRole returned no credentials');
  }
  sessionS3 = new S3Client({
    endpoint: backend.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
  });
});

afterAll(() => sessionS3?.destroy());

async function statusOfGet(key: string): Promise<number> {
  try {
    const res = await sessionS3.send(new GetObjectCommand({ Bucket: seed.bucket, Key: key }));
    await res.Body?.transformToString();
    return res.$metadata.httpStatusCode ?? 0;
  } catch (err) {
    return httpStatusOf(err) ?? -1;
  }
}

describe('S3+STS backend harness', () => {
  it('names the seeded role as arn:aws:iam:::role/NAME', () => {
    expect(seed.salesRoleArn).toBe(`arn:aws:iam:::role/harness-${suffix}-sales-role`);
  });

  it('lets a sales-role session read and list sales/', async () => {
    const res = await sessionS3.send(new GetObjectCommand({ Bucket: seed.bucket, Key: 'sales/2024/q1.csv' }));
    expect(await res.Body?.transformToString()).toBe(seed.objects['sales/2024/q1.csv']);
    const listed = await sessionS3.send(new ListObjectsV2Command({ Bucket: seed.bucket, Prefix: 'sales/' }));
    expect(listed.Contents?.map((o) => o.Key).sort()).toEqual(['sales/2024/q1.csv', 'sales/2024/q2.csv']);
  });

  it('denies a sales-role session marketing/ and the look-alike sibling sales-archive/', async () => {
    expect(await statusOfGet('marketing/campaigns.csv')).toBe(403);
    expect(await statusOfGet('sales-archive/old.csv')).toBe(403);
  });
});
