import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { type DemoTokens, provisionDemo } from '../../src/demo/demo-scenario.js';
import { type LocalBackend, pickFreePort, startLocalBackend } from '../../src/demo/local-backend.js';
import { type DemoSeed, seedDemo } from '../../src/demo/seed.js';
import { cleanEnv, type RealClients, realClients, requireBuiltCli, runCli } from '../harness/cli.js';

/**
 * Runs past the end of a role session. RGW's minimum session duration is lowered through its admin socket,
 * which would affect every file sharing the integ project's RGW, so this file starts an RGW of its own.
 */
let backend: LocalBackend | undefined;
let app: App | undefined;
let url: string;
let seed: DemoSeed;
let tokens: DemoTokens;
let clients: RealClients;
let dir: string;

beforeAll(async () => {
  requireBuiltCli();
  dir = await mkdtemp(join(tmpdir(), 'rolegate-expiry-'));
  [backend, clients] = await Promise.all([
    startLocalBackend({ dir: join(dir, 's3'), port: await pickFreePort() }),
    realClients(),
  ]);
  await promisify(execFile)('ceph', [
    '--admin-daemon',
    join(backend.dir, 'run', 'client.rgw.local.asok'),
    'config',
    'set',
    'rgw_sts_min_session_duration',
    '1',
  ]);
  seed = await seedDemo(backend, { bucket: 'rg-expiry' });
  process.env.AWS_ACCESS_KEY_ID = backend.master.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = backend.master.secretAccessKey;
  process.env.AWS_REGION = backend.region;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  app = await createApp({
    config: parseConfig({ dataDir: join(dir, 'state'), server: { port: 0 }, log: { level: 'warn' } }),
    env: { ROLEGATE_SECRET_KEY: randomBytes(32).toString('hex') },
    minSessionSeconds: 1,
  });
  url = await app.http.listen({ host: '127.0.0.1', port: 0 });
  tokens = await provisionDemo(app.services, backend, seed);
}, 300_000);

afterAll(async () => {
  await app?.close().catch(() => undefined);
  await backend?.stop().catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('rolegate exec past the end of a role session', () => {
  it('boto3 keeps reading through the container endpoint while sessions expire under it', async () => {
    const script = join(dir, 'long_read.py');
    await writeFile(
      script,
      [
        'import os, sys, time, boto3',
        'from botocore.exceptions import ClientError',
        'bucket, seconds = sys.argv[1], float(sys.argv[2])',
        "endpoint = os.environ['AWS_ENDPOINT_URL_S3']",
        'session = boto3.Session()',
        "s3 = session.client('s3', endpoint_url=endpoint)",
        'keys, reads, first = [], 0, None',
        'end = time.time() + seconds',
        'while time.time() < end:',
        "    assert s3.get_object(Bucket=bucket, Key='sales/2024/q1.csv')['Body'].read().startswith(b'region')",
        '    reads += 1',
        '    frozen = session.get_credentials().get_frozen_credentials()',
        '    first = first or frozen',
        '    if frozen.access_key not in keys:',
        '        keys.append(frozen.access_key)',
        '    time.sleep(0.4)',
        "print('reads', reads)",
        "print('sessions', len(keys))",
        "old = boto3.client('s3', endpoint_url=endpoint, aws_access_key_id=first.access_key,",
        '                   aws_secret_access_key=first.secret_key, aws_session_token=first.token)',
        'try:',
        "    old.get_object(Bucket=bucket, Key='sales/2024/q1.csv')",
        "    print('first session still works')",
        'except ClientError as e:',
        "    print('first session ' + e.response['Error']['Code'])",
      ].join('\n'),
    );
    const env = cleanEnv({ HOME: dir, ROLEGATE_URL: url, ROLEGATE_TOKEN: tokens.alice });
    const started = Date.now();
    const res = await runCli(
      ['exec', '--connection', 's3-sales', '--duration', '3', '--', clients.python, script, seed.bucket, '8'],
      env,
      120_000,
    );
    expect(res.code, res.stderr).toBe(0);
    const reads = Number(/^reads (\d+)$/m.exec(res.stdout)?.[1]);
    const sessions = Number(/^sessions (\d+)$/m.exec(res.stdout)?.[1]);
    // 8 s of reading with 3 s sessions: several sessions, every read served.
    expect(Date.now() - started).toBeGreaterThan(8_000);
    expect(reads).toBeGreaterThan(10);
    expect(sessions).toBeGreaterThanOrEqual(3);
    // The first session really ended (RGW answers AccessDenied for expired tokens).
    expect(res.stdout).toContain('first session AccessDenied');
  }, 120_000);
});
