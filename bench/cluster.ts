/**
 * Issuance throughput of rolegate on PostgreSQL with 1 and with 2 instances (separate processes, one shared
 * database and vault key): `POST /api/connections/s3-sales/credentials` for alice under closed-loop load, spread
 * evenly over the instances, against the local Ceph S3+STS. Also prints how many STS calls each run made
 * (shared role sessions: 1 in total however many instances). Prints figures; exits non-zero only on errors.
 *
 *   npm run bench:cluster -- [--seconds 5] [--concurrency 16]
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { createApp } from '../src/app.js';
import { parseConfig } from '../src/config/load.js';
import { provisionDemo } from '../src/demo/demo-scenario.js';
import { type LocalBackend, pickFreePort, startLocalBackend } from '../src/demo/local-backend.js';
import { seedDemo } from '../src/demo/seed.js';
import { type LoadResult, runLoad, summarize } from './lib/http-load.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = resolve(import.meta.dirname, '..', 'src', 'cli', 'main.js');
const CONNECTION = 's3-sales';

interface Instance {
  readonly url: string;
  readonly child: ChildProcess;
}

async function startInstance(env: NodeJS.ProcessEnv, dataDir: string): Promise<Instance> {
  const port = await pickFreePort();
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      ...env,
      ROLEGATE_DATA_DIR: dataDir,
      ROLEGATE_PORT: String(port),
      ROLEGATE_GATEWAY_PORT: String(await pickFreePort()),
      ROLEGATE_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`rolegate exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return { url, child };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM');
  throw new Error('rolegate did not become ready');
}

async function stsCalls(instances: readonly Instance[]): Promise<number> {
  let total = 0;
  for (const i of instances) {
    const text = await (await fetch(`${i.url}/metrics`)).text();
    for (const m of text.matchAll(/^rolegate_sts_calls_total\{[^}]*\} (\d+)/gm)) total += Number(m[1]);
  }
  return total;
}

/** Closed-loop load spread evenly over the instances, all at once; results summed. */
async function loadOver(instances: readonly Instance[], token: string, concurrency: number, durationMs: number) {
  const results = await Promise.all(
    instances.map((i, n) =>
      runLoad({
        url: `${i.url}/api/connections/${CONNECTION}/credentials`,
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        concurrency: Math.floor(concurrency / instances.length) + (n < concurrency % instances.length ? 1 : 0),
        durationMs,
      }),
    ),
  );
  const latencies = new Float64Array(results.reduce((n, r) => n + r.latenciesMs.length, 0));
  let offset = 0;
  for (const r of results) {
    latencies.set(r.latenciesMs, offset);
    offset += r.latenciesMs.length;
  }
  const merged: LoadResult = {
    requests: results.reduce((n, r) => n + r.requests, 0),
    errors: results.reduce((n, r) => n + r.errors, 0),
    errorKinds: Object.assign({}, ...results.map((r) => r.errorKinds)),
    elapsedMs: Math.max(...results.map((r) => r.elapsedMs)),
    latenciesMs: latencies,
  };
  return merged;
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '16' } },
  });
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  if (!(seconds > 0) || !Number.isInteger(concurrency) || concurrency < 2) {
    throw new Error('--seconds must be > 0 and --concurrency an integer >= 2');
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const dir = await mkdtemp(join(tmpdir(), 'rolegate-bench-cluster-'));
  // Its own temp dir: PostgreSQL runs as another user, who cannot enter `dir` (mode 0700).
  const pgDir = await mkdtemp(join(tmpdir(), 'rolegate-bench-pg-'));
  let backend: LocalBackend | undefined;
  let pgStarted = false;
  const instances: Instance[] = [];
  let errors = 0;
  try {
    out('Starting the local S3 + STS backend (Ceph RGW) and PostgreSQL 15...');
    backend = await startLocalBackend({ dir: join(dir, 's3'), port: await pickFreePort() });
    await run('bash', [join(ROOT, 'scripts', 'postgres.sh'), 'start', pgDir]);
    pgStarted = true;
    const databaseUrl = (await readFile(join(pgDir, 'url'), 'utf8')).trim();
    const secretKey = randomBytes(32).toString('hex');
    const seed = await seedDemo(backend);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_ACCESS_KEY_ID: backend.master.accessKeyId,
      AWS_SECRET_ACCESS_KEY: backend.master.secretAccessKey,
      AWS_REGION: backend.region,
      ROLEGATE_DATABASE_URL: databaseUrl,
      ROLEGATE_SECRET_KEY: secretKey,
    };
    delete env.AWS_SESSION_TOKEN;
    delete env.AWS_PROFILE;
    // Provision once, in-process, on the shared database.
    const setup = await createApp({
      config: parseConfig({ dataDir: join(dir, 'setup'), database: { url: databaseUrl }, log: { level: 'warn' } }),
      env: { ROLEGATE_SECRET_KEY: secretKey },
    });
    const tokens = await provisionDemo(setup.services, backend, seed);
    await setup.close();

    instances.push(await startInstance(env, join(dir, 'a')));
    instances.push(await startInstance(env, join(dir, 'b')));
    const durationMs = seconds * 1000;
    const rows: string[][] = [];
    for (const n of [1, 2]) {
      const over = instances.slice(0, n);
      await loadOver(over, tokens.alice, concurrency, 1000); // warm-up (JIT, first STS call, caches)
      const result = await loadOver(over, tokens.alice, concurrency, durationMs);
      const s = summarize(result);
      errors += result.errors;
      if (result.errors > 0) out(`${n} instance(s) errors: ${JSON.stringify(result.errorKinds)}`);
      rows.push([
        `${n} instance${n === 1 ? '' : 's'}`,
        String(result.requests),
        String(result.errors),
        fmt(s.requestsPerSecond, 0),
        fmt(s.p50Ms, 3),
        fmt(s.p99Ms, 3),
        String(await stsCalls(instances)),
      ]);
    }
    out('');
    out(`Node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown CPU'})`);
    out(`${seconds} s per run, concurrency ${concurrency} spread over the instances, PostgreSQL 15 on loopback`);
    out('instances and the load generator share the same CPUs: with 2 cores, 2 instances compete with each other');
    out('');
    const header = ['', 'requests', 'errors', 'req/s', 'p50 ms', 'p99 ms', 'STS calls (cumulative, all)'];
    const lines = [header, ...rows];
    const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
    for (const l of lines)
      out(l.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  '));
    return errors === 0 ? 0 : 1;
  } finally {
    for (const i of instances) {
      i.child.kill('SIGTERM');
      await new Promise((r) => (i.child.exitCode !== null ? r(undefined) : i.child.once('exit', r)));
    }
    if (pgStarted) await run('bash', [join(ROOT, 'scripts', 'postgres.sh'), 'stop', pgDir]).catch(() => undefined);
    else await rm(pgDir, { recursive: true, force: true });
    await backend?.stop().catch((e: unknown) => process.stderr.write(`backend stop failed: ${String(e)}\n`));
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
