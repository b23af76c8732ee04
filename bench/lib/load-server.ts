/**
 * The rolegate side of bench/load.ts, in its own process so its RSS is measured alone: a real app over the given
 * backend with `users` analysts (each with the demo's sales role) and `connections` connections on the sales
 * folder, an API token and a gateway key per user. Prints one JSON line on stdout, then serves until killed.
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
const users = Number(process.env.BENCH_USERS ?? 200);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
const backend = await readBackendFacts(envJson);
process.env.AWS_ACCESS_KEY_ID = backend.master.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = backend.master.secretAccessKey;
process.env.AWS_REGION = backend.region;

const seed = await seedDemo(backend, { bucket: `load-${randomBytes(3).toString('hex')}`, roleNamePrefix: 'load-' });
const dir = await mkdtemp(join(tmpdir(), 'rolegate-load-'));
const app = await createApp({
  config: parseConfig({ dataDir: dir, server: { port: 0 }, log: { level: 'warn' } }),
  env: { ROLEGATE_SECRET_KEY: randomBytes(32).toString('hex') },
});
const tokens = await provisionDemo(app.services, backend, seed);
const url = await app.http.listen({ host: '127.0.0.1', port: 0 });
const gateway = await app.gateway.listen({ host: '127.0.0.1', port: 0 });
const admin = await app.services.identity.authenticate(tokens.admin);

for (let c = 0; c < connections; c++) {
  await app.services.connections.create(admin, {
    name: `load-${c}`,
    description: '',
    bucket: seed.bucket,
    path: 'sales/',
    region: backend.region,
    endpoint: backend.endpoint,
    forcePathStyle: true,
    useBucketRegion: false,
    readOnly: false,
    usableBy: 'everyone',
    detailsReadableBy: 'everyone',
    allowedRoles: ['arn:aws:iam:::role/*'],
    credentials: {
      mode: 'assume-role',
      roleArn: '${adminProperty:salesRole}',
      durationSeconds: 3600,
      master: 'environment',
    },
  });
}
const people: Array<{ username: string; token: string; key: { accessKeyId: string; secretAccessKey: string } }> = [];
for (let u = 0; u < users; u++) {
  const username = `user${u}`;
  await app.services.identity.createUser(admin, { username, role: 'analyst' });
  await app.services.identity.setProperty(admin, username, 'salesRole', seed.salesRoleArn);
  const token = (await app.services.identity.createToken(admin, username, { name: 'load' })).token;
  const created = await app.http.inject({
    method: 'POST',
    url: `/api/users/${username}/gateway-keys`,
    headers: { authorization: `Bearer ${token}` },
    payload: { name: 'load' },
  });
  const key = created.json() as { accessKeyId: string; secretAccessKey: string };
  people.push({ username, token, key: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey } });
}
process.stdout.write(`${JSON.stringify({ url, gateway, connections, people })}\n`);
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
