import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SqliteCheckpointer, startSqliteCheckpointer } from './sqlite-checkpointer.js';

/** Enough rows to pass SQLite's default autocheckpoint (1000 pages of 4 KiB) several times over. */
const ROWS = 6000;
const label = 'x'.repeat(2000);

describe('the SQLite checkpoint thread', () => {
  let dir: string;
  let file: string;
  let main: SqliteDatabase.Database;
  let checkpointer: SqliteCheckpointer | undefined;
  const dbBytes = () => statSync(file).size;
  const walBytes = () => statSync(`${file}-wal`).size;

  /** Commits the rows on the main connection, 100 per transaction, yielding between them as a server does. */
  async function appendRows(): Promise<void> {
    const insert = main.prepare('insert into t (n, label) values (?, ?)');
    const batch = main.transaction((from: number) => {
      for (let n = from; n < from + 100; n++) insert.run(n, label);
    });
    for (let i = 0; i < ROWS; i += 100) {
      batch(i);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rolegate-checkpoint-'));
    file = join(dir, 'store.db');
    main = new SqliteDatabase(file);
    main.pragma('journal_mode = WAL');
    main.exec('create table t (n integer primary key, label text not null)');
  });
  afterEach(async () => {
    await checkpointer?.close();
    checkpointer = undefined;
    main.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves checkpoints to no commit while it runs: the rows stay in the WAL until it copies them', async () => {
    checkpointer = startSqliteCheckpointer({ main, everyMs: 60_000 });
    const before = dbBytes();
    await appendRows();
    // No commit copied anything into the database file; the WAL holds all ~12 MB.
    expect(dbBytes()).toBe(before);
    expect(walBytes()).toBeGreaterThan(ROWS * label.length);
    expect(main.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
  });

  it('copies the WAL into the database on its own thread, and hands checkpoints back when it stops', async () => {
    checkpointer = startSqliteCheckpointer({ main, everyMs: 20 });
    await appendRows();
    const deadline = Date.now() + 10_000;
    // Checkpoints also ran while rows were still coming in: wait for one after the last, and for its report.
    const copiedAll = () => dbBytes() > ROWS * label.length && checkpointer?.lastCheckpoint().checkpointed !== 0;
    while (!copiedAll() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(checkpointer.lastCheckpoint().checkpointed).toBeGreaterThan(0);
    expect(dbBytes()).toBeGreaterThan(ROWS * label.length);
    expect(main.prepare('select count(*) from t').pluck().get()).toBe(ROWS);
    await checkpointer.close();
    expect(main.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  });
});
