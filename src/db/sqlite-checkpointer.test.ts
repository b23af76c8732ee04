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

  /**
   * Commits rows on the main connection, `perCommit` per transaction, yielding between them as a server does, or
   * pausing for a millisecond as a server busy with other work; calls `afterEach` after each commit.
   */
  async function appendRows(
    rows = ROWS,
    pace: { perCommit: number; pauseMs?: number; afterEach?: () => void } = { perCommit: 100 },
  ): Promise<void> {
    const insert = main.prepare('insert into t (n, label) values (?, ?)');
    const batch = main.transaction((from: number) => {
      for (let n = from; n < from + pace.perCommit; n++) insert.run(n, label);
    });
    for (let i = 0; i < rows; i += pace.perCommit) {
      batch(i);
      pace.afterEach?.();
      await new Promise((resolve) =>
        pace.pauseMs === undefined ? setImmediate(resolve) : setTimeout(resolve, pace.pauseMs),
      );
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

  it('keeps the WAL bounded under writes that never pause: the main connection finishes the copy and the log restarts', async () => {
    const restartAfterFrames = 256; // 1 MiB of 4 KiB pages
    checkpointer = startSqliteCheckpointer({ main, everyMs: 5, restartAfterFrames, tailFrames: 64 });
    let largestWal = 0;
    // About 16 MB of rows, sixteen times the bound, a commit every millisecond or so: as in a busy server, the log
    // never has an idle moment to restart by itself.
    const rows = 8000;
    await appendRows(rows, {
      perCommit: 10,
      pauseMs: 1,
      afterEach: () => {
        largestWal = Math.max(largestWal, walBytes());
      },
    });
    expect(checkpointer.tailsFinished()).toBeGreaterThan(0);
    // The bound, plus what commits add while the thread copies; far below the 16 MB written.
    expect(largestWal).toBeLessThan(4 * restartAfterFrames * 4096);
    expect(main.prepare('select count(*) from t').pluck().get()).toBe(rows);
    expect(main.pragma('integrity_check', { simple: true })).toBe('ok');
  });
});
