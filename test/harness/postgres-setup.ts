import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import './postgres.js';

const run = promisify(execFile);
const SCRIPT = resolve(import.meta.dirname, '../../scripts/postgres.sh');

/**
 * Starts one throwaway PostgreSQL 15 (scripts/postgres.sh: Debian's packages, 127.0.0.1, pids recorded) for the
 * project and provides its admin URL as `postgresUrl`; each test file makes databases of its own on it.
 * `ROLEGATE_TEST_POSTGRES_URL` reuses a running server instead. A server that cannot start fails the run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const reuse = process.env.ROLEGATE_TEST_POSTGRES_URL;
  if (reuse !== undefined && reuse !== '') {
    project.provide('postgresUrl', reuse);
    return async () => {};
  }
  const dialects = (process.env.ROLEGATE_TEST_DIALECTS ?? 'sqlite,postgres').split(',');
  if (!dialects.includes('postgres')) {
    project.provide('postgresUrl', '');
    return async () => {};
  }
  const dir = await mkdtemp(join(tmpdir(), 'rolegate-pg-'));
  try {
    await run('bash', [SCRIPT, 'start', dir], { timeout: 300_000 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    throw new Error(`PostgreSQL failed to start (scripts/postgres.sh start ${dir}):\n${stderr}`, { cause: err });
  }
  project.provide('postgresUrl', (await readFile(join(dir, 'url'), 'utf8')).trim());
  return async () => {
    await run('bash', [SCRIPT, 'stop', dir], { timeout: 60_000 });
  };
}
