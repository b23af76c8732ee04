import type { Logger } from 'pino';
import { type AuditEvent, type ChainedAuditEvent, chain } from '../../domain/audit-event.js';
import { upstreamUnavailable } from '../../errors/errors.js';
import type { Clock } from '../../lib/clock.js';
import { uuidV7 } from '../../lib/uuid-v7.js';
import type { AuditStore } from './audit.store.js';
import type { AuditSink } from './sinks.js';

export type AuditInput = Omit<AuditEvent, 'id' | 'time'>;

export interface AuditTrailDeps {
  readonly sinks: readonly AuditSink[];
  readonly store: Pick<AuditStore, 'head' | 'exclusive'>;
  /** How many sinks must accept an event for the request to go on. */
  readonly minAccepted: number;
  /** A sink that has not answered by then counts as refusing. */
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly logger: Pick<Logger, 'error' | 'warn'>;
}

export interface AuditTrail {
  /** Records an event; rejects with `audit.unavailable` when too few sinks accepted it (fail-closed). */
  record(input: AuditInput): Promise<ChainedAuditEvent>;
  /** Waits for queued events (shutdown). */
  flush(): Promise<void>;
}

interface Pending {
  readonly input: AuditInput;
  readonly resolve: (e: ChainedAuditEvent) => void;
  readonly reject: (e: unknown) => void;
}

const MAX_BATCH = 500;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The hash-chained, fail-closed audit trail. Events are chained in arrival order and written in batches
 * (group commit): while one batch is being written, new events queue up and go out together next, so the
 * chain stays strictly ordered without one round trip per event.
 */
export function createAuditTrail(deps: AuditTrailDeps): AuditTrail {
  const queue: Pending[] = [];
  let head: { seq: number; hash: string } | undefined;
  /** Bumped when a batch is given up on: a batch that still settles afterwards must not move the head. */
  let generation = 0;
  let draining: Promise<void> | undefined;

  async function writeBatch(batch: Pending[]): Promise<void> {
    if (deps.store.exclusive === undefined) return writeChained(batch);
    // Other instances append to the same chain: under its lock, continue from the head they may have moved.
    return deps.store.exclusive(() => {
      head = undefined;
      return writeChained(batch);
    });
  }

  async function writeChained(batch: Pending[]): Promise<void> {
    const started = generation;
    let cursor = head ?? (await deps.store.head());
    if (started !== generation) {
      // Given up on while the head was being read: the requests of this batch were refused already.
      return;
    }
    head = cursor;
    const events = batch.map((p) => {
      const now = deps.clock.now();
      // Object.assign, not `{ ...input, id, time }`: adding properties after a spread is V8 11's slow path.
      const e = chain(cursor, Object.assign({}, p.input, { id: uuidV7(now), time: new Date(now).toISOString() }));
      cursor = e;
      return e;
    });
    const results = await Promise.allSettled(
      deps.sinks.map((sink) => withTimeout(sink.write(events), deps.timeoutMs, `audit sink ${sink.name}`)),
    );
    const accepted = results.filter((r) => r.status === 'fulfilled').length;
    results.forEach((r, i) => {
      if (r.status === 'rejected')
        deps.logger.error({ sink: deps.sinks[i]?.name, err: r.reason }, 'audit sink refused events');
    });
    if (accepted < deps.minAccepted) {
      // Re-read the head next time: a slow sink may still land this batch after we gave up on it.
      if (started === generation) head = undefined;
      const error = upstreamUnavailable(
        'audit.unavailable',
        'the audit trail could not record this request, so it was refused (audit is fail-closed)',
      );
      for (const p of batch) p.reject(error);
      return;
    }
    if (started === generation) head = cursor;
    batch.forEach((p, i) => {
      p.resolve(events[i] as ChainedAuditEvent);
    });
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      try {
        // Bounded as a whole, not only per sink: taking the chain's lock or reading its head can wait on a store
        // that does not answer, and every request waiting on this batch would wait with it.
        await withTimeout(writeBatch(batch), 2 * deps.timeoutMs, 'the audit trail');
      } catch (error) {
        // A batch given up on may still land later; the store refuses whatever then overlaps it (seq is unique),
        // and the head is read again, so the chain never forks.
        generation++;
        head = undefined;
        for (const p of batch)
          p.reject(
            upstreamUnavailable('audit.unavailable', 'the audit trail failed; the request was refused', {
              cause: error,
            }),
          );
      }
    }
  }

  // A sink that writes inline (SQLite) lets no event queue up while it writes, so group commit needs a window:
  // the events of one event-loop turn are written together at its end. Sinks that wait on I/O need none.
  const holdToTurnEnd = deps.sinks.some((sink) => sink.inline === true);

  function kick(): void {
    if (draining !== undefined) return;
    draining = (async () => {
      try {
        // Group commit without waiting for a batch to fill: the first event goes at once (or at the end of its
        // turn), and those that arrive while it is being written go out together next.
        if (holdToTurnEnd) await new Promise<void>((resolve) => setImmediate(resolve));
        await drain();
      } finally {
        draining = undefined;
        // An event queued after the loop's last look but before this point would otherwise wait forever.
        if (queue.length > 0) kick();
      }
    })();
  }

  return {
    record(input) {
      return new Promise<ChainedAuditEvent>((resolve, reject) => {
        queue.push({ input, resolve, reject });
        kick();
      });
    },
    async flush() {
      while (draining !== undefined) await draining;
    },
  };
}
