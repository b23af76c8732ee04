import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type App, createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { registerText } from './secret-registry.js';

/** One rolegate instance of a cluster, in this process, as a load balancer would see it. */
export interface ClusterInstance {
  readonly app: App;
  readonly url: string;
  readonly dir: string;
  close(): Promise<void>;
}

/**
 * Starts an instance on the shared PostgreSQL at `databaseUrl` with the shared vault key; `config` adds to the
 * configuration (federation, say) and `env` to the environment rolegate reads.
 */
export async function startClusterInstance(
  databaseUrl: string,
  secretKey: string,
  options: { config?: Record<string, unknown>; env?: NodeJS.ProcessEnv } = {},
): Promise<ClusterInstance> {
  const dir = await mkdtemp(join(tmpdir(), 'rolegate-cluster-'));
  const config = parseConfig({
    dataDir: dir,
    server: { port: 0 },
    database: { url: databaseUrl },
    log: { level: 'warn' },
    ...options.config,
  });
  // Its log lines go to the whole-suite secret scan once it is closed.
  const logs: string[] = [];
  const logDestination = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const app = await createApp({ config, env: { ...options.env, ROLEGATE_SECRET_KEY: secretKey }, logDestination });
  const url = await app.http.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    url,
    dir,
    async close() {
      await app.close().catch(() => undefined);
      registerText('cluster-logs', logs.join(''));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
