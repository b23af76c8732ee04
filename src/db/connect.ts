import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { invalidInput } from '../errors/errors.js';
import { migrateToLatest } from './migrations.js';
import type { Database } from './tables.js';

export type Db = Kysely<Database>;

/**
 * Opens the store named by `url` (`sqlite:<path>` or `sqlite::memory:`) and migrates it.
 * PostgreSQL (`postgres://…`) plugs in here with Kysely's PostgresDialect; nothing above this module changes.
 */
export async function connectDatabase(url: string): Promise<Db> {
  if (!url.startsWith('sqlite:')) {
    throw invalidInput(
      'config.database_unsupported',
      'database.url must start with sqlite: (PostgreSQL is not available yet)',
    );
  }
  const location = url.slice('sqlite:'.length);
  let sqlite: SqliteDatabase.Database;
  if (location === ':memory:') {
    sqlite = new SqliteDatabase(':memory:');
  } else {
    const file = resolve(location);
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    sqlite = new SqliteDatabase(file);
    // WAL keeps readers unblocked by the writer; a crash never leaves a half-written transaction visible.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
  }
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrateToLatest(db);
  return db;
}

/** True when a database error is a uniqueness violation (both SQLite and PostgreSQL spellings). */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}
