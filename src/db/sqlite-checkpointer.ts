import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';

/**
 * Checkpoints a WAL-mode SQLite file from a thread of its own, and turns off the checkpoints commits would
 * otherwise run. A checkpoint copies the WAL into the database and fsyncs both; run inside a commit (SQLite's
 * default, every 1000 pages) it held an audit batch, and every request waiting on it, for up to 7 ms: the whole
 * p99 of cached credential issuance. PASSIVE checkpoints never block writers, so commits stay sub-millisecond
 * and never wait on the disk, on whichever thread they run.
 */
export interface SqliteCheckpointer {
  /** WAL frames the last checkpoint found and copied (0 before the first one). */
  lastCheckpoint(): { readonly log: number; readonly checkpointed: number };
  /** Stops the thread and gives checkpointing back to the main connection's commits. */
  close(): Promise<void>;
}

export interface SqliteCheckpointerOptions {
  /** The main connection; its commits stop checkpointing while the thread runs. */
  readonly main: SqliteDatabase.Database;
  readonly everyMs?: number;
  readonly busyTimeoutMs?: number;
}

const WORKER_URL = new URL('./sqlite-checkpoint.worker.js', import.meta.url);
const BETTER_SQLITE3 = createRequire(import.meta.url).resolve('better-sqlite3');
/** SQLite's own default, restored when the thread is gone. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

export function startSqliteCheckpointer(options: SqliteCheckpointerOptions): SqliteCheckpointer {
  const { main } = options;
  let last = { log: 0, checkpointed: 0 };
  let closing: Promise<void> | undefined;
  let exited = false;
  main.pragma('wal_autocheckpoint = 0');
  const worker = new Worker(WORKER_URL, {
    workerData: {
      modulePath: BETTER_SQLITE3,
      file: main.name,
      everyMs: options.everyMs ?? 250,
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
    },
  });
  worker.unref();
  worker.on('message', (message: { log: number; checkpointed: number }) => {
    last = message;
  });
  // Should the thread fail, the WAL must not grow without bound: commits checkpoint again, as by default.
  const fallBack = () => {
    if (main.open) main.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
  };
  worker.on('error', fallBack);
  worker.on('exit', () => {
    exited = true;
    fallBack();
  });
  return {
    lastCheckpoint: () => last,
    close() {
      closing ??= exited
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            worker.once('exit', () => resolve());
            // Unreferenced, a thread being waited for would let the process end before its caller goes on.
            worker.ref();
            worker.postMessage('close');
          });
      return closing;
    },
  };
}
