// @ts-check
// The SQLite checkpoint thread: its own connection to the store's file, a PASSIVE checkpoint every `everyMs`.
// Plain JavaScript so that the same file runs from dist/ and from the sources under the test runner.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

/** @typedef {{ modulePath: string, file: string, everyMs: number, busyTimeoutMs: number, tailFrames: number }} CheckpointWorkerData */
/** @typedef {{ busy: number, log: number, checkpointed: number }} CheckpointResult */

const data = /** @type {CheckpointWorkerData} */ (workerData);
const port = parentPort;
if (port === null) throw new Error('sqlite-checkpoint.worker.js must run as a worker thread');

/** Passes per tick at most: each copies what commits added during the one before. */
const MAX_PASSES = 4;

/** @type {import('better-sqlite3')} */
const Database = createRequire(import.meta.url)(data.modulePath);
const db = new Database(data.file, { fileMustExist: true });
db.pragma(`busy_timeout = ${Math.trunc(data.busyTimeoutMs)}`);
// This connection only checkpoints; it must not also do so as a side effect of a commit of its own.
db.pragma('wal_autocheckpoint = 0');

const checkpoint = () => {
  // PASSIVE copies what no reader still needs and never waits for, or blocks, the writers.
  const [result] = /** @type {CheckpointResult[]} */ (db.pragma('wal_checkpoint(PASSIVE)'));
  return result;
};

let reported = { log: 0, checkpointed: 0 };
const timer = setInterval(() => {
  let result = checkpoint();
  // Under steady writes a pass never ends level with the log: commits add frames while it copies. Further passes
  // shrink that tail, so that the main connection can finish it cheaply and restart the log (see the main side).
  for (let pass = 1; pass < MAX_PASSES && result !== undefined && result.busy === 0; pass++) {
    const tail = result.log - result.checkpointed;
    if (tail <= data.tailFrames) break;
    const next = checkpoint();
    if (next === undefined || next.log - next.checkpointed >= tail) break;
    result = next;
  }
  // Only news wakes the main thread: an idle store's checkpoints find the same (empty) WAL every time, and a
  // checkpoint that could not run (another one was running) found nothing.
  if (result === undefined || result.busy !== 0) return;
  if (result.log === reported.log && result.checkpointed === reported.checkpointed) return;
  reported = { log: result.log, checkpointed: result.checkpointed };
  port.postMessage(reported);
}, data.everyMs);

port.on('message', (/** @type {'close'} */ message) => {
  if (message !== 'close') return;
  clearInterval(timer);
  db.close();
  port.close();
});
