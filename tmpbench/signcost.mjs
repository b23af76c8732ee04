import { mkdtemp } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { createApp } from '../dist/src/app.js';
import { parseConfig } from '../dist/src/config/load.js';
import { provisionDemo } from '../dist/src/demo/demo-scenario.js';
import { pickFreePort, startLocalBackend } from '../dist/src/demo/local-backend.js';
import { seedDemo } from '../dist/src/demo/seed.js';
import { BenchHttpClient } from '../dist/bench/lib/http-client.js';
const dir = await mkdtemp(join(tmpdir(), 'rg-sc-'));
const backend = await startLocalBackend({ dir: join(dir, 's3'), port: await pickFreePort() });
try {
  process.env.AWS_ACCESS_KEY_ID = backend.master.accessKeyId; process.env.AWS_SECRET_ACCESS_KEY = backend.master.secretAccessKey; process.env.AWS_REGION = backend.region;
  const seed = await seedDemo(backend);
  const app = await createApp({ config: parseConfig({ dataDir: join(dir, 'state'), server: { port: 0 }, log: { level: 'warn' } }), env: { ROLEGATE_SECRET_KEY: randomBytes(32).toString('hex') } });
  const url = await app.http.listen({ host: '127.0.0.1', port: 0 });
  const tokens = await provisionDemo(app.services, backend, seed);
  const admin = await app.services.identity.authenticate(tokens.admin);
  await app.services.connections.create(admin, { name: 'bench-sign', description: '', bucket: seed.bucket, path: 'sales/', region: backend.region, endpoint: backend.endpoint, forcePathStyle: true, useBucketRegion: false, readOnly: false, credentials: { mode: 'assume-role', roleArn: '${adminProperty:salesRole}', durationSeconds: 3600, master: 'environment' }, usableBy: 'everyone', detailsReadableBy: 'everyone', signingAllowedBy: 'everyone', allowedRoles: ['arn:aws:iam:::role/*'] });
  const http = new BenchHttpClient(8);
  const body = JSON.stringify({ region: backend.region, method: 'GET', uri: `${backend.endpoint}/${seed.bucket}/sales/x.bin`, headers: {} });
  const one = async () => { const r = await http.send(`${url}/api/connections/bench-sign/iceberg/v1/aws/s3/sign`, { method: 'POST', headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' }, body }); if (r.status !== 200) throw new Error(`${r.status} ${r.body}`); };
  await one();
  const session = new Session(); session.connect();
  for (let round = 0; round < 3; round++) {
    if (round === 2) { await session.post('Profiler.enable'); await session.post('Profiler.start'); }
    const N = 8000; let next = 0; const c0 = process.cpuUsage(); const t0 = performance.now();
    await Promise.all(Array.from({ length: 8 }, async () => { while (next < N) { next++; await one(); } }));
    const c = process.cpuUsage(c0);
    console.log(`sign call: ${((c.user + c.system) / N).toFixed(0)} µs CPU (client + server + audit), ${(N / ((performance.now() - t0) / 1000)).toFixed(0)} calls/s`);
  }
  const { profile } = await session.post('Profiler.stop'); writeFileSync('/tmp/sign.cpuprofile', JSON.stringify(profile));
  http.close(); await app.close();
} finally { await backend.stop(); }
