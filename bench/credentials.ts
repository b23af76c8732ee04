/**
 * Benchmark of cached credential issuance: `POST /api/connections/s3-sales/credentials` on a real rolegate
 * (local Ceph S3+STS, the demo scenario, alice's token) against a bare Fastify route returning a static body of
 * the same size, both under the same closed-loop load. Prints figures; exits non-zero only on errors.
 *
 * A third server shows how much of the gap the audit trail alone accounts for: the bare route, but answering only
 * once rolegate's own trail (createAuditTrail over createAuditStore, in a SQLite store of its own) has recorded
 * the event an issuance records. No issuance audited that way can be faster on the same machine.
 *
 *   npm run bench -- [--seconds 5] [--concurrency 16] [--warmup-seconds 1] [--profile-out rolegate.cpuprofile]
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Fastify, { type FastifyInstance } from 'fastify';
import { type App, createApp } from '../src/app.js';
import { parseConfig } from '../src/config/load.js';
import { connectDatabase } from '../src/db/connect.js';
import { provisionDemo } from '../src/demo/demo-scenario.js';
import { type LocalBackend, pickFreePort, startLocalBackend } from '../src/demo/local-backend.js';
import { seedDemo } from '../src/demo/seed.js';
import { systemClock } from '../src/lib/clock.js';
import { createAuditStore } from '../src/modules/audit/audit.store.js';
import { type AuditInput, createAuditTrail } from '../src/modules/audit/audit-trail.js';
import { databaseSink } from '../src/modules/audit/sinks.js';
import { type LoadResult, type LoadSpec, runLoad, summarize } from './lib/http-load.js';

const TARGET_RATIO = 0.5;
const TARGET_P99_MS = 5;
const WARMUP_REQUESTS = 5;
const CONNECTION = 's3-sales';

interface BenchOptions {
  readonly seconds: number;
  readonly concurrency: number;
  readonly warmupSeconds: number;
  /** Where to write a CPU profile of the server's main thread during the measured rolegate run. */
  readonly profileOut: string | undefined;
}

function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      seconds: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '16' },
      'warmup-seconds': { type: 'string', default: '1' },
      'profile-out': { type: 'string' },
    },
  });
  const number = (name: string, raw: string, min: number, integer: boolean): number => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
      throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got '${raw}'`);
    }
    return n;
  };
  return {
    seconds: number('seconds', values.seconds, 0.1, false),
    concurrency: number('concurrency', values.concurrency, 1, true),
    warmupSeconds: number('warmup-seconds', values['warmup-seconds'], 0, false),
    profileOut: values['profile-out'],
  };
}

/** Replaces every string in a JSON value by a placeholder of the same length, so sizes match but no secret remains. */
function sameSizePlaceholder(value: unknown): unknown {
  if (typeof value === 'string') return 'x'.repeat(value.length);
  if (Array.isArray(value)) return value.map(sameSizePlaceholder);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sameSizePlaceholder(v)]));
  }
  return value;
}

async function startBaseline(body: unknown): Promise<{ server: FastifyInstance; url: string }> {
  const server = Fastify({ logger: false });
  server.post('/static', async () => body);
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  return { server, url };
}

/**
 * The bare route, answering once rolegate's audit trail has recorded `event` (chained, in a SQLite store of its
 * own under `dir`, with the same sink and batching as rolegate's).
 */
async function startAuditedBaseline(
  body: unknown,
  event: AuditInput,
  dir: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const db = await connectDatabase(`sqlite:${join(dir, 'audit-only.db')}`);
  const store = createAuditStore(db);
  const trail = createAuditTrail({
    sinks: [databaseSink(store)],
    store,
    minAccepted: 1,
    timeoutMs: 5000,
    clock: systemClock,
    logger: { error: () => undefined, warn: () => undefined },
  });
  const server = Fastify({ logger: false });
  server.post('/audited', async () => {
    // Each issuance's event has its own request id, as rolegate's do.
    await trail.record(Object.assign({}, event, { requestId: randomUUID() }));
    return body;
  });
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    async close() {
      await server.close();
      await trail.flush();
      await store.close();
      await db.destroy();
    },
  };
}

/**
 * Runs `fn` and measures how long this thread's event loop was busy meanwhile, and the CPU time of the whole
 * process (server, load generator, WAL checkpointer, V8's helpers): on 2 shared cores the sum is what bounds req/s.
 */
async function withLoopBusy<T>(fn: () => Promise<T>): Promise<{ result: T; busyMs: number; processCpuMs: number }> {
  const before = performance.eventLoopUtilization();
  const cpuBefore = process.cpuUsage();
  const result = await fn();
  const { active } = performance.eventLoopUtilization(before);
  const cpu = process.cpuUsage(cpuBefore);
  return { result, busyMs: active, processCpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Runs `fn` under the V8 CPU profiler of this thread when `file` is set, and writes the profile there. */
async function profiled<T>(file: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (file === undefined) return fn();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(file, JSON.stringify(profile));
    session.disconnect();
  }
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const dir = await mkdtemp(join(tmpdir(), 'rolegate-bench-'));
  let backend: LocalBackend | undefined;
  let app: App | undefined;
  let baseline: FastifyInstance | undefined;
  let audited: Awaited<ReturnType<typeof startAuditedBaseline>> | undefined;
  try {
    out('Starting the local S3 + STS backend (Ceph RGW)...');
    backend = await startLocalBackend({ dir: join(dir, 's3'), port: await pickFreePort() });
    const seed = await seedDemo(backend);
    // Master credentials come from the environment, as in `rolegate demo` and a production deployment.
    process.env.AWS_ACCESS_KEY_ID = backend.master.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = backend.master.secretAccessKey;
    process.env.AWS_REGION = backend.region;
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;

    const config = parseConfig({ dataDir: join(dir, 'state'), server: { port: 0 }, log: { level: 'warn' } });
    app = await createApp({ config });
    const rolegateUrl = await app.http.listen({ host: '127.0.0.1', port: 0 });
    const tokens = await provisionDemo(app.services, backend, seed);

    const rolegate: Omit<LoadSpec, 'durationMs'> = {
      url: `${rolegateUrl}/api/connections/${CONNECTION}/credentials`,
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.alice}` },
      concurrency: options.concurrency,
    };
    // The first request assumes the role for real; the rest are served from the engine's cache.
    let sample: unknown;
    for (let i = 0; i < WARMUP_REQUESTS; i++) {
      const res = await fetch(rolegate.url, { method: 'POST', headers: rolegate.headers });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`warm-up request ${i + 1} got HTTP ${res.status}: ${text.slice(0, 300)}`);
      sample = JSON.parse(text);
    }
    const responseBytes = Buffer.byteLength(JSON.stringify(sample));

    const started = await startBaseline(sameSizePlaceholder(sample));
    baseline = started.server;
    const base: Omit<LoadSpec, 'durationMs'> = {
      url: `${started.url}/static`,
      method: 'POST',
      headers: {},
      concurrency: options.concurrency,
    };
    audited = await startAuditedBaseline(sameSizePlaceholder(sample), await lastIssuanceEvent(app), dir);
    const auditOnly: Omit<LoadSpec, 'durationMs'> = { ...base, url: `${audited.url}/audited` };

    // Unrecorded load first, so both servers are measured with optimized (JIT-compiled) code.
    if (options.warmupSeconds > 0) {
      const warmMs = options.warmupSeconds * 1000;
      await runLoad({ ...base, durationMs: warmMs });
      await runLoad({ ...rolegate, durationMs: warmMs });
      await runLoad({ ...auditOnly, durationMs: warmMs });
    }
    const durationMs = options.seconds * 1000;
    const baseRun = await withLoopBusy(() => runLoad({ ...base, durationMs }));
    const auditBefore = await databaseSinkWrites(app);
    const rolegateRun = await withLoopBusy(() =>
      profiled(options.profileOut, () => runLoad({ ...rolegate, durationMs })),
    );
    const auditAfter = await databaseSinkWrites(app);
    const auditOnlyRun = await withLoopBusy(() => runLoad({ ...auditOnly, durationMs }));
    const baseResult = baseRun.result;
    const rolegateResult = rolegateRun.result;
    const auditOnlyResult = auditOnlyRun.result;

    const b = summarize(baseResult);
    const r = summarize(rolegateResult);
    const a = summarize(auditOnlyResult);
    const ratio = r.requestsPerSecond / b.requestsPerSecond;
    const stats = app.engine.stats();
    const cpuModel = cpus()[0]?.model ?? 'unknown CPU';

    out('');
    out(`Node ${process.version}, ${availableParallelism()} CPUs (${cpuModel}), ${process.platform}/${process.arch}`);
    out(
      `${options.seconds} s per server, concurrency ${options.concurrency}, keep-alive, load generator in a worker thread`,
    );
    out(`response body: ${responseBytes} bytes (baseline returns a placeholder body of the same size)`);
    out('');
    out(
      table([
        row('rolegate POST /credentials', rolegateResult, r),
        row('bare Fastify POST /static', baseResult, b),
        row('bare + audit trail POST /audited', auditOnlyResult, a),
      ]),
    );
    out('');
    // The servers run on this thread: its busy time per request is what each answer costs, whatever the load
    // generator on the other core managed to send (a steadier figure than requests/s on a shared machine).
    const perRequest = (run: { busyMs: number; result: LoadResult }) => (1000 * run.busyMs) / run.result.requests;
    const cpuPerRequest = (run: { processCpuMs: number; result: LoadResult }) =>
      fmt((1000 * run.processCpuMs) / run.result.requests, 1);
    out(
      `server thread busy: rolegate ${fmt((100 * rolegateRun.busyMs) / rolegateRun.result.elapsedMs, 0)}% ` +
        `(${fmt(perRequest(rolegateRun), 1)} µs per request), baseline ${fmt((100 * baseRun.busyMs) / baseRun.result.elapsedMs, 0)}% ` +
        `(${fmt(perRequest(baseRun), 1)} µs per request)`,
    );
    out(
      `process CPU per request, all threads with the load generator: rolegate ${cpuPerRequest(rolegateRun)} µs, ` +
        `baseline ${cpuPerRequest(baseRun)} µs`,
    );
    // From rolegate's own metrics: the audit rows every answer waited for, and what writing them took.
    const batches = auditAfter.count - auditBefore.count;
    out(
      `audit trail (database sink): ${batches} batches, ${fmt(rolegateResult.requests / Math.max(1, batches), 1)} ` +
        `events per batch, ${fmt((1e6 * (auditAfter.seconds - auditBefore.seconds)) / rolegateResult.requests, 1)} µs ` +
        `of writing per request`,
    );
    out(
      `bare route + rolegate's audit trail alone: ratio ${fmt(a.requestsPerSecond / b.requestsPerSecond, 3)}, ` +
        `server thread ${fmt(perRequest(auditOnlyRun), 1)} µs per request; rolegate reaches ` +
        `${fmt((100 * r.requestsPerSecond) / a.requestsPerSecond, 0)}% of it`,
    );
    out(`ratio rolegate/baseline requests/s: ${fmt(ratio, 3)}`);
    out(`target ratio >= ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'met' : 'not met'}`);
    out(
      `target rolegate p99 < ${TARGET_P99_MS} ms: ${r.p99Ms < TARGET_P99_MS ? 'met' : 'not met'} (${fmt(r.p99Ms)} ms)`,
    );
    out(
      `credential engine: stsCalls=${stats.stsCalls} hits=${stats.hits} misses=${stats.misses} refreshes=${stats.refreshes}`,
    );
    if (stats.stsCalls !== 1) out(`note: expected exactly 1 STS call, saw ${stats.stsCalls}`);

    const errors = baseResult.errors + rolegateResult.errors + auditOnlyResult.errors;
    for (const [name, result] of [
      ['rolegate', rolegateResult],
      ['baseline', baseResult],
      ['audited baseline', auditOnlyResult],
    ] as const) {
      if (result.errors > 0) out(`${name} errors: ${JSON.stringify(result.errorKinds)}`);
    }
    return errors === 0 ? 0 : 1;
  } finally {
    await baseline?.close().catch((e: unknown) => process.stderr.write(`baseline close failed: ${String(e)}\n`));
    await audited?.close().catch((e: unknown) => process.stderr.write(`audited baseline close failed: ${String(e)}\n`));
    await app?.close().catch((e: unknown) => process.stderr.write(`app close failed: ${String(e)}\n`));
    await backend?.stop().catch((e: unknown) => process.stderr.write(`backend stop failed: ${String(e)}\n`));
    await rm(dir, { recursive: true, force: true });
  }
}

/** The content of the newest event in rolegate's trail (a credential issuance after the warm-up). */
async function lastIssuanceEvent(app: App): Promise<AuditInput> {
  const row = await app.db
    .selectFrom('audit_events')
    .select('event')
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirstOrThrow();
  const { id: _id, time: _time, ...content } = JSON.parse(row.event) as AuditInput & { id: string; time: string };
  if (content.action !== 'credentials.issue') throw new Error(`expected an issuance event, got ${content.action}`);
  return content;
}

/** How many batches the database audit sink has written so far, and the seconds it took (its histogram). */
async function databaseSinkWrites(app: App): Promise<{ count: number; seconds: number }> {
  const { values } = await app.metrics.auditDuration.get();
  const pick = (suffix: string) =>
    values.find((v) => v.metricName?.endsWith(suffix) === true && v.labels.sink === 'database')?.value ?? 0;
  return { count: pick('_count'), seconds: pick('_sum') };
}

interface Row {
  readonly name: string;
  readonly cells: readonly string[];
}

function row(name: string, result: LoadResult, s: ReturnType<typeof summarize>): Row {
  return {
    name,
    cells: [
      String(result.requests),
      String(result.errors),
      fmt(s.requestsPerSecond, 0),
      fmt(s.p50Ms, 3),
      fmt(s.p99Ms, 3),
      fmt(s.maxMs, 3),
    ],
  };
}

function table(rows: readonly Row[]): string {
  const header = ['', 'requests', 'errors', 'req/s', 'p50 ms', 'p99 ms', 'max ms'];
  const lines = [header, ...rows.map((r) => [r.name, ...r.cells])];
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  return lines
    .map((l) => l.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  '))
    .join('\n');
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
