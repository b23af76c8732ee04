/**
 * Benchmark of remote signing against the fast path, in one run over one local RGW: GETs of the same objects, each
 * sent straight to RGW, either signed by rolegate first or signed locally with credentials vended once (what an SDK
 * does on the fast path). Both use the same lean keep-alive HTTP client (bench/lib/http-client.ts) with the same concurrency; modes alternate per round.
 * Two workloads, each printing req/s and MiB/s of both and the ratio:
 * - whole-object GETs, one POST to the Iceberg-compatible signer per request (the worst case). The same GETs are
 *   also signed by the least signer there can be (bench/lib/least-signer.ts: no checks, no audit), whose ratio
 *   bounds what any remote signer reaches on this machine with one signing call per GET, and by that signer
 *   recording each signature through rolegate's own audit trail first, which bounds any signer that audits
 *   fail-closed;
 * - a query engine's reads: each reader takes a file and reads it as `--ranges` ranged GETs, and the signing client
 *   keeps answers marked `Cache-Control: private` for 30 s per method, region and URI, as Iceberg Java's
 *   S3V4RestSignerClient does (rolegate marks object reads so: see `signing.reusableReads`).
 *
 *   npm run bench:signing -- [--sizes 4096,1048576,8388608] [--requests 600] [--concurrency 8] [--rounds 3]
 *                            [--files 32] [--file-size 4194304] [--ranges 8] [--warmup 3000]
 *                            [--profile-out rolegate-signing.json]
 *
 * Before any figure, `--warmup` GETs of the smallest object go through each path unrecorded, so that every
 * signer is measured with its code optimized by V8 (rolegate's signing path has far more of it than the least
 * possible signer: after 32 calls, rolegate spent 600–800 µs of CPU per call in situ; after 20 000, about 350).
 *
 * With --profile-out, rolegate's CPU profiler runs during each measured round of its signed GETs of the smallest
 * objects (its figures for that size are then lower), and the file gets one V8 profile per round (a JSON array).
 *
 * Starts a dedicated local RGW and rolegate in a process of its own (bench/lib/signing-server.ts); deletes what it wrote.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { pickFreePort, startLocalBackend } from '../src/demo/local-backend.js';
import { startBenchChild, stopBenchChild } from './lib/bench-child.js';
import { BenchHttpClient, type HttpAnswer } from './lib/http-client.js';
import type { LeastSignerFacts } from './lib/least-signer.js';
import { JIFFIES_PER_SECOND, processJiffies } from './lib/proc-stats.js';
import type { SigningServerFacts } from './lib/signing-server.js';

const TARGET_RATIO = 0.9;
const MiB = 1024 * 1024;

type Bytes = string | ArrayBuffer | ArrayBufferView;
const toBuffer = (d: Bytes) =>
  typeof d === 'string'
    ? d
    : ArrayBuffer.isView(d)
      ? Buffer.from(d.buffer, d.byteOffset, d.byteLength)
      : Buffer.from(d);
class Sha256 {
  #h;
  constructor(secret?: Bytes) {
    this.#h = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(d: Bytes) {
    this.#h.update(toBuffer(d));
  }
  async digest() {
    return new Uint8Array(this.#h.digest());
  }
  reset() {}
}

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '4096,1048576,8388608' },
    requests: { type: 'string', default: '600' },
    concurrency: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    files: { type: 'string', default: '32' },
    'file-size': { type: 'string', default: String(4 * 1024 * 1024) },
    ranges: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '3000' },
    'profile-out': { type: 'string' },
  },
});
const sizes = (values.sizes ?? '').split(',').map(Number);
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);
const files = Number(values.files);
const fileSize = Number(values['file-size']);
const rangesPerFile = Number(values.ranges);
const warmupRequests = Number(values.warmup);
/** Where to write CPU profiles of rolegate's main thread, one per measured round of the smallest objects. */
const profileOut = values['profile-out'];
/** How long Iceberg Java's signer client keeps an answer marked `private` (S3V4RestSignerClient). */
const SIGNER_CACHE_MS = 30_000;

/** Runs `total` calls of `fn` with `concurrency` in flight; returns the seconds taken. */
async function timed(total: number, fn: () => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        await fn();
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

/** CPU time (µs) used so far by this process (the client), rolegate's process and the backend's daemons. */
interface CpuSplit {
  client: number;
  rolegate: number;
  backend: number;
}

function cpuMeter(signerPid: number, backendDir: string) {
  // DIR/pids of scripts/s3-backend.sh: one `name pid` line per daemon (mon, osd, rgw).
  const daemons = readFileSync(join(backendDir, 'pids'), 'utf8')
    .split('\n')
    .map((line) => Number(line.trim().split(/\s+/)[1]))
    .filter((pid) => Number.isInteger(pid) && pid > 0);
  const micros = (jiffies: number) => (jiffies * 1_000_000) / JIFFIES_PER_SECOND;
  const now = (): CpuSplit => {
    const own = process.cpuUsage();
    return {
      client: own.user + own.system,
      rolegate: micros(processJiffies(signerPid)),
      backend: micros(daemons.reduce((sum, pid) => sum + processJiffies(pid), 0)),
    };
  };
  return {
    /** Runs `fn` and adds the CPU each party used meanwhile to `into`. */
    async measure<T>(into: CpuSplit, fn: () => Promise<T>): Promise<T> {
      const before = now();
      const result = await fn();
      const after = now();
      into.client += after.client - before.client;
      into.rolegate += after.rolegate - before.rolegate;
      into.backend += after.backend - before.backend;
      return result;
    },
  };
}

const perRequest = (cpu: CpuSplit, requests: number, signer = 'rolegate') =>
  `client ${(cpu.client / requests).toFixed(0)} + ${signer} ${(cpu.rolegate / requests).toFixed(0)} + RGW ${(cpu.backend / requests).toFixed(0)} µs`;

function expectBody(res: HttpAnswer, expected: number, status = 200): void {
  if (res.status !== status || res.body.byteLength !== expected)
    throw new Error(`GET answered ${res.status}, ${res.body.byteLength} bytes`);
}

/** `readers` in parallel, each reading whole files (`readFile`) until `total` files are read; the seconds taken. */
async function timedFiles(total: number, readers: number, readFile: (file: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: readers }, async () => {
      while (next < total) {
        const file = next++;
        await readFile(file);
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

/** The byte ranges a reader asks for: the footer first (as Parquet readers do), then the rest in order. */
function fileRanges(size: number, count: number): Array<{ start: number; end: number }> {
  const step = Math.ceil(size / count);
  const ranges = Array.from({ length: count }, (_, i) => ({
    start: i * step,
    end: Math.min(size, (i + 1) * step) - 1,
  }));
  const footer = ranges.pop();
  return footer === undefined ? ranges : [footer, ...ranges];
}

const dir = await mkdtemp(join(tmpdir(), 'rolegate-bench-signing-'));
const backend = await startLocalBackend({ dir: join(dir, 's3'), port: await pickFreePort() });
// One socket per request in flight, to rolegate and to RGW alike.
const http = new BenchHttpClient(concurrency);
let server: ChildProcess | undefined;
let leastSigner: ChildProcess | undefined;
let auditedSigner: ChildProcess | undefined;
try {
  const started = await startBenchChild<SigningServerFacts>('signing-server.js', {
    env: {
      BENCH_BACKEND_ENV: join(backend.dir, 'env.json'),
      ...(profileOut === undefined ? {} : { BENCH_PROFILE_OUT: profileOut }),
    },
  });
  server = started.child;
  const signingServer = started.child;
  /** Runs `fn` with rolegate's CPU profiler on (signing-server.ts) when --profile-out is set. */
  const profiled = async <T>(on: boolean, fn: () => Promise<T>): Promise<T> => {
    if (profileOut === undefined || !on) return fn();
    const toggle = (answer: string) =>
      new Promise<void>((resolve) => {
        const seen = (d: Buffer) => {
          if (!d.toString('utf8').includes(answer)) return;
          signingServer.stdout?.off('data', seen);
          resolve();
        };
        signingServer.stdout?.on('data', seen);
        signingServer.kill('SIGUSR2');
      });
    await toggle('profiling');
    try {
      return await fn();
    } finally {
      await toggle('profiled');
    }
  };
  const { url, token, bucket, vended } = started.facts;
  const cpu = cpuMeter(server.pid ?? 0, backend.dir);
  const leastSignerSession = JSON.stringify({
    accessKeyId: vended.accessKeyId,
    secretAccessKey: vended.secretAccessKey,
    sessionToken: vended.sessionToken,
    region: backend.region,
  });
  const least = await startBenchChild<LeastSignerFacts>('least-signer.js', {
    env: { BENCH_LEAST_SIGNER_SESSION: leastSignerSession },
  });
  leastSigner = least.child;
  const leastCpu = cpuMeter(leastSigner.pid ?? 0, backend.dir);
  const leastAudited = await startBenchChild<LeastSignerFacts>('least-signer.js', {
    env: { BENCH_LEAST_SIGNER_SESSION: leastSignerSession, BENCH_LEAST_SIGNER_AUDIT_DB: join(dir, 'audit-only.db') },
  });
  auditedSigner = leastAudited.child;
  const auditedCpu = cpuMeter(auditedSigner.pid ?? 0, backend.dir);
  const local = new SignatureV4({
    credentials: {
      accessKeyId: vended.accessKeyId,
      secretAccessKey: vended.secretAccessKey,
      sessionToken: vended.sessionToken,
    },
    region: backend.region,
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const endpoint = new URL(backend.endpoint);
  const writer = new S3Client({
    endpoint: backend.endpoint,
    region: backend.region,
    forcePathStyle: true,
    credentials: {
      accessKeyId: vended.accessKeyId,
      secretAccessKey: vended.secretAccessKey,
      sessionToken: vended.sessionToken,
    },
  });
  const keys = sizes.map((size) => `sales/bench/${size}.bin`);
  for (const [i, size] of sizes.entries()) {
    await writer.send(new PutObjectCommand({ Bucket: bucket, Key: keys[i], Body: randomBytes(size) }));
  }

  /** A fast-path GET: signed here with the vended credentials (what an SDK does), sent straight to RGW. */
  const directGet = async (key: string, extra: Record<string, string> = {}): Promise<HttpAnswer> => {
    const path = `/${bucket}/${key}`;
    const signed = await local.sign({
      method: 'GET',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: Number(endpoint.port),
      path,
      query: {},
      headers: { host: endpoint.host, ...extra, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    return http.send(`${backend.endpoint}${path}`, { headers: signed.headers });
  };
  const fastPathGet = (key: string, size: number) => async () => {
    expectBody(await directGet(key), size);
  };
  interface SignerAnswer {
    uri: string;
    headers: Record<string, string>;
    cacheable: boolean;
  }
  interface Signer {
    readonly url: string;
    readonly headers: Readonly<Record<string, string>>;
  }
  const rolegateSigner: Signer = {
    url: `${url}/api/connections/bench-sign/iceberg/v1/aws/s3/sign`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  };
  const leastPossibleSigner: Signer = { url: least.facts.url, headers: { 'content-type': 'application/json' } };
  const leastAuditedSigner: Signer = { url: leastAudited.facts.url, headers: { 'content-type': 'application/json' } };
  const sign = async (
    key: string,
    headers: Record<string, string[]>,
    signer: Signer = rolegateSigner,
  ): Promise<SignerAnswer> => {
    const res = await http.send(signer.url, {
      method: 'POST',
      headers: signer.headers,
      body: JSON.stringify({
        region: backend.region,
        method: 'GET',
        uri: `${backend.endpoint}/${bucket}/${key}`,
        headers,
      }),
    });
    if (res.status !== 200) throw new Error(`sign answered ${res.status}`);
    const answer = JSON.parse(res.body.toString('utf8')) as { uri: string; headers: Record<string, string[]> };
    return {
      uri: answer.uri,
      headers: Object.fromEntries(Object.entries(answer.headers).map(([n, v]) => [n, v.join(', ')])),
      cacheable: res.headers['cache-control'] === 'private',
    };
  };
  const signedGet =
    (key: string, size: number, signer: Signer = rolegateSigner) =>
    async () => {
      const answer = await sign(key, {}, signer);
      expectBody(await http.send(answer.uri, { headers: answer.headers }), size);
    };

  console.log(
    `remote signing vs fast path: GETs straight to RGW, ${requests} requests × ${rounds} rounds, concurrency ${concurrency}, ` +
      `after ${warmupRequests} unrecorded GETs per path`,
  );
  const smallest = sizes.indexOf(Math.min(...sizes));
  const warmKey = keys[smallest] ?? '';
  const warmSize = sizes[smallest] ?? 0;
  await timed(warmupRequests, fastPathGet(warmKey, warmSize));
  await timed(warmupRequests, signedGet(warmKey, warmSize));
  await timed(warmupRequests, signedGet(warmKey, warmSize, leastPossibleSigner));
  await timed(warmupRequests, signedGet(warmKey, warmSize, leastAuditedSigner));
  const ratios: number[] = [];
  const bounds: number[] = [];
  const auditedBounds: number[] = [];
  for (const [i, size] of sizes.entries()) {
    const key = keys[i] ?? '';
    // Warm-up per size: connections and the sizes' buffers (the code was warmed above).
    await timed(concurrency * 4, fastPathGet(key, size));
    await timed(concurrency * 4, signedGet(key, size));
    await timed(concurrency * 4, signedGet(key, size, leastPossibleSigner));
    await timed(concurrency * 4, signedGet(key, size, leastAuditedSigner));
    let fast = 0;
    let signed = 0;
    let bound = 0;
    let auditedBound = 0;
    const fastCpu: CpuSplit = { client: 0, rolegate: 0, backend: 0 };
    const signedCpu: CpuSplit = { client: 0, rolegate: 0, backend: 0 };
    const boundCpu: CpuSplit = { client: 0, rolegate: 0, backend: 0 };
    const auditedBoundCpu: CpuSplit = { client: 0, rolegate: 0, backend: 0 };
    for (let r = 0; r < rounds; r++) {
      fast += await cpu.measure(fastCpu, () => timed(requests, fastPathGet(key, size)));
      signed += await cpu.measure(signedCpu, () =>
        profiled(i === smallest, () => timed(requests, signedGet(key, size))),
      );
      bound += await leastCpu.measure(boundCpu, () => timed(requests, signedGet(key, size, leastPossibleSigner)));
      auditedBound += await auditedCpu.measure(auditedBoundCpu, () =>
        timed(requests, signedGet(key, size, leastAuditedSigner)),
      );
    }
    const total = requests * rounds;
    const fastRps = total / fast;
    const signedRps = total / signed;
    const boundRps = total / bound;
    const auditedBoundRps = total / auditedBound;
    const ratio = signedRps / fastRps;
    ratios.push(ratio);
    bounds.push(boundRps / fastRps);
    auditedBounds.push(auditedBoundRps / fastRps);
    const mib = (rps: number) => ((rps * size) / MiB).toFixed(1);
    console.log(
      `  ${String(size).padStart(9)} B objects: fast path ${fastRps.toFixed(0)} req/s (${mib(fastRps)} MiB/s), ` +
        `signed ${signedRps.toFixed(0)} req/s (${mib(signedRps)} MiB/s), ratio ${ratio.toFixed(2)}× ` +
        `${ratio >= TARGET_RATIO ? 'OK' : `below the ${TARGET_RATIO}× target`}`,
    );
    console.log(
      `      least possible signer (no checks, no audit): ${boundRps.toFixed(0)} req/s, ` +
        `ratio ${(boundRps / fastRps).toFixed(2)}×; rolegate reaches ${((100 * signedRps) / boundRps).toFixed(0)}% of it`,
    );
    console.log(
      `      least possible signer + rolegate's audit trail: ${auditedBoundRps.toFixed(0)} req/s, ` +
        `ratio ${(auditedBoundRps / fastRps).toFixed(2)}×; rolegate reaches ${((100 * signedRps) / auditedBoundRps).toFixed(0)}% of it`,
    );
    console.log(`      CPU per GET: fast path ${perRequest(fastCpu, total)}; signed ${perRequest(signedCpu, total)}`);
    console.log(`      CPU per GET, least possible signer: ${perRequest(boundCpu, total, 'signer')}`);
    console.log(`      CPU per GET, least signer + audit: ${perRequest(auditedBoundCpu, total, 'signer')}`);
  }
  const reaching = (all: number[]) => all.filter((r) => r >= TARGET_RATIO).length;
  console.log(
    `  target ${TARGET_RATIO}× met for ${reaching(ratios)} of ${ratios.length} sizes; reachable by the least ` +
      `possible signer for ${reaching(bounds)}, and with a fail-closed audit of each signature for ${reaching(auditedBounds)}`,
  );

  // A query engine's reads: ranged GETs per file, the signer's answers cached as Iceberg Java caches them.
  const fileKeys = Array.from(
    { length: files },
    (_, i) => `sales/bench/files/part-${String(i).padStart(5, '0')}.parquet`,
  );
  for (const key of fileKeys) {
    await writer.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: randomBytes(fileSize) }));
  }
  const ranges = fileRanges(fileSize, rangesPerFile);
  const rangeHeader = (r: { start: number; end: number }) => `bytes=${r.start}-${r.end}`;
  const fastPathFile = async (file: number) => {
    const key = fileKeys[file % files] ?? '';
    for (const r of ranges) {
      expectBody(await directGet(key, { range: rangeHeader(r) }), r.end - r.start + 1, 206);
    }
  };
  /** One signing client's cache (per round, so each round starts cold): method + region + URI → answer. */
  const signedFiles = () => {
    const cache = new Map<string, { answer: SignerAnswer; until: number }>();
    let signings = 0;
    const readFile = async (file: number) => {
      const key = fileKeys[file % files] ?? '';
      for (const r of ranges) {
        const range = rangeHeader(r);
        const cacheKey = `GET ${backend.region} ${backend.endpoint}/${bucket}/${key}`;
        let answer = cache.get(cacheKey);
        if (answer === undefined || answer.until < performance.now()) {
          signings++;
          const fresh = await sign(key, { range: [range] });
          answer = { answer: fresh, until: performance.now() + SIGNER_CACHE_MS };
          if (fresh.cacheable) cache.set(cacheKey, answer);
        }
        const res = await http.send(answer.answer.uri, { headers: { ...answer.answer.headers, range } });
        expectBody(res, r.end - r.start + 1, 206);
      }
    };
    return { readFile, signings: () => signings };
  };
  console.log(
    `query-engine reads: ${files} files of ${fileSize} B, each read as ${rangesPerFile} ranged GETs by one of ` +
      `${concurrency} readers, ${rounds} rounds; the signing client caches answers marked private for 30 s`,
  );
  await timedFiles(concurrency * 2, concurrency, fastPathFile);
  await timedFiles(concurrency * 2, concurrency, signedFiles().readFile);
  let fastFiles = 0;
  let signedFilesSeconds = 0;
  let signings = 0;
  for (let r = 0; r < rounds; r++) {
    fastFiles += await timedFiles(files, concurrency, fastPathFile);
    const client = signedFiles();
    signedFilesSeconds += await timedFiles(files, concurrency, client.readFile);
    signings += client.signings();
  }
  const gets = files * rangesPerFile * rounds;
  const fastRps = gets / fastFiles;
  const signedRps = gets / signedFilesSeconds;
  const ratio = signedRps / fastRps;
  const mib = (seconds: number) => ((files * fileSize * rounds) / MiB / seconds).toFixed(1);
  console.log(
    `  fast path ${fastRps.toFixed(0)} GETs/s (${mib(fastFiles)} MiB/s), signed ${signedRps.toFixed(0)} GETs/s ` +
      `(${mib(signedFilesSeconds)} MiB/s), ${signings} signing calls for ${gets} GETs, ratio ${ratio.toFixed(2)}× ` +
      `${ratio >= TARGET_RATIO ? 'OK' : `below the ${TARGET_RATIO}× target`}`,
  );

  for (const key of [...keys, ...fileKeys]) {
    await writer.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }
  writer.destroy();
} finally {
  http.close();
  if (server !== undefined) await stopBenchChild(server);
  if (leastSigner !== undefined) await stopBenchChild(leastSigner);
  if (auditedSigner !== undefined) await stopBenchChild(auditedSigner);
  await backend.stop().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}
