/**
 * Load: `--users` simulated users × `--connections` connections against one rolegate (its own process), mixed
 * credential requests, browses, and small GET/PUT through the user API and the S3 gateway, for `--seconds`.
 * Prints throughput, p50/p99 per operation, errors (must be 0) and rolegate's RSS over time. Loopback only.
 *
 *   npm run bench:load -- [--users 200] [--connections 20] [--seconds 300] [--concurrency 64] [--backend env.json]
 *
 * Without --backend it starts a dedicated local RGW and stops it at the end.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { pickFreePort, startLocalBackend } from '../src/demo/local-backend.js';
import { startBenchChild, stopBenchChild } from './lib/bench-child.js';
import { rssBytes } from './lib/proc-stats.js';

interface Facts {
  url: string;
  gateway: string;
  connections: number;
  people: Array<{ username: string; token: string; key: { accessKeyId: string; secretAccessKey: string } }>;
}

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '200' },
    connections: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '64' },
    backend: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);

const rssMiB = (pid: number): number => Math.round(rssBytes(pid) / (1024 * 1024));

function startServer(envJson: string): Promise<{ child: ChildProcess; facts: Facts }> {
  return startBenchChild<Facts>('load-server.js', {
    env: { BENCH_BACKEND_ENV: envJson, BENCH_USERS: values.users, BENCH_CONNECTIONS: values.connections },
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

async function main(): Promise<void> {
  let dir: string | undefined;
  let stop: (() => Promise<void>) | undefined;
  let envJson = values.backend;
  if (envJson === undefined) {
    dir = await mkdtemp(join(tmpdir(), 'rolegate-load-rgw-'));
    const backend = await startLocalBackend({ dir, port: await pickFreePort() });
    stop = backend.stop;
    envJson = join(dir, 'env.json');
  }
  const provisioning = performance.now();
  const { child, facts } = await startServer(envJson);
  const pid = child.pid ?? 0;
  console.log(
    `rolegate ready: ${facts.people.length} users × ${facts.connections} connections in ${Math.round(performance.now() - provisioning)} ms`,
  );
  const clients = facts.people.map(
    (p) =>
      new S3Client({
        endpoint: facts.gateway,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: p.key,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
  );

  const latencies = new Map<string, number[]>();
  const errors = new Map<string, number>();
  const rss: Array<[number, number]> = [];
  const started = performance.now();
  const sampler = setInterval(() => rss.push([Math.round((performance.now() - started) / 1000), rssMiB(pid)]), 1000);
  rss.push([0, rssMiB(pid)]);

  const api = async (token: string, method: string, path: string, body?: string) => {
    const res = await fetch(`${facts.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': body === undefined ? 'application/json' : 'application/octet-stream',
      },
      body: body ?? (method === 'POST' ? '{}' : undefined),
    });
    await res.arrayBuffer();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status}`);
  };
  const operations: Array<[string, (u: number, c: number) => Promise<void>]> = [
    ['credentials', (u, c) => api(facts.people[u]!.token, 'POST', `/api/connections/load-${c}/credentials`)],
    ['api browse', (u, c) => api(facts.people[u]!.token, 'GET', `/api/connections/load-${c}/objects?prefix=load/`)],
    [
      'api put 1KiB',
      (u, c) =>
        api(facts.people[u]!.token, 'PUT', `/api/connections/load-${c}/object?key=load/u${u}.txt`, 'x'.repeat(1024)),
    ],
    [
      'api get 1KiB',
      async (u, c) => {
        await api(
          facts.people[u]!.token,
          'PUT',
          `/api/connections/load-${c}/object?key=load/g${u}.txt`,
          'y'.repeat(1024),
        );
        await api(facts.people[u]!.token, 'GET', `/api/connections/load-${c}/object?key=load/g${u}.txt`);
      },
    ],
    [
      'gateway put 1KiB',
      async (u, c) => {
        await clients[u]!.send(
          new PutObjectCommand({ Bucket: `load-${c}`, Key: `load/gw${u}.txt`, Body: 'z'.repeat(1024) }),
        );
      },
    ],
    [
      'gateway get 1KiB',
      async (u, c) => {
        await clients[u]!.send(
          new PutObjectCommand({ Bucket: `load-${c}`, Key: `load/gg${u}.txt`, Body: 'w'.repeat(1024) }),
        );
        const out = await clients[u]!.send(new GetObjectCommand({ Bucket: `load-${c}`, Key: `load/gg${u}.txt` }));
        await out.Body?.transformToByteArray();
      },
    ],
  ];

  let seq = 0;
  const deadline = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const n = seq++;
      const u = n % facts.people.length;
      const c = Math.floor(n / facts.people.length) % facts.connections;
      const [name, op] = operations[n % operations.length]!;
      const t0 = performance.now();
      try {
        await op(u, c);
        const list = latencies.get(name) ?? [];
        list.push(performance.now() - t0);
        latencies.set(name, list);
      } catch (err) {
        errors.set(name, (errors.get(name) ?? 0) + 1);
        if ((errors.get(name) ?? 0) <= 3) console.error(`${name}: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  clearInterval(sampler);
  const elapsed = (performance.now() - started) / 1000;

  let total = 0;
  console.log(
    `\n${'operation'.padEnd(18)} ${'count'.padStart(7)} ${'ops/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} errors`,
  );
  for (const [name] of operations) {
    const list = (latencies.get(name) ?? []).sort((a, b) => a - b);
    total += list.length;
    console.log(
      `${name.padEnd(18)} ${String(list.length).padStart(7)} ${(list.length / elapsed).toFixed(1).padStart(8)} ${percentile(list, 0.5).toFixed(1).padStart(8)} ${percentile(list, 0.99).toFixed(1).padStart(8)} ${errors.get(name) ?? 0}`,
    );
  }
  const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
  console.log(
    `\ntotal ${total} ops in ${elapsed.toFixed(1)} s = ${(total / elapsed).toFixed(0)} ops/s, errors ${errorCount}`,
  );
  console.log(
    `rolegate RSS MiB over time (s:MiB): ${rss
      .filter((_, i) => i % Math.max(1, Math.floor(rss.length / 15)) === 0)
      .map(([s, m]) => `${s}:${m}`)
      .join(' ')}`,
  );

  for (const c of clients) c.destroy();
  await stopBenchChild(child);
  if (stop !== undefined) await stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  if (errorCount > 0) process.exitCode = 1;
}

await main();
