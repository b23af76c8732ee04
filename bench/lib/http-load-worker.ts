import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { LoadSpec, LoadWorkerMessage } from './http-load.js';

// Worker-thread entry of runLoad (./http-load.ts): workerData is a LoadSpec, one LoadWorkerMessage is posted back.

const spec = workerData as LoadSpec;
const agent = new Agent({ keepAlive: true, maxSockets: spec.concurrency, maxFreeSockets: spec.concurrency });
const target = new URL(spec.url);
const headers = { ...spec.headers, 'content-length': '0' };

let latencies = new Float64Array(1 << 16);
let requests = 0;
let errors = 0;
const errorKinds: Record<string, number> = {};

function record(latencyMs: number, failure: string | undefined): void {
  if (requests === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
  }
  latencies[requests++] = latencyMs;
  if (failure !== undefined) {
    errors++;
    errorKinds[failure] = (errorKinds[failure] ?? 0) + 1;
  }
}

/** One request; resolves with the failure kind, or undefined for a 200. The body is read and dropped. */
function once(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: spec.method,
        headers,
      },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve(res.statusCode === 200 ? undefined : `HTTP ${res.statusCode}`));
        res.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

async function loop(deadline: number): Promise<void> {
  while (performance.now() < deadline) {
    const started = performance.now();
    const failure = await once();
    record(performance.now() - started, failure);
  }
}

const started = performance.now();
const deadline = started + spec.durationMs;
await Promise.all(Array.from({ length: spec.concurrency }, () => loop(deadline)));
const elapsedMs = performance.now() - started;
agent.destroy();

const used = latencies.slice(0, requests);
const message: LoadWorkerMessage = { requests, errors, errorKinds, elapsedMs, latencies: used.buffer };
parentPort?.postMessage(message, [used.buffer]);
