/**
 * The rolegate side of bench/signing.ts, in its own process as in production: a query engine does not share its
 * event loop with the signer (in one process, the client's reading of 512 KiB range answers held each signing
 * call for 6–40 ms). A real app over the given backend with the demo's users and a connection `bench-sign` on the
 * sales folder that signs for everyone. Prints one JSON line on stdout (URL, alice's token, the bucket and alice's
 * vended credentials for the fast path), then serves until SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { provisionDemo } from '../../src/demo/demo-scenario.js';
import { readBackendFacts } from '../../src/demo/local-backend.js';
import { seedDemo } from '../../src/demo/seed.js';

/** What the bench learns from this process. */
export interface SigningServerFacts {
  readonly url: string;
  readonly token: string;
  readonly bucket: string;
  readonly vended: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
}

const envJson = process.env.BENCH_BACKEND_ENV;
if (envJson === undefined) throw new Error('BENCH_BACKEND_ENV must name the backend env.json');
const backend = await readBackendFacts(envJson);
process.env.AWS_ACCESS_KEY_ID = backend.master.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = backend.master.secretAccessKey;
process.env.AWS_REGION = backend.region;

const seed = await seedDemo(backend, { bucket: 'bench-signing', roleNamePrefix: 'bench-signing-' });
const dir = await mkdtemp(join(tmpdir(), 'rolegate-bench-signing-state-'));
const app = await createApp({
  config: parseConfig({ dataDir: dir, server: { port: 0 }, log: { level: 'warn' } }),
  env: { ROLEGATE_SECRET_KEY: randomBytes(32).toString('hex') },
});
const url = await app.http.listen({ host: '127.0.0.1', port: 0 });
const tokens = await provisionDemo(app.services, backend, seed);
const admin = await app.services.identity.authenticate(tokens.admin);
await app.services.connections.create(admin, {
  name: 'bench-sign',
  description: '',
  bucket: seed.bucket,
  path: 'sales/',
  region: backend.region,
  endpoint: backend.endpoint,
  forcePathStyle: true,
  useBucketRegion: false,
  readOnly: false,
  credentials: {
    mode: 'assume-role',
    roleArn: '${adminProperty:salesRole}',
    durationSeconds: 3600,
    master: 'environment',
  },
  usableBy: 'everyone',
  detailsReadableBy: 'everyone',
  signingAllowedBy: 'everyone',
  allowedRoles: ['arn:aws:iam:::role/*'],
});
const alice = await app.services.identity.authenticate(tokens.alice);
const vended = await app.services.credentials.issue(alice, 'bench-sign');
const facts: SigningServerFacts = {
  url,
  token: tokens.alice,
  bucket: seed.bucket,
  vended: {
    accessKeyId: vended.accessKeyId,
    secretAccessKey: vended.secretAccessKey,
    sessionToken: vended.sessionToken,
  },
};
process.stdout.write(`${JSON.stringify(facts)}\n`);
process.once('SIGTERM', () => {
  void app
    .close()
    .then(() => rm(dir, { recursive: true, force: true }))
    .then(() => process.exit(0));
});
