import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteAppendError, type SqliteAppendThread, startSqliteAppendThread } from './sqlite-append-thread.js';

const SQL = 'insert into t (n, label) values (@n, @label)';

describe('the SQLite append thread', () => {
  let dir: string;
  let main: SqliteDatabase.Database;
  let thread: SqliteAppendThread | undefined;
  const labels = () => main.prepare('select label from t order by n').pluck().all();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rolegate-append-'));
    main = new SqliteDatabase(join(dir, 'store.db'));
    main.pragma('journal_mode = WAL');
    main.exec('create table t (n integer primary key, label text not null)');
  });
  afterEach(async () => {
    await thread?.close();
    thread = undefined;
    main.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('commits each batch before it resolves, visible to the main connection, in the order sent', async () => {
    thread = startSqliteAppendThread({ file: join(dir, 'store.db'), sql: SQL });
    const sent = Array.from({ length: 20 }, (_, i) =>
      thread?.append([
        { n: 2 * i, label: `a${i}` },
        { n: 2 * i + 1, label: `b${i}` },
      ]),
    );
    await Promise.all(sent);
    expect(labels()).toEqual(Array.from({ length: 20 }, (_, i) => [`a${i}`, `b${i}`]).flat());
  });

  it('writes a batch all or nothing, and says why with SQLite’s code', async () => {
    thread = startSqliteAppendThread({ file: join(dir, 'store.db'), sql: SQL });
    await thread.append([{ n: 1, label: 'first' }]);
    const failed = thread.append([
      { n: 2, label: 'would be half-written' },
      { n: 1, label: 'duplicate key' },
    ]);
    await expect(failed).rejects.toBeInstanceOf(SqliteAppendError);
    await expect(failed).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    // The thread goes on after a refused batch.
    await thread.append([{ n: 3, label: 'third' }]);
    expect(labels()).toEqual(['first', 'third']);
  });

  it('finishes what was sent before close, then refuses new batches', async () => {
    thread = startSqliteAppendThread({ file: join(dir, 'store.db'), sql: SQL });
    const inFlight = thread.append([{ n: 1, label: 'sent before close' }]);
    await thread.close();
    await expect(inFlight).resolves.toBeUndefined();
    await expect(thread.append([{ n: 2, label: 'late' }])).rejects.toThrow(/closing/);
    expect(labels()).toEqual(['sent before close']);
  });

  it('fails the batches of a thread that could not open the store, and tries again on the next append', async () => {
    thread = startSqliteAppendThread({ file: join(dir, 'absent', 'store.db'), sql: SQL });
    await expect(thread.append([{ n: 1, label: 'x' }])).rejects.toBeInstanceOf(SqliteAppendError);
    await expect(thread.append([{ n: 1, label: 'x' }])).rejects.toBeInstanceOf(SqliteAppendError);
  });
});
