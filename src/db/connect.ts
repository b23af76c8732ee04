import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresAdapter, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { invalidInput } from '../errors/errors.js';
import { migrateToLatest } from './migrations.js';
import type { Database } from './tables.js';

export type Db = Kysely<Database>;

/** Which SQL the store speaks; the few statements that differ branch on it. */
export type DialectName = 'sqlite' | 'postgres';

export function dialectOf(db: Kysely<unknown> | Db): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\//.test(url);

/** int8 (count(*), bigint columns) as a JS number: every such value here is far below 2^53. */
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * Opens the store named by `url` (`sqlite:<path>`, `sqlite::memory:` or `postgres://…`) and migrates it.
 */
export async function connectDatabase(url: string, options: { poolSize?: number } = {}): Promise<Db> {
  if (isPostgresUrl(url)) {
    // A query waits at most 10 s for a connection (a free one, or a new one to an unreachable server), then fails.
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 20,
      types: pgTypes,
      connectionTimeoutMillis: 10_000,
    });
    // A connection that dies (server restarted, network cut) is an 'error' event — on the pool when idle, on the
    // client while a query holds it — fatal to the process when unheard. The query in flight fails by itself, the
    // pool drops the client, the next query connects anew. Not logged: node-postgres attaches the client,
    // connection password included, to the error.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    try {
      await migrateToLatest(db);
    } catch (e) {
      await db.destroy();
      throw e;
    }
    return db;
  }
  if (!url.startsWith('sqlite:')) {
    throw invalidInput('config.database_unsupported', 'database.url must start with sqlite: or postgres://');
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
  sqliteHandles.set(db, sqlite);
  await migrateToLatest(db);
  return db;
}

const sqliteHandles = new WeakMap<Db, SqliteDatabase.Database>();

/**
 * The better-sqlite3 handle behind a SQLite store, for the one hot write path (audit appends) that uses a
 * prepared statement directly instead of building a query per batch. Undefined on PostgreSQL.
 */
export function sqliteHandleOf(db: Db): SqliteDatabase.Database | undefined {
  return sqliteHandles.get(db);
}

/** True when a database error is a uniqueness violation (both SQLite and PostgreSQL spellings). */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}
