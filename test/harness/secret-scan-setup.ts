import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { prepareRunDir, scanRunDir } from './secret-registry.js';

/**
 * The whole-suite secret scan of the integ project: gives every worker a run-specific registry folder, and once
 * every file has run, scans every captured log line, audit record, error body and child-process output for every
 * secret issued or stored during the run. Any hit fails the run (reported by position, never by value).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'rolegate-secrets-'));
  prepareRunDir(dir);
  project.provide('secretRunDir', dir);
  return async () => {
    const report = scanRunDir(dir);
    console.info(
      `[integ] secret scan: ${report.secrets} secret(s) × ${report.texts} captured text(s) ` +
        `(${(report.bytes / 1024 / 1024).toFixed(1)} MiB): ${report.hits.length} hit(s)`,
    );
    if (report.hits.length > 0) {
      // Vitest only logs an error thrown by a global teardown ("error during close") and still exits 0: the exit
      // code is what fails the run, in CI too. The folder stays for a look; the report names files and lines only.
      process.exitCode = 1;
      throw new Error(
        `secret scan: ${report.hits.length} secret(s) found in captured text:\n${report.hits.join('\n')}`,
      );
    }
    await rm(dir, { recursive: true, force: true });
  };
}
