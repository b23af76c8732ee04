import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoleWithPrefixPolicy, httpStatusOf } from '../../src/demo/seed.js';
import type { CredentialsResponse } from '../../src/modules/credentials/credentials.routes.js';
import type { ListingResponse } from '../../src/modules/data/data.routes.js';
import { type RecordingProxy, startRecordingProxy } from '../harness/recording-proxy.js';
import { findLeaks, startTestRolegate, type TestRolegate, uniqueSuffix } from '../harness/rolegate.js';

let rg: TestRolegate;
let sts: RecordingProxy;

beforeAll(async () => {
  rg = await startTestRolegate();
  sts = await startRecordingProxy(rg.backend.endpoint);
});

afterAll(async () => {
  await sts?.close();
  await rg?.close();
});

/** Creates a connection through the admin API and fails loudly when the API refuses it. */
async function createConnection(body: Record<string, unknown>): Promise<void> {
  const res = await rg.api(rg.tokens.admin, 'POST', '/api/connections', {
    bucket: rg.seed.bucket,
    region: rg.backend.region,
    endpoint: rg.backend.endpoint,
    forcePathStyle: true,
    ...body,
  });
  expect(res.status, res.text).toBe(201);
}

async function credentialsFor(token: string, connection: string) {
  const res = await rg.api(token, 'POST', `/api/connections/${connection}/credentials`);
  if (res.status === 200) {
    const c = res.json as CredentialsResponse;
    rg.secrets.add(c.SecretAccessKey);
    if (c.SessionToken) rg.secrets.add(c.SessionToken);
  }
  return res;
}

function s3With(c: CredentialsResponse): S3Client {
  return new S3Client({
    endpoint: rg.backend.endpoint,
    region: c.region,
    forcePathStyle: true,
    credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
  });
}

async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    return httpStatusOf(e) ?? -1;
  }
}

describe('the demo scenario', () => {
  it('lets alice read sales and marketing, each through her own role session', async () => {
    const sales = await rg.api(rg.tokens.alice, 'GET', '/api/connections/s3-sales/objects?prefix=2024/');
    expect(sales.status).toBe(200);
    expect((sales.json as ListingResponse).objects.map((o) => o.key)).toEqual(['2024/q1.csv', '2024/q2.csv']);
    const mkt = await rg.api(rg.tokens.alice, 'GET', '/api/connections/s3-marketing/object?key=campaigns.csv');
    expect(mkt.status).toBe(200);
    expect(mkt.text).toBe(rg.seed.objects['marketing/campaigns.csv']);
  });

  it('denies bob on marketing, naming the missing property and the connection but no value', async () => {
    const res = await rg.api(rg.tokens.bob, 'GET', '/api/connections/s3-marketing/objects');
    expect(res.status).toBe(403);
    const body = res.json as { code: string; message: string; requestId: string };
    expect(body.code).toBe('template.property_missing');
    expect(body.message).toContain('marketingRole');
    expect(body.message).toContain('s3-marketing');
    expect(body.message).not.toContain('arn:');
    expect(body.requestId).toBe(res.headers.get('x-request-id'));
    // bob's own sales role still works
    expect((await rg.api(rg.tokens.bob, 'GET', '/api/connections/s3-sales/objects')).status).toBe(200);
  });

  it('denies carol everywhere: she has no role properties', async () => {
    for (const conn of ['s3-sales', 's3-marketing']) {
      const res = await rg.api(rg.tokens.carol, 'GET', `/api/connections/${conn}/objects`);
      expect(res.status).toBe(403);
      expect((res.json as { code: string }).code).toBe('template.property_missing');
    }
  });

  it('answers 401 without a token and with a bad one, 404 for an unknown connection', async () => {
    expect((await rg.api(undefined, 'GET', '/api/connections/s3-sales/objects')).status).toBe(401);
    const bad = await rg.api('rg_notarealtokennotarealtokennotarealtoken123', 'GET', '/api/me');
    expect(bad.status).toBe(401);
    expect((bad.json as { code: string }).code).toBe('auth.invalid_token');
    const missing = await rg.api(rg.tokens.alice, 'GET', '/api/connections/nope-nope/objects');
    expect(missing.status).toBe(404);
    expect((missing.json as { code: string }).code).toBe('connection.not_found');
  });
});

describe('vended credentials (fast path)', () => {
  it('are refused when detailsReadableBy does not admit the user, with a code that points to rolegate', async () => {
    const res = await credentialsFor(rg.tokens.alice, 's3-marketing');
    expect(res.status).toBe(403);
    expect((res.json as { code: string }).code).toBe('credentials.details_not_readable');
    expect((res.json as { message: string }).message).toMatch(/through rolegate/);
  });

  it('carry the session name, role and scope, and are confined by the session policy even outside rolegate', async () => {
    const res = await credentialsFor(rg.tokens.alice, 's3-sales');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const c = res.json as CredentialsResponse;
    expect(c).toMatchObject({
      bucket: rg.seed.bucket,
      prefix: 'sales/',
      roleArn: rg.seed.salesRoleArn,
      roleSessionName: 'rg-s3-sales-for-alice',
    });
    const s3 = s3With(c);
    try {
      const got = await s3.send(new GetObjectCommand({ Bucket: rg.seed.bucket, Key: 'sales/2024/q1.csv' }));
      expect(await got.Body?.transformToString()).toBe(rg.seed.objects['sales/2024/q1.csv']);
      expect(
        await statusOf(s3.send(new GetObjectCommand({ Bucket: rg.seed.bucket, Key: 'marketing/campaigns.csv' }))),
      ).toBe(403);
      expect(
        await statusOf(s3.send(new GetObjectCommand({ Bucket: rg.seed.bucket, Key: 'sales-archive/old.csv' }))),
      ).toBe(403);
    } finally {
      s3.destroy();
    }
  });

  it('cannot leave the connection path even when the role itself may reach the whole bucket', async () => {
    const suffix = uniqueSuffix();
    const wideRole = await createRoleWithPrefixPolicy({
      endpoint: rg.backend.endpoint,
      credentials: rg.backend.admin,
      roleName: `wide-${suffix}`,
      trustedPrincipalArn: rg.backend.masterArn,
      bucket: rg.seed.bucket,
      prefix: '',
    });
    await createConnection({
      name: `narrow-${suffix}`,
      path: 'sales/',
      credentials: { mode: 'assume-role', roleArn: wideRole, durationSeconds: 900 },
      detailsReadableBy: 'everyone',
    });
    const res = await credentialsFor(rg.tokens.carol, `narrow-${suffix}`);
    expect(res.status, res.text).toBe(200);
    const s3 = s3With(res.json as CredentialsResponse);
    const bucket = rg.seed.bucket;
    try {
      expect(await statusOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'sales/2024/q2.csv' })))).toBe(200);
      expect(await statusOf(s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'sales/' })))).toBe(200);
      expect(await statusOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sales/new.csv', Body: 'x' })))).toBe(
        200,
      );
      // The role alone would allow all of these; the session policy rolegate attached does not.
      expect(await statusOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'marketing/campaigns.csv' })))).toBe(
        403,
      );
      expect(await statusOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'sales-archive/old.csv' })))).toBe(403);
      expect(await statusOf(s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'sales-archive/' })))).toBe(403);
      expect(await statusOf(s3.send(new ListObjectsV2Command({ Bucket: bucket })))).toBe(403);
      expect(await statusOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'marketing/x.csv', Body: 'x' })))).toBe(
        403,
      );
    } finally {
      s3.destroy();
    }
  });

  it('honour the duration and send the external id and session name to STS', async () => {
    const name = `ext-${uniqueSuffix()}`;
    await createConnection({
      name,
      path: 'sales/',
      stsEndpoint: sts.url,
      credentials: {
        mode: 'assume-role',
        roleArn: '${adminProperty:salesRole}',
        durationSeconds: 900,
        externalId: 'tenant-42',
      },
      detailsReadableBy: 'everyone',
    });
    const before = Date.now();
    const res = await credentialsFor(rg.tokens.alice, name);
    expect(res.status, res.text).toBe(200);
    const lifetime = Date.parse((res.json as CredentialsResponse).Expiration ?? '') - before;
    expect(lifetime).toBeGreaterThan(890_000);
    expect(lifetime).toBeLessThan(910_000);
    const calls = sts.assumeRoleCalls().filter((c) => c.get('RoleSessionName') === `rg-${name}-for-alice`);
    expect(calls).toHaveLength(1);
    const call = calls[0] as URLSearchParams;
    expect(call.get('ExternalId')).toBe('tenant-42');
    expect(call.get('DurationSeconds')).toBe('900');
    expect(call.get('RoleArn')).toBe(rg.seed.salesRoleArn);
    const policy = JSON.parse(call.get('Policy') ?? '{}') as { Statement: Array<{ Resource: string | string[] }> };
    expect(JSON.stringify(policy.Statement)).toContain(`arn:aws:s3:::${rg.seed.bucket}/sales/*`);
  });

  it('are cached: a second request makes no STS call, and 100 concurrent first requests make exactly one', async () => {
    const name = `cache-${uniqueSuffix()}`;
    await createConnection({
      name,
      path: 'sales/',
      stsEndpoint: sts.url,
      credentials: { mode: 'assume-role', roleArn: '${adminProperty:salesRole}', durationSeconds: 3600 },
      detailsReadableBy: 'everyone',
    });
    const forBob = () => sts.assumeRoleCalls().filter((c) => c.get('RoleSessionName') === `rg-${name}-for-bob`).length;
    const first = await Promise.all(Array.from({ length: 100 }, () => credentialsFor(rg.tokens.bob, name)));
    expect(first.map((r) => r.status)).toEqual(Array(100).fill(200));
    expect(new Set(first.map((r) => (r.json as CredentialsResponse).AccessKeyId)).size).toBe(1);
    expect(forBob()).toBe(1);
    const again = await credentialsFor(rg.tokens.bob, name);
    const firstBody = first[0]?.json as CredentialsResponse;
    expect((again.json as CredentialsResponse).AccessKeyId).toBe(firstBody.AccessKeyId);
    expect(forBob()).toBe(1);
    // The slow path shares the same cached role session.
    expect((await rg.api(rg.tokens.bob, 'GET', `/api/connections/${name}/objects`)).status).toBe(200);
    expect(forBob()).toBe(1);
  });

  it('are re-issued after the connection changes (the cached session belongs to the old version)', async () => {
    const name = `edit-${uniqueSuffix()}`;
    const spec = {
      name,
      path: 'sales/',
      stsEndpoint: sts.url,
      credentials: { mode: 'assume-role', roleArn: '${adminProperty:salesRole}', durationSeconds: 3600 },
      detailsReadableBy: 'everyone',
    };
    await createConnection(spec);
    const count = () => sts.assumeRoleCalls().filter((c) => c.get('RoleSessionName') === `rg-${name}-for-alice`).length;
    expect((await credentialsFor(rg.tokens.alice, name)).status).toBe(200);
    const updated = await rg.api(rg.tokens.admin, 'PUT', `/api/connections/${name}`, {
      ...spec,
      bucket: rg.seed.bucket,
      endpoint: rg.backend.endpoint,
      forcePathStyle: true,
      credentials: { ...spec.credentials, durationSeconds: 1800 },
    });
    expect(updated.status, updated.text).toBe(200);
    const res = await credentialsFor(rg.tokens.alice, name);
    expect(count()).toBe(2);
    const lifetime = Date.parse((res.json as CredentialsResponse).Expiration ?? '') - Date.now();
    expect(lifetime).toBeLessThan(1_810_000);
  });

  it('map STS refusals to typed errors: unknown role → 404 sts.role_not_found, untrusted → 403', async () => {
    const name = `norole-${uniqueSuffix()}`;
    await createConnection({
      name,
      path: 'sales/',
      credentials: { mode: 'assume-role', roleArn: 'arn:aws:iam:::role/does-not-exist', durationSeconds: 900 },
    });
    const res = await rg.api(rg.tokens.alice, 'GET', `/api/connections/${name}/objects`);
    expect(res.status).toBe(404);
    expect((res.json as { code: string }).code).toBe('sts.role_not_found');
    expect((res.json as { message: string }).message).toContain(name);

    const untrusted = await createRoleWithPrefixPolicy({
      endpoint: rg.backend.endpoint,
      credentials: rg.backend.admin,
      roleName: `untrusted-${uniqueSuffix()}`,
      trustedPrincipalArn: 'arn:aws:iam:::user/someone-else',
      bucket: rg.seed.bucket,
      prefix: 'sales/',
    });
    const name2 = `untrusted-${uniqueSuffix()}`;
    await createConnection({
      name: name2,
      path: 'sales/',
      credentials: { mode: 'assume-role', roleArn: untrusted, durationSeconds: 900 },
    });
    const denied = await rg.api(rg.tokens.alice, 'GET', `/api/connections/${name2}/objects`);
    expect(denied.status).toBe(403);
    expect((denied.json as { code: string }).code).toBe('sts.access_denied');
    expect((denied.json as { message: string }).message).toContain(untrusted);
  });

  it('refuse a resolved role outside allowedRoles before any STS call', async () => {
    const name = `allow-${uniqueSuffix()}`;
    await createConnection({
      name,
      path: 'sales/',
      stsEndpoint: sts.url,
      allowedRoles: ['arn:aws:iam:::role/only-this-one'],
      credentials: { mode: 'assume-role', roleArn: '${adminProperty:salesRole}', durationSeconds: 900 },
    });
    const before = sts.assumeRoleCalls().length;
    const res = await rg.api(rg.tokens.alice, 'GET', `/api/connections/${name}/objects`);
    expect(res.status).toBe(403);
    expect((res.json as { code: string }).code).toBe('role.not_allowed');
    expect(sts.assumeRoleCalls().length).toBe(before);
  });
});

describe('secret hygiene', () => {
  it('never puts a secret into a log line or an error body', () => {
    expect(rg.logs.length).toBeGreaterThan(10);
    const vended = (body: string) => body.includes('"SecretAccessKey"');
    expect(findLeaks(rg, vended)).toEqual([]);
  });
});
