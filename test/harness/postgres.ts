import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { registerText, secretScanActive } from './secret-registry.js';

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
      // What the run left at rest on PostgreSQL, for the whole-suite secret scan: secrets there must be sealed.
      if (secretScanActive()) registerText('postgres-data', await dumpTables(url.toString()));
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

/** Every row of every table in the database's public schema, as JSON lines. */
async function dumpTables(databaseUrl: string): Promise<string> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const tables = await c.query<{ name: string }>(
      "select table_name as name from information_schema.tables where table_schema = 'public' order by 1",
    );
    const lines: string[] = [];
    for (const { name } of tables.rows) {
      const rows = await c.query(`select * from "${name.replaceAll('"', '""')}"`);
      for (const row of rows.rows) lines.push(`${name} ${JSON.stringify(row)}`);
    }
    return lines.join('\n');
  } finally {
    await c.end();
  }
}
