/**
 * The rolegate side of the benchmarks that run it in a process of its own (gateway, load, signing): a real app
 * over the backend named by BENCH_BACKEND_ENV, with the demo's data and users, its state in a fresh directory.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type App, createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { type DemoTokens, provisionDemo } from '../../src/demo/demo-scenario.js';
import { type BackendFacts, readBackendFacts } from '../../src/demo/local-backend.js';
import { type DemoSeed, seedDemo } from '../../src/demo/seed.js';
import type { ConnectionInput } from '../../src/modules/connections/connection-input.js';

export interface BenchApp {
  readonly app: App;
  readonly backend: BackendFacts;
  readonly seed: DemoSeed;
  readonly tokens: DemoTokens;
  /** Closes the app and removes its state, then exits, on SIGTERM (how the benchmarks stop their servers). */
  serveUntilTerminated(): void;
}

export async function startBenchApp(seedOptions: { bucket: string; roleNamePrefix: string }): Promise<BenchApp> {
  const envJson = process.env.BENCH_BACKEND_ENV;
  if (envJson === undefined) throw new Error('BENCH_BACKEND_ENV must name the backend env.json');
  const backend = await readBackendFacts(envJson);
  // Master credentials come from the environment, as in a deployment.
  process.env.AWS_ACCESS_KEY_ID = backend.master.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = backend.master.secretAccessKey;
  process.env.AWS_REGION = backend.region;
  const seed = await seedDemo(backend, seedOptions);
  const dir = await mkdtemp(join(tmpdir(), 'rolegate-bench-state-'));
  const app = await createApp({
    config: parseConfig({ dataDir: dir, server: { port: 0 }, log: { level: 'warn' } }),
    env: { ROLEGATE_SECRET_KEY: randomBytes(32).toString('hex') },
  });
  const tokens = await provisionDemo(app.services, backend, seed);
  return {
    app,
    backend,
    seed,
    tokens,
    serveUntilTerminated() {
      process.once('SIGTERM', () => {
        void app
          .close()
          .then(() => rm(dir, { recursive: true, force: true }))
          .then(() => process.exit(0));
      });
    },
  };
}

/** A connection on the demo's sales folder that assumes the user's `salesRole`, usable and readable by everyone. */
export function salesConnection(
  name: string,
  bench: Pick<BenchApp, 'backend' | 'seed'>,
  extra: Partial<ConnectionInput> = {},
): ConnectionInput {
  return {
    name,
    description: '',
    bucket: bench.seed.bucket,
    path: 'sales/',
    region: bench.backend.region,
    endpoint: bench.backend.endpoint,
    forcePathStyle: true,
    useBucketRegion: false,
    readOnly: false,
    credentials: {
      mode: 'assume-role',
      roleArn: '${adminProperty:salesRole}',
      durationSeconds: 3600,
      master: 'environment',
    },
    usableBy: 'everyone',
    detailsReadableBy: 'everyone',
    allowedRoles: ['arn:aws:iam:::role/*'],
    ...extra,
  };
}
