import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { connectDatabase, type Db } from '../../src/db/connect.js';
import type { Database } from '../../src/db/tables.js';
import { createTestDatabase, type TestDialect } from '../harness/postgres.js';

const TABLES: ReadonlyArray<keyof Database> = [
  'users',
  'groups',
  'group_members',
  'user_properties',
  'api_tokens',
  'connections',
  'vault_secrets',
  'audit_events',
  'audit_anchor',
  'exec_tokens',
  'session_generations',
  'issued_role_sessions',
  'session_revocations',
  'gateway_keys',
  'datasets',
  'dataset_writes',
  'dataset_write_files',
  'catalog_bindings',
  'shared_role_sessions',
  'user_sessions',
  'user_idp_roles',
  'mounts',
  'oidc_identities',
  'session_web_identities',
  'pending_uploads',
  'login_states',
  'sts_budgets',
];

/**
 * An empty, migrated store of `dialect` for each test of the calling describe: a fresh in-memory SQLite, or
 * one PostgreSQL database per describe (on the project's throwaway server) emptied before each test.
 */
export function useStore(dialect: TestDialect): { readonly db: Db } {
  let db: Db | undefined;
  let drop: (() => Promise<void>) | undefined;
  if (dialect === 'postgres') {
    beforeAll(async () => {
      const created = await createTestDatabase();
      drop = created.drop;
      db = await connectDatabase(created.url, { poolSize: 5 });
    });
    beforeEach(async () => {
      if (db !== undefined) await sql.raw(`truncate table ${TABLES.join(', ')} cascade`).execute(db);
    });
    afterAll(async () => {
      await db?.destroy();
      await drop?.();
    });
  } else {
    beforeEach(async () => {
      await db?.destroy();
      db = await connectDatabase('sqlite::memory:');
    });
    afterAll(async () => {
      await db?.destroy();
    });
  }
  return {
    get db() {
      if (db === undefined) throw new Error('store not open yet');
      return db;
    },
  };
}
