// @ts-check
// The SQLite checkpoint thread: its own connection to the store's file, a PASSIVE checkpoint every `everyMs`.
// Plain JavaScript so that the same file runs from dist/ and from the sources under the test runner.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

/** @typedef {{ modulePath: string, file: string, everyMs: number, busyTimeoutMs: number }} CheckpointWorkerData */

const data = /** @type {CheckpointWorkerData} */ (workerData);
const port = parentPort;
if (port === null) throw new Error('sqlite-checkpoint.worker.js must run as a worker thread');

/** @type {import('better-sqlite3')} */
const Database = createRequire(import.meta.url)(data.modulePath);
const db = new Database(data.file, { fileMustExist: true });
db.pragma(`busy_timeout = ${Math.trunc(data.busyTimeoutMs)}`);
// This connection only checkpoints; it must not also do so as a side effect of a commit of its own.
db.pragma('wal_autocheckpoint = 0');

let reported = { log: 0, checkpointed: 0 };
const timer = setInterval(() => {
  // PASSIVE copies what no reader still needs and never waits for, or blocks, the writers.
  const [result] = /** @type {{ busy: number, log: number, checkpointed: number }[]} */ (
    db.pragma('wal_checkpoint(PASSIVE)')
  );
  // Only news wakes the main thread: an idle store's checkpoints find the same (empty) WAL every time.
  if (result === undefined || (result.log === reported.log && result.checkpointed === reported.checkpointed)) return;
  reported = { log: result.log, checkpointed: result.checkpointed };
  port.postMessage(reported);
}, data.everyMs);

port.on('message', (/** @type {'close'} */ message) => {
  if (message !== 'close') return;
  clearInterval(timer);
  db.close();
  port.close();
});
