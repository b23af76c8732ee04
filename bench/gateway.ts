/**
 * Benchmark of the S3 gateway (slow path): PUT and GET of one large object through rolegate's gateway against the
 * same client (AWS SDK v3, one streamed request each way) straight to RGW with alice's own role session, in one
 * run. Prints MiB/s both ways, the ratio, and rolegate's peak RSS growth (rolegate runs in its own process).
 * A third run goes through a bare pass-through proxy (bench/lib/pass-through-proxy.ts, its own process too): what
 * one extra hop costs on this machine whatever the gateway does, so that the gap can be split into the hop's share
 * and rolegate's.
 *
 *   npm run bench:gateway -- [--mib 1024] [--rounds 1] [--profile-dir DIR]
 *
 * Starts a dedicated local RGW (memstore sized for the object) and deletes what it wrote.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { pickFreePort, startLocalBackend } from '../src/demo/local-backend.js';
import { startBenchChild, stopBenchChild } from './lib/bench-child.js';
import { machineJiffies, processJiffies, rssBytes } from './lib/proc-stats.js';

const TARGET_RATIO = 0.8;
const TARGET_RSS_MIB = 64;
const MiB = 1024 * 1024;

interface ServerFacts {
  endpoint: string;
  bucket: string;
  prefix: string;
  gatewayKey: { accessKeyId: string; secretAccessKey: string };
  role: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** `size` bytes of a repeated 1 MiB random block, generated on the fly (no disk, constant memory). */
function source(size: number): Readable {
  const block = Buffer.alloc(MiB);
  for (let i = 0; i < MiB; i += 4) block.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, i);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const n = Math.min(MiB, size - sent);
      sent += n;
      this.push(n === MiB ? block : block.subarray(0, n));
    },
  });
}

/** Waits (up to 30 s) until the machine is mostly idle, so that no run pays for the backend's leftover work. */
async function settled(): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    const before = machineJiffies();
    await new Promise((r) => setTimeout(r, 500));
    const after = machineJiffies();
    if ((after.busy - before.busy) / Math.max(1, after.total - before.total) < 0.15) return;
  }
}

interface Measured {
  readonly seconds: number;
  readonly peakRss: number;
  /** Busy share of all the machine's cores while `fn` ran (1 = every core busy throughout). */
  readonly machineBusy: number;
  /** The middle process's CPU time over the wall time (1 = one core throughout; 0 without one). */
  readonly middleCores: number;
}

/**
 * Samples rolegate's RSS (`pid`) while `fn` runs; returns fn's seconds, the peak RSS seen and where the CPU went,
 * with the share of the process between client and RGW (`middle`: rolegate, the proxy, or none).
 */
async function measured(pid: number, middle: number | undefined, fn: () => Promise<void>): Promise<Measured> {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid));
  }, 20);
  const machineBefore = machineJiffies();
  const middleBefore = middle === undefined ? 0 : processJiffies(middle);
  const started = performance.now();
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  const seconds = (performance.now() - started) / 1000;
  const machineAfter = machineJiffies();
  const ticksPerSecond = (machineAfter.total - machineBefore.total) / seconds / availableParallelism();
  return {
    seconds,
    peakRss: Math.max(peak, rssBytes(pid)),
    machineBusy: (machineAfter.busy - machineBefore.busy) / Math.max(1, machineAfter.total - machineBefore.total),
    middleCores: middle === undefined ? 0 : (processJiffies(middle) - middleBefore) / ticksPerSecond / seconds,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      mib: { type: 'string', default: '1024' },
      rounds: { type: 'string', default: '1' },
      // A CPU profile of the rolegate process, written there when it exits.
      'profile-dir': { type: 'string' },
    },
  });
  const size = Number(values.mib) * MiB;
  const rounds = Number(values.rounds);
  if (!Number.isInteger(size) || size <= 0 || !Number.isInteger(rounds) || rounds < 1) {
    throw new Error('--mib and --rounds must be positive integers');
  }
  // memstore keeps objects in the OSD's RAM: room for the three copies of every round (RGW reclaims deleted tails
  // only after its garbage collection) and slack.
  process.env.S3STS_MEMSTORE_BYTES ??= String(Math.max(2 * 1024 * MiB, 3 * rounds * size + size + 512 * MiB));
  const dir = await mkdtemp(join(tmpdir(), 'rolegate-bench-s3-'));
  const backend = await startLocalBackend({ dir: join(dir, 's3'), port: await pickFreePort() });
  const children: ChildProcess[] = [];
  try {
    const profileDir = values['profile-dir'];
    const started = await startBenchChild<ServerFacts>('gateway-server.js', {
      env: { BENCH_BACKEND_ENV: join(backend.dir, 'env.json') },
      // A CPU profile of the rolegate process, written when it exits.
      nodeFlags: profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
    });
    children.push(started.child);
    const proxy = await startBenchChild<{ endpoint: string }>('pass-through-proxy.js', { args: [backend.endpoint] });
    children.push(proxy.child);
    const f = started.facts;
    const pid = started.child.pid as number;
    const common = { region: 'us-east-1', forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' as const };
    const viaGateway = new S3Client({ ...common, endpoint: f.endpoint, credentials: f.gatewayKey });
    const direct = new S3Client({ ...common, endpoint: backend.endpoint, credentials: f.role });
    const viaProxy = new S3Client({ ...common, endpoint: proxy.facts.endpoint, credentials: f.role });
    // `pid`: the process in the middle, whose CPU share is reported (none for direct).
    const targets = [
      { name: 'direct', client: direct, bucket: f.bucket, key: `${f.prefix}bench/direct.bin`, pid: undefined },
      { name: 'proxy', client: viaProxy, bucket: f.bucket, key: `${f.prefix}bench/proxy.bin`, pid: proxy.child.pid },
      { name: 'gateway', client: viaGateway, bucket: 's3-sales', key: 'bench/gateway.bin', pid },
    ] as const;

    const put = (t: (typeof targets)[number], bytes: number) =>
      t.client.send(new PutObjectCommand({ Bucket: t.bucket, Key: t.key, Body: source(bytes), ContentLength: bytes }));
    const get = async (t: (typeof targets)[number]) => {
      const out = await t.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: t.key }));
      let n = 0;
      await pipeline(
        out.Body as Readable,
        new Writable({
          write(chunk: Buffer, _e, cb) {
            n += chunk.length;
            cb();
          },
        }),
      );
      if (n !== out.ContentLength) throw new Error(`short read: ${n} of ${out.ContentLength}`);
    };

    // Warm-up: connections, role sessions, JIT.
    for (const t of targets) {
      await put(t, 8 * MiB);
      await get(t);
    }
    const baseline = rssBytes(pid);
    let peak = baseline;
    const totals = { direct: { put: 0, get: 0 }, proxy: { put: 0, get: 0 }, gateway: { put: 0, get: 0 } };
    const cpu = {
      direct: { put: [] as Measured[], get: [] as Measured[] },
      proxy: { put: [] as Measured[], get: [] as Measured[] },
      gateway: { put: [] as Measured[], get: [] as Measured[] },
    };
    for (let r = 0; r < rounds; r++) {
      // The objects stay until the round ends: deleting one frees its memstore extents in the OSD for seconds
      // afterwards, which would tax whichever run came next. Odd rounds go in reverse order.
      const ordered = r % 2 === 0 ? targets : [...targets].reverse();
      await settled();
      for (const t of ordered) {
        const p = await measured(pid, t.pid, () => put(t, size).then(() => undefined));
        totals[t.name].put += p.seconds;
        const g = await measured(pid, t.pid, () => get(t));
        totals[t.name].get += g.seconds;
        cpu[t.name].put.push(p);
        cpu[t.name].get.push(g);
        peak = Math.max(peak, p.peakRss, g.peakRss);
      }
      for (const t of targets) await t.client.send(new DeleteObjectCommand({ Bucket: t.bucket, Key: t.key }));
    }
    const mibs = (seconds: number) => (size * rounds) / MiB / seconds;
    const rows = {
      put: { direct: mibs(totals.direct.put), proxy: mibs(totals.proxy.put), gateway: mibs(totals.gateway.put) },
      get: { direct: mibs(totals.direct.get), proxy: mibs(totals.proxy.get), gateway: mibs(totals.gateway.get) },
    };
    const growth = (peak - baseline) / MiB;
    const out = (s: string) => process.stdout.write(`${s}\n`);
    out(
      `S3 gateway benchmark: ${size / MiB} MiB object, ${rounds} round(s), one streamed request each way (AWS SDK v3)`,
    );
    for (const op of ['put', 'get'] as const) {
      const ratio = rows[op].gateway / rows[op].direct;
      out(
        `  ${op.toUpperCase()}  direct ${rows[op].direct.toFixed(1)} MiB/s   gateway ${rows[op].gateway.toFixed(1)} MiB/s   ` +
          `ratio ${ratio.toFixed(2)} (target >= ${TARGET_RATIO}) ${ratio >= TARGET_RATIO ? 'ok' : 'BELOW TARGET'}`,
      );
      out(
        `        bare pass-through proxy ${rows[op].proxy.toFixed(1)} MiB/s: ratio ${(rows[op].proxy / rows[op].direct).toFixed(2)} ` +
          `to direct (the extra hop alone); gateway to proxy ${(rows[op].gateway / rows[op].proxy).toFixed(2)}`,
      );
      const share = (ms: readonly Measured[], f: (m: Measured) => number) =>
        `${Math.round((100 * ms.reduce((a, m) => a + f(m) * m.seconds, 0)) / ms.reduce((a, m) => a + m.seconds, 0))}%`;
      out(
        `        machine CPU busy (all ${availableParallelism()} cores): direct ${share(cpu.direct[op], (m) => m.machineBusy)}, ` +
          `proxy ${share(cpu.proxy[op], (m) => m.machineBusy)}, gateway ${share(cpu.gateway[op], (m) => m.machineBusy)}; ` +
          `the middle process: proxy ${share(cpu.proxy[op], (m) => m.middleCores)}, ` +
          `rolegate ${share(cpu.gateway[op], (m) => m.middleCores)} of one core`,
      );
    }
    out(
      `  rolegate RSS: baseline ${(baseline / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB, growth ` +
        `${growth.toFixed(1)} MiB (target < ${TARGET_RSS_MIB}) ${growth < TARGET_RSS_MIB ? 'ok' : 'ABOVE TARGET'}`,
    );
    for (const t of targets) t.client.destroy();
  } finally {
    await Promise.all(children.map(stopBenchChild));
    await backend.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/gateway: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
