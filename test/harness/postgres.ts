import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the throwaway PostgreSQL started by `postgres-setup.ts` ('' when PostgreSQL is not tested). */
    postgresUrl: string;
  }
}

export type TestDialect = 'sqlite' | 'postgres';

/** The dialects store tests run on: `ROLEGATE_TEST_DIALECTS=sqlite,postgres` (the default) narrows them. */
export function testDialects(): TestDialect[] {
  const wanted = (process.env.ROLEGATE_TEST_DIALECTS ?? 'sqlite,postgres').split(',').map((d) => d.trim());
  const known = wanted.filter((d): d is TestDialect => d === 'sqlite' || d === 'postgres');
  if (known.length === 0) throw new Error(`ROLEGATE_TEST_DIALECTS names no known dialect: ${wanted.join(',')}`);
  return known;
}

function adminUrl(): string {
  const url = inject('postgresUrl');
  if (url === undefined || url === '') {
    throw new Error('no PostgreSQL provided: run this file in a vitest project whose globalSetup starts one');
  }
  return url;
}

/** A new empty database on the shared test server; `drop()` removes it. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = adminUrl();
  const name = `rg_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
