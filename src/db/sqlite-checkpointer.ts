import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';

/**
 * Checkpoints a WAL-mode SQLite file from a thread of its own, and turns off the checkpoints commits would
 * otherwise run. A checkpoint copies the WAL into the database and fsyncs both; run inside a commit (SQLite's
 * default, every 1000 pages) it held an audit batch, and every request waiting on it, for up to 7 ms: the whole
 * p99 of cached credential issuance. PASSIVE checkpoints never block writers, so commits stay sub-millisecond
 * and never wait on the disk, on whichever thread they run.
 *
 * The log restarts (is written from its start again) only when a write begins with every frame copied. Under
 * steady writes the thread never sees that: commits add frames while it copies. The WAL then grew without bound
 * (1 GiB in 5 s in a write loop, 350 MB in a 5 s benchmark run), and each commit that grew it cost twice the CPU
 * of one that overwrote it. So, once the log is long, the main connection copies the few frames the thread left
 * and the next write restarts the log.
 */
export interface SqliteCheckpointer {
  /** WAL frames the last checkpoint found and copied (0 before the first one). */
  lastCheckpoint(): { readonly log: number; readonly checkpointed: number };
  /** How many times the main connection copied the last frames so that the log could restart. */
  tailsFinished(): number;
  /** Stops the thread and gives checkpointing back to the main connection's commits. */
  close(): Promise<void>;
}

export interface SqliteCheckpointerOptions {
  /** The main connection; its commits stop checkpointing while the thread runs. */
  readonly main: SqliteDatabase.Database;
  readonly everyMs?: number;
  readonly busyTimeoutMs?: number;
  /** A log this long (in frames, one page each) is restarted as soon as the thread has copied nearly all of it. */
  readonly restartAfterFrames?: number;
  /** What "nearly" means: the frames the main connection copies itself, at a cost of two fsyncs (about 1 ms). */
  readonly tailFrames?: number;
}

/** A row of `PRAGMA wal_checkpoint`: frames in the log and frames copied, -1 each when busy. */
interface CheckpointResult {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

const WORKER_URL = new URL('./sqlite-checkpoint.worker.js', import.meta.url);
const BETTER_SQLITE3 = createRequire(import.meta.url).resolve('better-sqlite3');
/** SQLite's own default, restored when the thread is gone. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;
/** 64 MiB of 4 KiB pages: at the heaviest audit load measured, about one restart a second. */
const DEFAULT_RESTART_AFTER_FRAMES = 16_384;
const DEFAULT_TAIL_FRAMES = 256;

export function startSqliteCheckpointer(options: SqliteCheckpointerOptions): SqliteCheckpointer {
  const { main } = options;
  let last = { log: 0, checkpointed: 0 };
  let closing: Promise<void> | undefined;
  let exited = false;
  let tailsFinished = 0;
  const restartAfterFrames = options.restartAfterFrames ?? DEFAULT_RESTART_AFTER_FRAMES;
  const tailFrames = options.tailFrames ?? DEFAULT_TAIL_FRAMES;
  main.pragma('wal_autocheckpoint = 0');
  // A burst the thread could not keep up with leaves a long file behind; a restart cuts it back to twice the bound.
  const pageSize = Number(main.pragma('page_size', { simple: true }));
  main.pragma(`journal_size_limit = ${2 * restartAfterFrames * pageSize}`);
  const worker = new Worker(WORKER_URL, {
    workerData: {
      modulePath: BETTER_SQLITE3,
      file: main.name,
      everyMs: options.everyMs ?? 250,
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
      tailFrames,
    },
  });
  worker.unref();
  worker.on('message', (message: { log: number; checkpointed: number }) => {
    last = message;
    if (message.log < restartAfterFrames || message.log - message.checkpointed > tailFrames) return;
    // Inside a transaction (an async one of the query builder's) the checkpoint could not copy its own frames.
    if (!main.open || main.inTransaction) return;
    const [result] = main.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[];
    if (result !== undefined && result.busy === 0 && result.log === result.checkpointed) tailsFinished++;
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
    tailsFinished: () => tailsFinished,
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
