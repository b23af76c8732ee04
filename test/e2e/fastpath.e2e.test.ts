// biome-ignore-all lint/suspicious/noTemplateCurlyInString: connection templates are literal ${...} placeholders.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpStatusOf } from '../../src/demo/seed.js';
import { cleanEnv, type RealClients, realClients, requireBuiltCli, run, runCli } from '../harness/cli.js';
import { findLeaks, startTestRolegate, type TestRolegate, uniqueSuffix } from '../harness/rolegate.js';

let rg: TestRolegate;
let clients: RealClients;
let home: string;
/** A connection alice reads with her marketing role, details readable (unlike the demo's s3-marketing). */
let mkt: string;
/** The S3 gateway (slow path), for the fallback of connections whose details are not readable. */
let gatewayUrl: string;

beforeAll(async () => {
  requireBuiltCli();
  [rg, clients] = await Promise.all([startTestRolegate(), realClients()]);
  home = await mkdtemp(join(tmpdir(), 'rolegate-fastpath-'));
  mkt = `mkt-${uniqueSuffix()}`;
  gatewayUrl = await rg.app.gateway.listen({ host: '127.0.0.1', port: 0 });
  const res = await rg.api(rg.tokens.admin, 'POST', '/api/connections', {
    name: mkt,
    bucket: rg.seed.bucket,
    path: 'marketing/',
    region: rg.backend.region,
    endpoint: rg.backend.endpoint,
    forcePathStyle: true,
    credentials: { mode: 'assume-role', roleArn: '${adminProperty:marketingRole}', durationSeconds: 3600 },
    usableBy: 'everyone',
    detailsReadableBy: 'everyone',
    allowedRoles: ['arn:aws:iam:::role/*'],
  });
  expect(res.status, res.text).toBe(201);
});

afterAll(async () => {
  await rg?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

/** The environment of a user's shell: a home of its own, rolegate's URL and the user's token. */
function userEnv(token: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return cleanEnv({
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    AWS_CONFIG_FILE: join(home, '.aws', 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, '.aws', 'credentials'),
    ROLEGATE_URL: rg.url,
    ROLEGATE_TOKEN: token,
    ...extra,
  });
}

interface JsonCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: string;
  bucket: string;
  prefix: string;
  roleSessionName?: string;
  access: string;
}

async function cliCredentials(token: string, args: string[]): Promise<JsonCredentials> {
  const res = await runCli(['credentials', '--format', 'json', ...args], userEnv(token));
  expect(res.code, res.stderr).toBe(0);
  const c = JSON.parse(res.stdout) as JsonCredentials;
  rg.secrets.add(c.secretAccessKey);
  if (c.sessionToken) rg.secrets.add(c.sessionToken);
  return c;
}

function s3With(c: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined }): S3Client {
  return new S3Client({
    endpoint: rg.backend.endpoint,
    region: rg.backend.region,
    forcePathStyle: true,
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken },
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

async function getStatus(c: JsonCredentials, key: string): Promise<number> {
  const s3 = s3With(c);
  try {
    return await statusOf(
      s3.send(new GetObjectCommand({ Bucket: rg.seed.bucket, Key: key })).then((r) => r.Body?.transformToString()),
    );
  } finally {
    s3.destroy();
  }
}

describe('rolegate login and credentials', () => {
  it('login checks the token and stores URL and token with mode 0600; the environment wins over the file', async () => {
    const env = userEnv('', { ROLEGATE_URL: '', ROLEGATE_TOKEN: '' });
    const res = await runCli(['login', '--url', rg.url, '--token', rg.tokens.bob], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('as bob');
    const file = join(home, '.config', 'rolegate', 'config.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ url: rg.url, token: rg.tokens.bob });
    // From the file alone: bob.
    const fromFile = await runCli(['credentials', '--connection', 's3-sales', '--format', 'json'], env);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect((JSON.parse(fromFile.stdout) as JsonCredentials).roleSessionName).toBe('rg-s3-sales-for-bob');
    // ROLEGATE_TOKEN wins: alice.
    const c = await cliCredentials(rg.tokens.alice, ['--connection', 's3-sales']);
    expect(c.roleSessionName).toBe('rg-s3-sales-for-alice');
    const bad = await runCli(
      ['login', '--url', rg.url, '--token', 'rg_notarealtokennotarealtokennotarealtoken123'],
      env,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('auth.invalid_token');
  });

  it('--format process prints the credential_process JSON and nothing on stderr', async () => {
    const res = await runCli(
      ['credentials', '--connection', 's3-sales', '--format', 'process'],
      userEnv(rg.tokens.alice),
    );
    expect(res.code).toBe(0);
    expect(res.stderr).toBe('');
    const p = JSON.parse(res.stdout) as Record<string, unknown>;
    expect(Object.keys(p).sort()).toEqual(['AccessKeyId', 'Expiration', 'SecretAccessKey', 'SessionToken', 'Version']);
    expect(p.Version).toBe(1);
    expect(p.Expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('--format env, iceberg and uc carry the same session in their own shapes', async () => {
    const env = userEnv(rg.tokens.alice);
    const e = await runCli(['credentials', '--connection', 's3-sales', '--format', 'env'], env);
    expect(e.stdout).toMatch(/^export AWS_ACCESS_KEY_ID=\S+$/m);
    expect(e.stdout).toContain(`export AWS_ENDPOINT_URL_S3=${rg.backend.endpoint}`);
    const ice = JSON.parse(
      (await runCli(['credentials', '--connection', 's3-sales', '--format', 'iceberg'], env)).stdout,
    ) as { config: Record<string, string> };
    expect(ice.config['s3.path-style-access']).toBe('true');
    expect(ice.config['client.refresh-credentials-endpoint']).toBe(
      `${rg.url}/api/connections/s3-sales/credentials/iceberg`,
    );
    // The refresh endpoint answers a LoadCredentialsResponse with a working session.
    const refreshed = await rg.api(rg.tokens.alice, 'GET', '/api/connections/s3-sales/credentials/iceberg');
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers.get('cache-control')).toBe('no-store');
    const load = refreshed.json as { 'storage-credentials': Array<{ prefix: string; config: Record<string, string> }> };
    expect(load['storage-credentials'][0]?.prefix).toBe(`s3://${rg.seed.bucket}/sales/`);
    const uc = JSON.parse(
      (await runCli(['credentials', '--connection', 's3-sales', '--format', 'uc'], env)).stdout,
    ) as {
      aws_temp_credentials: Record<string, string>;
      expiration_time: number;
    };
    expect(Object.keys(uc.aws_temp_credentials).sort()).toEqual([
      'access_key_id',
      'secret_access_key',
      'session_token',
    ]);
    expect(uc.expiration_time).toBeGreaterThan(Date.now());
    for (const c of [ice.config['s3.secret-access-key'], uc.aws_temp_credentials.secret_access_key]) {
      if (c) rg.secrets.add(c);
    }
  });

  it('narrows by prefix and read-only: STS enforces it outside rolegate', async () => {
    const c = await cliCredentials(rg.tokens.alice, ['--connection', 's3-sales', '--prefix', '2024', '--read-only']);
    expect(c.prefix).toBe('sales/2024/');
    expect(await getStatus(c, 'sales/2024/q1.csv')).toBe(200);
    expect(await getStatus(c, 'sales-archive/old.csv')).toBe(403);
    const s3 = s3With(c);
    try {
      const put = s3.send(new PutObjectCommand({ Bucket: rg.seed.bucket, Key: 'sales/2024/new.csv', Body: 'x' }));
      expect(await statusOf(put)).toBe(403);
    } finally {
      s3.destroy();
    }
    // A narrowed session is a different session: the full one still writes.
    const fullCreds = await cliCredentials(rg.tokens.alice, ['--connection', 's3-sales']);
    expect(fullCreds.accessKeyId).not.toBe(c.accessKeyId);
  });

  it('refuses narrowing that would widen, and durations outside the connection bounds', async () => {
    const env = userEnv(rg.tokens.alice);
    const outside = await runCli(['credentials', '--connection', 's3-sales', '--prefix', '../marketing'], env);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toContain('scope.invalid_prefix');
    const long = await runCli(['credentials', '--connection', 's3-sales', '--duration', '7200'], env);
    expect(long.code).toBe(1);
    expect(long.stderr).toContain('credentials.duration_out_of_range');
    const short = await runCli(
      ['credentials', '--connection', 's3-sales', '--duration', '900', '--format', 'json'],
      env,
    );
    expect(short.code, short.stderr).toBe(0);
    const exp = Date.parse((JSON.parse(short.stdout) as JsonCredentials).expiration ?? '');
    expect(exp - Date.now()).toBeLessThan(905_000);
    const usage = await runCli(['credentials', '--format', 'json'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--connection is required');
  });
});

describe('aws-config with real clients', () => {
  it('writes credential_process profiles the aws CLI uses, keeping the rest of the file', async () => {
    const env = userEnv(rg.tokens.alice);
    await writeFile(join(home, 'keep.cfg'), '[profile mine]\nregion = eu-west-3\n');
    const configFile = join(home, '.aws', 'config');
    await rm(configFile, { force: true });
    const res = await runCli(['aws-config', '--write'], env);
    expect(res.code, res.stderr).toBe(0);
    const written = await readFile(configFile, 'utf8');
    expect(written).toContain('[profile s3-sales]');
    expect(written).toContain(`[profile ${mkt}]`);
    expect(written).toMatch(/credential_process = .*credentials --connection s3-sales --format process/);
    expect(written).toContain(`endpoint_url = ${rg.backend.endpoint}`);
    expect(written).toContain('addressing_style = path');
    // s3-marketing does not vend credentials to alice: its profile points at the gateway instead.
    expect(res.stderr).toContain('"s3-marketing" does not hand out its credentials');
    expect(written).toContain(`[profile s3-marketing]`);
    expect(written).toContain(`endpoint_url = ${gatewayUrl}`);
    // Running it again replaces its block only.
    await writeFile(configFile, `[profile mine]\nregion = eu-west-3\n\n${written}`);
    expect((await runCli(['aws-config', '--write'], env)).code).toBe(0);
    const again = await readFile(configFile, 'utf8');
    expect(again.match(/\[profile s3-sales\]/g)).toHaveLength(1);
    expect(again).toContain('[profile mine]\nregion = eu-west-3\n');

    const endpoint = clients.awsReadsEndpointUrl ? [] : ['--endpoint-url', rg.backend.endpoint];
    const cp = await run(
      clients.aws,
      ['--profile', 's3-sales', 's3', 'cp', `s3://${rg.seed.bucket}/sales/2024/q1.csv`, '-', ...endpoint],
      env,
    );
    expect(cp.code, cp.stderr).toBe(0);
    expect(cp.stdout).toBe(rg.seed.objects['sales/2024/q1.csv']);
    const denied = await run(
      clients.aws,
      ['--profile', 's3-sales', 's3', 'cp', `s3://${rg.seed.bucket}/marketing/campaigns.csv`, '-', ...endpoint],
      env,
    );
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/403|Forbidden|AccessDenied/);
  });

  it('lets one Python process use two connections with different roles (boto3, two profiles)', async () => {
    const script = join(home, 'two_roles.py');
    await writeFile(
      script,
      [
        'import sys, boto3',
        'from botocore.exceptions import ClientError',
        'bucket, endpoint, mkt = sys.argv[1], sys.argv[2], sys.argv[3]',
        "sales = boto3.Session(profile_name='s3-sales').client('s3', endpoint_url=endpoint)",
        "marketing = boto3.Session(profile_name=mkt).client('s3', endpoint_url=endpoint)",
        "print(sales.get_object(Bucket=bucket, Key='sales/2024/q1.csv')['Body'].read().decode(), end='')",
        "print(marketing.get_object(Bucket=bucket, Key='marketing/campaigns.csv')['Body'].read().decode(), end='')",
        "for name, client, key in [('sales', sales, 'marketing/campaigns.csv'), ('marketing', marketing, 'sales/2024/q1.csv')]:",
        '    try:',
        '        client.get_object(Bucket=bucket, Key=key)',
        "        print(name + ' crossed over')",
        '    except ClientError as e:',
        "        print(name + ' denied ' + e.response['Error']['Code'])",
      ].join('\n'),
    );
    const res = await run(clients.python, [script, rg.seed.bucket, rg.backend.endpoint, mkt], userEnv(rg.tokens.alice));
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(
      `${rg.seed.objects['sales/2024/q1.csv']}${rg.seed.objects['marketing/campaigns.csv']}` +
        'sales denied AccessDenied\nmarketing denied AccessDenied\n',
    );
  });
});

describe('rolegate exec (container credentials)', () => {
  it('gives the child a per-process token for one connection, refused for anything else, deleted at exit', async () => {
    const script = join(home, 'exec_read.py');
    await writeFile(
      script,
      [
        'import os, sys, boto3',
        'from botocore.exceptions import ClientError',
        "assert 'ROLEGATE_TOKEN' not in os.environ and 'AWS_ACCESS_KEY_ID' not in os.environ",
        "assert os.environ['AWS_CONTAINER_AUTHORIZATION_TOKEN'].startswith('rgx_')",
        "s3 = boto3.client('s3', endpoint_url=os.environ['AWS_ENDPOINT_URL_S3'])",
        "print(s3.get_object(Bucket=sys.argv[1], Key='sales/2024/q1.csv')['Body'].read().decode(), end='')",
        'try:',
        "    s3.put_object(Bucket=sys.argv[1], Key='sales/2024/exec.csv', Body=b'x')",
        "    print('wrote')",
        'except ClientError as e:',
        "    print('write ' + e.response['Error']['Code'])",
        "print(os.environ['AWS_CONTAINER_CREDENTIALS_FULL_URI'])",
        "print(os.environ['AWS_CONTAINER_AUTHORIZATION_TOKEN'])",
      ].join('\n'),
    );
    const env = userEnv(rg.tokens.alice);
    const res = await runCli(
      ['exec', '--connection', 's3-sales', '--read-only', '--', clients.python, script, rg.seed.bucket],
      env,
    );
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.split('\n');
    expect(res.stdout.startsWith(rg.seed.objects['sales/2024/q1.csv'] ?? '?')).toBe(true);
    expect(res.stdout).toContain('write AccessDenied');
    const url = lines.at(-3) ?? '';
    const token = lines.at(-2) ?? '';
    expect(url).toBe(`${rg.url}/api/exec/credentials`);
    rg.secrets.add(token);
    // Deleted when the child exited: the endpoint refuses it, and it is not listed.
    const after = await fetch(url, { headers: { authorization: token } });
    expect(after.status).toBe(401);
    expect(((await after.json()) as { code: string }).code).toBe('exec_token.invalid');
    const listed = await rg.api(rg.tokens.alice, 'GET', '/api/exec-tokens');
    expect(listed.json).toEqual([]);
  });

  it('passes the exit code on, and an exec token is no API token', async () => {
    const env = userEnv(rg.tokens.alice);
    const res = await runCli(['exec', '--connection', 's3-sales', '--', 'sh', '-c', 'exit 7'], env);
    expect(res.code).toBe(7);
    const created = await rg.api(rg.tokens.alice, 'POST', '/api/exec-tokens', {
      connection: 's3-sales',
      ttlSeconds: 60,
    });
    expect(created.status, created.text).toBe(201);
    const { token, id } = created.json as { token: string; id: string };
    rg.secrets.add(token);
    expect((await rg.api(token, 'GET', '/api/me')).status).toBe(401);
    const ok = await fetch(`${rg.url}/api/exec/credentials`, { headers: { authorization: token } });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(['AccessKeyId', 'Expiration', 'SecretAccessKey', 'Token']);
    rg.secrets.add(body.SecretAccessKey ?? '');
    // Only its owner (or an admin) may delete it.
    expect((await rg.api(rg.tokens.bob, 'DELETE', `/api/exec-tokens/${id}`)).status).toBe(404);
    expect((await rg.api(rg.tokens.alice, 'DELETE', `/api/exec-tokens/${id}`)).status).toBe(204);
    // Not for a connection whose details the user may not read.
    const refused = await rg.api(rg.tokens.alice, 'POST', '/api/exec-tokens', { connection: 's3-marketing' });
    expect(refused.status).toBe(403);
  });
});

describe('spark-conf', () => {
  it("prints per-bucket S3A settings with Hadoop's key names", async () => {
    const res = await runCli(['spark-conf', '--connection', 's3-sales'], userEnv(rg.tokens.alice));
    expect(res.code, res.stderr).toBe(0);
    const p = `spark.hadoop.fs.s3a.bucket.${rg.seed.bucket}`;
    for (const key of ['access.key', 'secret.key', 'session.token', 'endpoint', 'path.style.access']) {
      expect(res.stdout).toMatch(new RegExp(`^${p.replaceAll('.', '\\.')}\\.${key.replaceAll('.', '\\.')}=.+$`, 'm'));
    }
    expect(res.stdout).toContain(
      `${p}.aws.credentials.provider=org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider`,
    );
  });

  it('refreshing: points the container provider at rolegate with an exec token', async () => {
    const res = await runCli(['spark-conf', '--connection', 's3-sales', '--refreshing'], userEnv(rg.tokens.alice));
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(
      `spark.hadoop.fs.s3a.bucket.${rg.seed.bucket}.aws.credentials.provider=org.apache.hadoop.fs.s3a.auth.IAMInstanceCredentialsProvider`,
    );
    expect(res.stdout).toContain(`spark.executorEnv.AWS_CONTAINER_CREDENTIALS_FULL_URI=${rg.url}/api/exec/credentials`);
    const token = /^spark\.executorEnv\.AWS_CONTAINER_AUTHORIZATION_TOKEN=(\S+)$/m.exec(res.stdout)?.[1] ?? '';
    rg.secrets.add(token);
    expect(res.stdout).not.toContain('.secret.key=');
    const creds = await fetch(`${rg.url}/api/exec/credentials`, { headers: { authorization: token } });
    expect(creds.status).toBe(200);
    rg.secrets.add(((await creds.json()) as { SecretAccessKey: string }).SecretAccessKey);
  });

  it('refuses what S3A cannot express: two connections on one bucket, refreshing several', async () => {
    const env = userEnv(rg.tokens.alice);
    const same = await runCli(['spark-conf', '--connection', 's3-sales', '--connection', mkt], env);
    expect(same.code).toBe(2);
    expect(same.stderr).toContain('both on bucket');
    const several = await runCli(['spark-conf', '--connection', 's3-sales', '--connection', mkt, '--refreshing'], env);
    expect(several.code).toBe(2);
    expect(several.stderr).toContain('one connection');
  });
});

describe('revocation', () => {
  it("makes RGW refuse a user's issued sessions at once, keeps others working, and new ones work", async () => {
    const aliceOld = await cliCredentials(rg.tokens.alice, ['--connection', 's3-sales']);
    const aliceNarrow = await cliCredentials(rg.tokens.alice, ['--connection', 's3-sales', '--prefix', '2024']);
    const bob = await cliCredentials(rg.tokens.bob, ['--connection', 's3-sales']);
    const aliceMkt = await cliCredentials(rg.tokens.alice, ['--connection', mkt]);
    expect(await getStatus(aliceOld, 'sales/2024/q1.csv')).toBe(200);

    // Users may not revoke others' sessions; that answer does not even confirm the user exists.
    expect(
      (await rg.api(rg.tokens.bob, 'POST', '/api/connections/s3-sales/revocations', { username: 'alice' })).status,
    ).toBe(404);

    const res = await rg.api(rg.tokens.admin, 'POST', '/api/connections/s3-sales/revocations', { username: 'alice' });
    expect(res.status, res.text).toBe(200);
    const result = res.json as { revokedSessions: Array<{ sessionName: string }>; generation: number };
    expect(result.revokedSessions.map((s) => s.sessionName)).toContain('rg-s3-sales-for-alice');
    expect(result.generation).toBe(1);

    expect(await getStatus(aliceOld, 'sales/2024/q1.csv')).toBe(403);
    expect(await getStatus(aliceNarrow, 'sales/2024/q1.csv')).toBe(403);
    expect(await getStatus(bob, 'sales/2024/q1.csv')).toBe(200);
    // Another connection's session of the same user is not touched.
    expect(await getStatus(aliceMkt, 'marketing/campaigns.csv')).toBe(200);

    const aliceNew = await cliCredentials(rg.tokens.alice, ['--connection', 's3-sales']);
    expect(aliceNew.roleSessionName).toBe('rg-s3-sales-for-alice-r1');
    expect(await getStatus(aliceNew, 'sales/2024/q1.csv')).toBe(200);
    // The slow path moved to the new session too.
    expect((await rg.api(rg.tokens.alice, 'GET', '/api/connections/s3-sales/objects?prefix=2024/')).status).toBe(200);

    const record = await rg.api(rg.tokens.admin, 'GET', '/api/connections/s3-sales/revocations');
    expect(record.status).toBe(200);
    expect(record.json).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ username: 'alice', revokedBy: 'admin', sessionName: 'rg-s3-sales-for-alice' }),
      ]),
    );
  });

  it('lets a user revoke their own sessions from the CLI', async () => {
    const before = await cliCredentials(rg.tokens.bob, ['--connection', 's3-sales']);
    const res = await runCli(['revoke', '--connection', 's3-sales'], userEnv(rg.tokens.bob));
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('rg-s3-sales-for-bob');
    expect(await getStatus(before, 'sales/2024/q1.csv')).toBe(403);
    const after = await cliCredentials(rg.tokens.bob, ['--connection', 's3-sales']);
    expect(await getStatus(after, 'sales/2024/q1.csv')).toBe(200);
  });
});

describe('fallback to the gateway when details are not readable', () => {
  it('hands out the gateway key in every format, created once and reused; process stays silent', async () => {
    const env = userEnv(rg.tokens.alice);
    const p = await runCli(['credentials', '--connection', 's3-marketing', '--format', 'process'], env);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stderr).toBe('');
    const proc = JSON.parse(p.stdout) as Record<string, unknown>;
    expect(Object.keys(proc).sort()).toEqual(['AccessKeyId', 'SecretAccessKey', 'Version']);
    rg.secrets.add(String(proc.SecretAccessKey));
    const j = await runCli(['credentials', '--connection', 's3-marketing', '--format', 'json'], env);
    expect(j.code, j.stderr).toBe(0);
    expect(j.stderr.trim().split('\n')).toHaveLength(1);
    expect(j.stderr).toContain(`using the rolegate S3 gateway at ${gatewayUrl}`);
    const c = JSON.parse(j.stdout) as JsonCredentials & { endpoint: string };
    expect(c).toMatchObject({ access: 'gateway', bucket: 's3-marketing', prefix: '', endpoint: gatewayUrl });
    expect(c.accessKeyId).toBe(proc.AccessKeyId);
    expect(c.sessionToken).toBeUndefined();
    const keyFile = join(home, '.config', 'rolegate', 'gateway-keys.json');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    for (const format of ['env', 'iceberg', 'uc']) {
      const r = await runCli(['credentials', '--connection', 's3-marketing', '--format', format], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(String(proc.AccessKeyId));
      expect(r.stderr).toContain('gateway');
    }
    const spark = await runCli(['spark-conf', '--connection', 's3-marketing'], env);
    expect(spark.stdout).toContain(`spark.hadoop.fs.s3a.bucket.s3-marketing.endpoint=${gatewayUrl}`);
    expect(spark.stdout).toContain('org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider');
  });

  it('lets the aws CLI profile and rolegate exec read through the gateway, as the user', async () => {
    const env = userEnv(rg.tokens.alice);
    const endpoint = clients.awsReadsEndpointUrl ? [] : ['--endpoint-url', gatewayUrl];
    const cp = await run(
      clients.aws,
      ['--profile', 's3-marketing', 's3', 'cp', 's3://s3-marketing/campaigns.csv', '-', ...endpoint],
      env,
    );
    expect(cp.code, cp.stderr).toBe(0);
    expect(cp.stdout).toBe(rg.seed.objects['marketing/campaigns.csv']);

    const script = join(home, 'gateway_read.py');
    await writeFile(
      script,
      [
        'import os, boto3',
        "s3 = boto3.client('s3', endpoint_url=os.environ['AWS_ENDPOINT_URL_S3'])",
        "print(s3.get_object(Bucket='s3-marketing', Key='campaigns.csv')['Body'].read().decode(), end='')",
      ].join('\n'),
    );
    const res = await runCli(['exec', '--connection', 's3-marketing', '--', clients.python, script], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(rg.seed.objects['marketing/campaigns.csv']);
    expect(res.stderr).toContain('does not hand out its credentials');
  });
});

describe('secret hygiene', () => {
  it('never logs a vended secret or token', () => {
    // Only the bodies that hand credentials out may contain them.
    const handsOut = (body: string) =>
      ['SecretAccessKey', 's3.secret-access-key', '"token"'].some((k) => body.includes(k));
    expect(findLeaks(rg, handsOut)).toEqual([]);
  });
});
