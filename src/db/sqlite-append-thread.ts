import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Inserts batches of rows into a SQLite file from a thread of its own, each batch in one transaction.
 *
 * The audit trail appends on every credential and data request; on the main thread those inserts (and the WAL
 * checkpoints with their fsyncs that some commits trigger) took a fifth of the server's CPU and all of its tail
 * latency. A second connection to the same WAL file writes beside the main one; SQLite serialises the writers.
 */
export interface SqliteAppendThread {
  /** Resolves once the rows are committed; rejects with SQLite's error (its `code` kept) when they were not. */
  append(rows: readonly Readonly<Record<string, unknown>>[]): Promise<void>;
  /** Finishes the batches already sent, then closes the thread's connection. */
  close(): Promise<void>;
}

export interface SqliteAppendThreadOptions {
  /** The database file (not `:memory:`, which another connection cannot see). */
  readonly file: string;
  /** One INSERT with named parameters (`@column`), run once per row. */
  readonly sql: string;
  readonly busyTimeoutMs?: number;
  /** False when a checkpoint thread runs (see sqlite-checkpointer.ts): the appends' commits then never checkpoint. */
  readonly autoCheckpoint?: boolean;
}

interface Reply {
  readonly id: number;
  readonly error?: { readonly message: string; readonly code?: unknown };
}

interface Pending {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

const WORKER_URL = new URL('./sqlite-append.worker.js', import.meta.url);
const BETTER_SQLITE3 = createRequire(import.meta.url).resolve('better-sqlite3');

/** An error from the append thread, with the SQLite code (`SQLITE_BUSY`, `SQLITE_CONSTRAINT_PRIMARYKEY` …). */
export class SqliteAppendError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: unknown) {
    super(message);
    this.name = 'SqliteAppendError';
    this.code = typeof code === 'string' ? code : undefined;
  }
}

export function startSqliteAppendThread(options: SqliteAppendThreadOptions): SqliteAppendThread {
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let worker: Worker | undefined;
  let closing: Promise<void> | undefined;

  function failAll(error: Error): void {
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  }

  function start(): Worker {
    const w = new Worker(WORKER_URL, {
      workerData: {
        modulePath: BETTER_SQLITE3,
        file: options.file,
        sql: options.sql,
        busyTimeoutMs: options.busyTimeoutMs ?? 5000,
        autoCheckpoint: options.autoCheckpoint ?? true,
      },
    });
    w.unref();
    w.on('message', (message: Reply) => {
      const p = pending.get(message.id);
      if (p === undefined) return;
      pending.delete(message.id);
      if (pending.size === 0) w.unref();
      if (message.error === undefined) p.resolve();
      else p.reject(new SqliteAppendError(message.error.message, message.error.code));
    });
    // A thread that died takes its unanswered batches with it: they count as not written (fail-closed), and the
    // next append starts a new thread.
    w.on('error', (error) => {
      if (worker === w) worker = undefined;
      failAll(new SqliteAppendError(`the SQLite append thread failed: ${error.message}`, undefined));
    });
    w.on('exit', (code) => {
      if (worker === w) worker = undefined;
      if (pending.size > 0) failAll(new SqliteAppendError(`the SQLite append thread exited (${code})`, undefined));
    });
    return w;
  }

  return {
    append(rows) {
      if (closing !== undefined) return Promise.reject(new SqliteAppendError('the store is closing', undefined));
      worker ??= start();
      const w = worker;
      const id = nextId++;
      return new Promise<void>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        // Held open only while a batch is in flight, so an idle thread never keeps the process alive.
        if (pending.size === 1) w.ref();
        w.postMessage({ id, rows });
      });
    },
    close() {
      closing ??= (async () => {
        const w = worker;
        if (w === undefined) return;
        const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
        w.ref();
        // Messages are handled in order, so every batch sent before this one is committed (or refused) first.
        w.postMessage('close');
        await exited;
      })();
      return closing;
    },
  };
}
