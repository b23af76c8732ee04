import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** An access key pair of a user of the local backend (no session token: long-term keys). */
export interface AccessKeyPair {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** What a client needs to use a running local S3+STS+IAM backend. Plain JSON, so it can cross process boundaries. */
export interface BackendFacts {
  /** `http://127.0.0.1:PORT`; S3, STS and IAM all answer here. */
  readonly endpoint: string;
  readonly region: string;
  /** ARN of the broker's master user, to name in role trust policies. */
  readonly masterArn: string;
  /** The broker's master user: may call sts:AssumeRole and manage roles. */
  readonly master: AccessKeyPair;
  /** Bootstrap admin: owns seeded buckets and roles. */
  readonly admin: AccessKeyPair;
  /** For `radosgw-admin -c <cephConf> …`. */
  readonly cephConf: string;
  /** State directory of the cluster (logs in `dir/log`, ops log `dir/log/ops.log`). */
  readonly dir: string;
}

/** A backend started by {@link startLocalBackend}; `stop()` ends its daemons and removes `dir`. */
export interface LocalBackend extends BackendFacts {
  stop(): Promise<void>;
}

export interface StartLocalBackendOptions {
  /** Fresh (absent or empty) directory for all cluster state. */
  dir: string;
  /** Loopback port for RGW; default 7480. Ports 6800–7300 belong to the OSD. */
  port?: number;
  /** Whole start, including a one-off apt-get install of Ceph; default 240 s. */
  timeoutMs?: number;
}

const envJsonSchema = z.object({
  S3STS_DIR: z.string().min(1),
  S3STS_ENDPOINT: z.url(),
  S3STS_REGION: z.string().min(1),
  S3STS_MASTER_ARN: z.string().min(1),
  S3STS_MASTER_ACCESS_KEY_ID: z.string().min(1),
  S3STS_MASTER_SECRET_ACCESS_KEY: z.string().min(1),
  S3STS_ADMIN_ACCESS_KEY_ID: z.string().min(1),
  S3STS_ADMIN_SECRET_ACCESS_KEY: z.string().min(1),
  S3STS_CEPH_CONF: z.string().min(1),
});

const OSD_PORT_RANGE = { min: 6800, max: 7300 } as const;
const DEFAULT_TIMEOUT_MS = 240_000;
const STDERR_TAIL_LINES = 25;

/**
 * Path of `scripts/s3-backend.sh`. Found by walking up from this module, because it runs both from
 * `src/demo/` (vitest, tsx) and from `dist/src/demo/` (compiled), at different depths.
 */
export function backendScriptPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'scripts', 's3-backend.sh');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`scripts/s3-backend.sh not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** Reads the `env.json` a running backend wrote (also used to reuse a backend started elsewhere). */
export async function readBackendFacts(envJsonPath: string): Promise<BackendFacts> {
  const raw: unknown = JSON.parse(await readFile(envJsonPath, 'utf8'));
  const parsed = envJsonSchema.safeParse(raw);
  if (!parsed.success) {
    // The issues name fields only, never values: the file holds secrets.
    const fields = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new Error(`${envJsonPath} is not a backend env.json (bad or missing: ${fields})`);
  }
  const env = parsed.data;
  // The key pairs stay unfrozen: AWS SDK v3 tags the credentials object it is given ($source) and
  // throws on a frozen one.
  return Object.freeze({
    endpoint: env.S3STS_ENDPOINT,
    region: env.S3STS_REGION,
    masterArn: env.S3STS_MASTER_ARN,
    master: { accessKeyId: env.S3STS_MASTER_ACCESS_KEY_ID, secretAccessKey: env.S3STS_MASTER_SECRET_ACCESS_KEY },
    admin: { accessKeyId: env.S3STS_ADMIN_ACCESS_KEY_ID, secretAccessKey: env.S3STS_ADMIN_SECRET_ACCESS_KEY },
    cephConf: env.S3STS_CEPH_CONF,
    dir: env.S3STS_DIR,
  });
}

/**
 * Starts a throwaway single-node Ceph RGW with S3, STS and IAM on 127.0.0.1 (installing the Debian
 * packages first when missing and running as root). Resolves once RGW answers and the users exist.
 */
export async function startLocalBackend(opts: StartLocalBackendOptions): Promise<LocalBackend> {
  const args = ['start', opts.dir];
  if (opts.port !== undefined) args.push(String(opts.port));
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const run = await runScript(args, timeoutMs);
  if (run.code !== 0) {
    if (run.timedOut) {
      // The script may have left daemons running when it was killed mid-start.
      await runScript(['stop', opts.dir], 30_000).catch(() => undefined);
    }
    const why = run.timedOut ? `timed out after ${timeoutMs} ms` : `exited with ${run.code ?? run.signal}`;
    throw new Error(`s3-backend.sh start ${opts.dir} ${why}:\n${tail(run.stderr)}`);
  }
  const facts = await readBackendFacts(join(opts.dir, 'env.json'));
  return Object.freeze({
    ...facts,
    async stop(): Promise<void> {
      const stopped = await runScript(['stop', facts.dir], 60_000);
      if (stopped.code !== 0) throw new Error(`s3-backend.sh stop ${facts.dir} failed:\n${tail(stopped.stderr)}`);
    },
  });
}

/** A free loopback TCP port, never one in Ceph's OSD range (6800–7300). */
export async function pickFreePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await ephemeralPort();
    if (port < OSD_PORT_RANGE.min || port > OSD_PORT_RANGE.max) return port;
  }
  throw new Error('no free loopback port outside 6800-7300 found');
}

function ephemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not read the bound port'))));
    });
  });
}

interface ScriptRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stderr: string;
}

function runScript(args: readonly string[], timeoutMs: number): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    // stdout is ignored: the script prints only the env.json path there; secrets stay in the file.
    const child = spawn('bash', [backendScriptPath(), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-64_000);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, stderr });
    });
  });
}

function tail(text: string): string {
  const lines = text.trimEnd().split('\n');
  return lines.slice(-STDERR_TAIL_LINES).join('\n') || '(no stderr output)';
}
