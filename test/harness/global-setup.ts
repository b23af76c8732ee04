import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { type LocalBackend, pickFreePort, readBackendFacts, startLocalBackend } from '../../src/demo/local-backend.js';
import './backend-context.js';

/**
 * Starts one throwaway Ceph RGW (S3+STS+IAM) for every file of the integ project and provides its facts
 * as `s3Backend`. `ROLEGATE_TEST_S3_ENV=/path/env.json` reuses an already running backend instead (it is
 * left running). A backend that cannot start fails the run: integ tests never skip silently.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const reuse = process.env.ROLEGATE_TEST_S3_ENV;
  if (reuse !== undefined && reuse !== '') {
    project.provide('s3Backend', await readBackendFacts(reuse));
    return async () => {};
  }

  const dir = await mkdtemp(join(tmpdir(), 'rolegate-s3-'));
  const startedAt = performance.now();
  let backend: LocalBackend;
  try {
    backend = await startLocalBackend({ dir, port: await pickFreePort() });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `S3+STS backend (Ceph RGW) failed to start: ${reason}\n(daemon logs, when start got that far: ${dir}/log)`,
      {
        cause: err,
      },
    );
  }
  console.info(
    `[integ] S3+STS backend at ${backend.endpoint} ready in ${Math.round(performance.now() - startedAt)} ms`,
  );
  const { stop: _stop, ...facts } = backend;
  project.provide('s3Backend', facts);

  // stop() removes dir; when it fails, dir stays for a look at the logs.
  return () => backend.stop();
}
