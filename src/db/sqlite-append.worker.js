// @ts-check
// The SQLite append thread: its own connection to the store's file, one prepared insert, one transaction per
// batch. Plain JavaScript so that the same file runs from dist/ and from the sources under the test runner.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

/** @typedef {{ modulePath: string, file: string, sql: string, busyTimeoutMs: number, autoCheckpoint: boolean }} AppendWorkerData */
/** @typedef {{ id: number, rows: Record<string, unknown>[] }} AppendRequest */

const data = /** @type {AppendWorkerData} */ (workerData);
const port = parentPort;
if (port === null) throw new Error('sqlite-append.worker.js must run as a worker thread');

/** @type {import('better-sqlite3')} */
const Database = createRequire(import.meta.url)(data.modulePath);
const db = new Database(data.file, { fileMustExist: true });
// Per-connection settings: the same durability as the main connection (WAL, no fsync per commit).
db.pragma('synchronous = NORMAL');
db.pragma(`busy_timeout = ${Math.trunc(data.busyTimeoutMs)}`);
if (!data.autoCheckpoint) db.pragma('wal_autocheckpoint = 0');
const insert = db.prepare(data.sql);
const insertAll = db.transaction((/** @type {Record<string, unknown>[]} */ rows) => {
  for (const row of rows) insert.run(row);
});

port.on('message', (/** @type {AppendRequest | 'close'} */ message) => {
  if (message === 'close') {
    db.close();
    port.close();
    return;
  }
  try {
    insertAll(message.rows);
    port.postMessage({ id: message.id });
  } catch (error) {
    const e = /** @type {{ message?: unknown, code?: unknown }} */ (error ?? {});
    port.postMessage({ id: message.id, error: { message: String(e.message ?? error), code: e.code } });
  }
});
