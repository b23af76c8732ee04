import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type App, createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { type DemoTokens, provisionDemo } from '../../src/demo/demo-scenario.js';
import type { BackendFacts } from '../../src/demo/local-backend.js';
import { type DemoSeed, seedDemo } from '../../src/demo/seed.js';
import { backendFromContext } from './backend-context.js';
import { registerFilesUnder, registerSecrets, registerText } from './secret-registry.js';

export interface ApiResponse {
  readonly status: number;
  readonly text: string;
  readonly headers: Headers;
  /** The body parsed as JSON (undefined when it is not JSON). */
  readonly json: unknown;
}

export interface TestRolegate {
  readonly url: string;
  /** The temporary data directory (store, vault key, file sinks). */
  readonly dir: string;
  readonly app: App;
  readonly backend: BackendFacts;
  readonly seed: DemoSeed;
  readonly tokens: DemoTokens;
  /** Every log line rolegate wrote, for secret-hygiene assertions. */
  readonly logs: string[];
  /** Every response body the tests received, for secret-hygiene assertions. */
  readonly bodies: string[];
  /** Secrets that must never appear in logs or error bodies; tests add the ones they come across. */
  readonly secrets: Set<string>;
  api(
    token: string | undefined,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse>;
  close(): Promise<void>;
}

/** A unique lower-case suffix: files of the integ project share one RGW and run in parallel. */
export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}

/**
 * The body of an assume-role connection on the seeded bucket's `sales/`, role `${adminProperty:salesRole}`, usable by
 * everyone; `fields` adds or overrides the rest (name, who may read details or sign, read-only …).
 */
export function salesConnectionBody(rg: TestRolegate, fields: Record<string, unknown>): Record<string, unknown> {
  return {
    bucket: rg.seed.bucket,
    path: 'sales/',
    region: rg.backend.region,
    endpoint: rg.backend.endpoint,
    forcePathStyle: true,
    credentials: { mode: 'assume-role', roleArn: '${adminProperty:salesRole}', durationSeconds: 3600 },
    usableBy: 'everyone',
    allowedRoles: ['arn:aws:iam:::role/*'],
    ...fields,
  };
}

/**
 * Starts a real rolegate (own SQLite store and vault key in a temp dir) over the shared RGW, seeded with
 * the demo data in a bucket of its own and provisioned with the demo users and connections.
 * Master credentials come from the process environment, as in production.
 */
export async function startTestRolegate(options: { config?: Record<string, unknown> } = {}): Promise<TestRolegate> {
  const backend = backendFromContext();
  const suffix = uniqueSuffix();
  const seed = await seedDemo(backend, { bucket: `rg-${suffix}`, roleNamePrefix: `rg-${suffix}-` });
  process.env.AWS_ACCESS_KEY_ID = backend.master.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = backend.master.secretAccessKey;
  process.env.AWS_REGION = backend.region;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;

  const dir = await mkdtemp(join(tmpdir(), 'rolegate-test-'));
  const logs: string[] = [];
  const logDestination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString('utf8'));
      callback();
    },
  });
  const config = parseConfig({ dataDir: dir, server: { port: 0 }, log: { level: 'debug' }, ...options.config });
  const vaultKey = randomBytes(32).toString('hex');
  const app = await createApp({
    config,
    logDestination,
    env: { ROLEGATE_SECRET_KEY: vaultKey },
  });
  const url = await app.http.listen({ host: '127.0.0.1', port: 0 });
  const tokens = await provisionDemo(app.services, backend, seed);
  const secrets = new Set<string>([
    vaultKey,
    backend.master.secretAccessKey,
    backend.admin.secretAccessKey,
    tokens.admin,
    tokens.alice,
    tokens.bob,
    tokens.carol,
  ]);
  const bodies: string[] = [];
  // Error bodies, for the whole-suite secret scan (bodies that deliberately hand a secret out are 2xx).
  const errorBodies: string[] = [];

  return {
    url,
    dir,
    app,
    backend,
    seed,
    tokens,
    logs,
    bodies,
    secrets,
    async api(token, method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (token !== undefined) (init.headers as Record<string, string>).authorization = `Bearer ${token}`;
      if (body !== undefined) {
        (init.headers as Record<string, string>)['content-type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
      const res = await fetch(`${url}${path}`, init);
      const text = await res.text();
      bodies.push(text);
      if (res.status >= 400) errorBodies.push(text);
      let json: unknown;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, text, headers: res.headers, json };
    },
    async close() {
      // Every file that uses a test rolegate also proves that no secret it saw reached the audit trail.
      await app.trail.flush();
      const rows = await app.db
        .selectFrom('audit_events')
        .select('event')
        .execute()
        .catch(() => []);
      await app.close().catch(() => undefined);
      const stored = rows.map((r) => r.event).join('\n');
      registerSecrets(secrets);
      registerText('audit', stored);
      registerText('logs', logs.join(''));
      registerText('error-bodies', errorBodies.join('\n'));
      // What it left at rest (the SQLite file and its WAL, audit files): secrets there must be sealed or hashed.
      await registerFilesUnder('data-dir', dir);
      const leaked = [...secrets].filter((secret) => secret.length >= 8 && stored.includes(secret)).length;
      await rm(dir, { recursive: true, force: true });
      if (leaked > 0) throw new Error(`${leaked} secret(s) reached the audit trail`);
    },
  };
}

/**
 * Asserts that no known secret occurs in any log line, and none in a response body other than the
 * ones that deliberately hand a secret out (listed in `allowedIn`).
 */
export function findLeaks(rg: TestRolegate, allowedBodies: (body: string) => boolean = () => false): string[] {
  // Leaks are reported by position only: a failing test must not print the secret it found.
  const leaks: string[] = [];
  [...rg.secrets].forEach((secret, s) => {
    if (secret.length < 8) return;
    rg.logs.forEach((line, i) => {
      if (line.includes(secret)) leaks.push(`log line ${i} contains secret #${s}`);
    });
    rg.bodies.forEach((body, i) => {
      if (body.includes(secret) && !allowedBodies(body)) leaks.push(`response body ${i} contains secret #${s}`);
    });
  });
  return leaks;
}
