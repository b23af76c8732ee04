/**
 * The rolegate side of bench/gateway.ts, in its own process so its memory is measured alone: a real app over
 * the given backend (demo data and users), the S3 gateway listening, a gateway key for alice and alice's own
 * role session (for the direct runs). Prints one JSON line on stdout, then serves until killed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { provisionDemo } from '../../src/demo/demo-scenario.js';
import { readBackendFacts } from '../../src/demo/local-backend.js';
import { seedDemo } from '../../src/demo/seed.js';

const envJson = process.env.BENCH_BACKEND_ENV;
if (envJson === undefined) throw new Error('BENCH_BACKEND_ENV must name the backend env.json');
const backend = await readBackendFacts(envJson);
process.env.AWS_ACCESS_KEY_ID = backend.master.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = backend.master.secretAccessKey;
process.env.AWS_REGION = backend.region;

const seed = await seedDemo(backend, { bucket: 'bench', roleNamePrefix: 'bench-' });
const dir = await mkdtemp(join(tmpdir(), 'rolegate-bench-'));
const app = await createApp({
  config: parseConfig({ dataDir: dir, server: { port: 0 }, log: { level: 'warn' } }),
  env: { ROLEGATE_SECRET_KEY: randomBytes(32).toString('hex') },
});
const tokens = await provisionDemo(app.services, backend, seed);
const endpoint = await app.gateway.listen({ host: '127.0.0.1', port: 0 });
const created = await app.http.inject({
  method: 'POST',
  url: '/api/users/alice/gateway-keys',
  headers: { authorization: `Bearer ${tokens.alice}` },
  payload: { name: 'bench' },
});
const key = created.json() as { accessKeyId: string; secretAccessKey: string };
const alice = await app.services.identity.authenticate(tokens.alice);
const role = await app.services.credentials.issue(alice, 's3-sales');
process.stdout.write(
  `${JSON.stringify({
    endpoint,
    bucket: seed.bucket,
    prefix: role.prefix,
    gatewayKey: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    role: { accessKeyId: role.accessKeyId, secretAccessKey: role.secretAccessKey, sessionToken: role.sessionToken },
  })}\n`,
);
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
