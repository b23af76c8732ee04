import { Worker } from 'node:worker_threads';

/** One closed-loop load run: `concurrency` requests in flight, each sent as soon as the previous one returned. */
export interface LoadSpec {
  /** e.g. `http://127.0.0.1:3000/api/connections/s3-sales/credentials` */
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly concurrency: number;
  readonly durationMs: number;
}

/** What the load worker sends back. Latencies are milliseconds, one per completed request, in completion order. */
export interface LoadResult {
  readonly requests: number;
  /** Non-200 responses and transport errors. */
  readonly errors: number;
  /** Status code (or error code) → count, for the errors only. */
  readonly errorKinds: Readonly<Record<string, number>>;
  readonly elapsedMs: number;
  readonly latenciesMs: Float64Array;
}

/** The message the worker thread posts when it is done. */
export interface LoadWorkerMessage {
  readonly requests: number;
  readonly errors: number;
  readonly errorKinds: Record<string, number>;
  readonly elapsedMs: number;
  readonly latencies: ArrayBuffer;
}

/**
 * Runs the load in a worker thread, so the client's own event loop does not share a core with the server
 * under test (the server runs on this process's main thread).
 */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./http-load-worker.js', import.meta.url), { workerData: spec });
    let settled = false;
    worker.once('message', (message: LoadWorkerMessage) => {
      settled = true;
      resolve({
        requests: message.requests,
        errors: message.errors,
        errorKinds: message.errorKinds,
        elapsedMs: message.elapsedMs,
        latenciesMs: new Float64Array(message.latencies),
      });
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`load worker exited with code ${code} before reporting`));
    });
  });
}

/** Summary figures of a load run. */
export interface LoadSummary {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export function summarize(result: LoadResult): LoadSummary {
  const sorted = Float64Array.from(result.latenciesMs).sort();
  return {
    requestsPerSecond: result.requests / (result.elapsedMs / 1000),
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.length > 0 ? (sorted[sorted.length - 1] ?? Number.NaN) : Number.NaN,
  };
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}
