import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../dist/src/app.js';
import { parseConfig } from '../dist/src/config/load.js';
import { provisionDemo } from '../dist/src/demo/demo-scenario.js';
import { pickFreePort, startLocalBackend } from '../dist/src/demo/local-backend.js';
import { seedDemo } from '../dist/src/demo/seed.js';
import { readdirSync, readFileSync } from 'node:fs';
import { runWithRequestContext } from '../dist/src/lib/request-context.js';
const threads = () => Object.fromEntries(readdirSync('/proc/self/task').map(t => { const f = readFileSync(`/proc/self/task/${t}/stat`, 'utf8').split(') ')[1].split(' '); const name = readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim(); return [`${t}:${name}`, (Number(f[11]) + Number(f[12])) * 10000]; }));
const diff = (a, b, n) => Object.entries(b).map(([k, v]) => [k, (v - (a[k] ?? 0)) / n]).filter(([, v]) => v > 0.5).map(([k, v]) => `${k}=${v.toFixed(1)}`).join(' ');
const dir = await mkdtemp(join(tmpdir(), 'rg-svc-'));
const backend = await startLocalBackend({ dir: join(dir, 's3'), port: await pickFreePort() });
try {
  const seed = await seedDemo(backend);
  process.env.AWS_ACCESS_KEY_ID = backend.master.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = backend.master.secretAccessKey;
  process.env.AWS_REGION = backend.region;
  const config = parseConfig({ dataDir: join(dir, 'state'), server: { port: 0 }, log: { level: 'warn' } });
  const app = await createApp({ config });
  const tokens = await provisionDemo(app.services, backend, seed);
  const auth = app.authenticate ?? null;
  const principal = await app.services.identity.authenticate(tokens.alice);
  const creds = app.services.credentials;
  const one = () => runWithRequestContext({ requestId: 'r1234567', transport: 'api', sourceIp: '127.0.0.1' }, () => creds.issue(principal, 's3-sales', {}));
  await one();
  for (const conc of (process.env.CONC ? [Number(process.env.CONC)] : [1, 16])) {
    for (let round = 0; round < 3; round++) {
      const N = 20000;
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage(); const th0 = threads();
      let done = 0;
      await Promise.all(Array.from({ length: conc }, async () => { while (done < N) { done++; await one(); } }));
      const dt = Number(process.hrtime.bigint() - t0) / 1e3 / N;
      const cpu = process.cpuUsage(c0);
      console.log(diff(th0, threads(), N)); console.log(`conc ${conc}: ${dt.toFixed(1)} µs/op wall, process cpu ${((cpu.user + cpu.system) / N).toFixed(1)} µs/op`);
    }
  }
  const auths = 20000; const t1 = process.hrtime.bigint();
  for (let i = 0; i < auths; i++) await app.services.identity.authenticate(tokens.alice);
  console.log(`authenticate: ${(Number(process.hrtime.bigint() - t1) / 1e3 / auths).toFixed(1)} µs/op`);
  await app.close();
} finally { await backend.stop(); }
