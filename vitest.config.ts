import { defineConfig } from 'vitest/config';

// The AWS SDK warns once per process that later releases need Node 22; it is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'web/src/**/*.test.ts'],
          exclude: ['src/**/*.integ.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integ',
          include: ['src/**/*.integ.test.ts', 'test/**/*.test.ts'],
          exclude: ['test/stores/**'],
          environment: 'node',
          // Teardowns run in reverse: the secret scan's last, so that a scan that fails the run does so after
          // RGW and PostgreSQL were stopped (a teardown that throws skips the ones after it).
          globalSetup: [
            'test/harness/secret-scan-setup.ts',
            'test/harness/global-setup.ts',
            'test/harness/postgres-setup.ts',
          ],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // One shared RGW; files run in parallel workers but each uses its own bucket/roles/users.
          fileParallelism: true,
        },
      },
      {
        test: {
          // Every store on SQLite and PostgreSQL (ROLEGATE_TEST_DIALECTS narrows), on a throwaway PostgreSQL.
          name: 'store',
          include: ['test/stores/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/harness/postgres-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
