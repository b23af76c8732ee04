import { describe, expect, it } from 'vitest';
import { type ChainedAuditEvent, ChainVerifier, GENESIS_HASH } from '../../domain/audit-event.js';
import { isRolegateError } from '../../errors/errors.js';
import { type AuditInput, type AuditTrailDeps, createAuditTrail } from './audit-trail.js';
import type { AuditSink } from './sinks.js';

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);

/** Keeps every batch it accepted. */
class RecordingSink implements AuditSink {
  readonly batches: ChainedAuditEvent[][] = [];
  constructor(readonly name = 'memory') {}
  async write(events: readonly ChainedAuditEvent[]): Promise<void> {
    this.batches.push([...events]);
  }
  get events(): ChainedAuditEvent[] {
    return this.batches.flat();
  }
}

/** Refuses while `failing` is set. */
class FlakySink extends RecordingSink {
  failing = true;
  attempts = 0;
  override async write(events: readonly ChainedAuditEvent[]): Promise<void> {
    this.attempts++;
    if (this.failing) throw new Error('disk full');
    await super.write(events);
  }
}

class HangingSink implements AuditSink {
  readonly name = 'hanging';
  calls = 0;
  write(): Promise<void> {
    this.calls++;
    return new Promise<void>(() => undefined);
  }
}

/** Takes `delayMs` per batch, so events arriving meanwhile pile up into the next batch. */
class SlowSink extends RecordingSink {
  constructor(readonly delayMs: number) {
    super('slow');
  }
  override async write(events: readonly ChainedAuditEvent[]): Promise<void> {
    await new Promise((r) => setTimeout(r, this.delayMs));
    await super.write(events);
  }
}

class FakeStore {
  value = { seq: 0, hash: GENESIS_HASH };
  calls = 0;
  head = async () => {
    this.calls++;
    return this.value;
  };
}

function input(n: number, overrides: Partial<AuditInput> = {}): AuditInput {
  return { actor: 'alice', action: 'object.get', key: `k/${n}`, outcome: 'allowed', ...overrides };
}

function setup(overrides: Partial<AuditTrailDeps> & { sinks: readonly AuditSink[] }) {
  const store = new FakeStore();
  const errors: unknown[] = [];
  const clock = { t: T0, now: () => clock.t };
  const trail = createAuditTrail({
    store,
    minAccepted: 1,
    timeoutMs: 1_000,
    clock,
    logger: { error: (...args: unknown[]) => errors.push(args), warn: () => undefined },
    ...overrides,
  });
  return { trail, store, errors, clock };
}

function verify(events: readonly ChainedAuditEvent[], anchor?: { seq: number; hash: string }) {
  const verifier = new ChainVerifier(anchor);
  for (const e of events) verifier.push(e);
  return verifier.verdict();
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('createAuditTrail', () => {
  it('chains 200 concurrent events with consecutive seqs, in batches', async () => {
    const sink = new SlowSink(5);
    const { trail, store } = setup({ sinks: [sink] });

    const recorded = await Promise.all(Array.from({ length: 200 }, (_, i) => trail.record(input(i))));

    expect(recorded.map((e) => e.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    // Each caller gets the event made from its own input.
    expect(recorded.map((e) => e.key)).toEqual(Array.from({ length: 200 }, (_, i) => `k/${i}`));
    expect(sink.events).toEqual(recorded);
    const last = recorded[199];
    expect(verify(sink.events)).toEqual({ ok: true, checked: 200, head: { seq: 200, hash: last?.hash } });
    // Events recorded in one turn of the event loop go out together (group commit).
    expect(sink.batches.length).toBeGreaterThanOrEqual(1);
    expect(sink.batches.length).toBeLessThan(10);
    // The head is read once; afterwards the trail keeps it.
    expect(store.calls).toBe(1);
  });

  it('with an inline sink, writes the events of one event-loop turn as one batch', async () => {
    class InlineSink extends RecordingSink {
      readonly inline = true;
    }
    const sink = new InlineSink('inline');
    const plain = new RecordingSink('plain');
    const { trail } = setup({ sinks: [sink] });
    const { trail: eager } = setup({ sinks: [plain] });

    // Recorded one by one within a turn, as a server's requests are: each record() alone would start a batch.
    const recorded = await Promise.all(Array.from({ length: 8 }, (_, i) => trail.record(input(i))));
    await Promise.all(Array.from({ length: 8 }, (_, i) => eager.record(input(i))));

    expect(sink.batches.map((b) => b.length)).toEqual([8]);
    expect(sink.events).toEqual(recorded);
    // A sink that waits on I/O needs no window: the first event goes at once, the rest queue behind it.
    expect(plain.batches.map((b) => b.length)).toEqual([1, 7]);
  });

  it('continues the chain across batches recorded at different times', async () => {
    const sink = new RecordingSink();
    const { trail } = setup({ sinks: [sink] });
    const first = await Promise.all([trail.record(input(1)), trail.record(input(2))]);
    const second = await trail.record(input(3));
    const third = await Promise.all([trail.record(input(4)), trail.record(input(5)), trail.record(input(6))]);
    const all = [...first, second, ...third];
    expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(verify(sink.events)).toMatchObject({ ok: true, checked: 6 });
  });

  it('starts the chain from the head the store reports', async () => {
    const sink = new RecordingSink();
    const { trail, store } = setup({ sinks: [sink] });
    store.value = { seq: 41, hash: 'c'.repeat(64) };
    const e = await trail.record(input(1));
    expect(e).toMatchObject({ seq: 42, prevHash: 'c'.repeat(64) });
    expect(verify([e], store.value)).toMatchObject({ ok: true, checked: 1 });
  });

  it('gives the event an id and the ISO time of the injected clock', async () => {
    const sink = new RecordingSink();
    const { trail, clock } = setup({ sinks: [sink] });
    const a = await trail.record(input(1));
    clock.t = T0 + 1_500;
    const b = await trail.record(input(2));
    expect(a.time).toBe('2030-01-01T12:00:00.000Z');
    expect(b.time).toBe('2030-01-01T12:00:01.500Z');
    expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.id).not.toBe(a.id);
    expect(a).toMatchObject(input(1));
  });

  it('refuses with audit.unavailable when a sink rejects and every sink must accept', async () => {
    const good = new RecordingSink();
    const bad = new FlakySink('flaky');
    const { trail, errors } = setup({ sinks: [good, bad], minAccepted: 2 });

    const error = await rejection(trail.record(input(1)));

    expect(isRolegateError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'audit.unavailable', kind: 'UpstreamUnavailable', retryable: true });
    expect(errors).toHaveLength(1);
  });

  it('rejects every event of a refused batch', async () => {
    const bad = new FlakySink();
    const { trail } = setup({ sinks: [bad] });
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => trail.record(input(i))));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
  });

  it('accepts when one of two sinks fails and one acceptance is enough', async () => {
    const good = new RecordingSink();
    const bad = new FlakySink('flaky');
    const { trail, errors } = setup({ sinks: [bad, good], minAccepted: 1 });

    const e = await trail.record(input(1));

    expect(e.seq).toBe(1);
    expect(good.events).toEqual([e]);
    expect(bad.attempts).toBe(1);
    expect(errors).toHaveLength(1);
  });

  it('gives up on a sink that never answers after timeoutMs', async () => {
    const hanging = new HangingSink();
    const { trail } = setup({ sinks: [hanging], timeoutMs: 50 });

    const started = performance.now();
    const error = await rejection(trail.record(input(1)));
    const elapsed = performance.now() - started;

    expect(error).toMatchObject({ code: 'audit.unavailable' });
    expect(hanging.calls).toBe(1);
    expect(elapsed).toBeGreaterThanOrEqual(45);
    expect(elapsed).toBeLessThan(500);
  });

  it('still accepts through a working sink while another hangs', async () => {
    const hanging = new HangingSink();
    const good = new RecordingSink();
    const { trail } = setup({ sinks: [hanging, good], timeoutMs: 50, minAccepted: 1 });
    const e = await trail.record(input(1));
    expect(good.events).toEqual([e]);
  });

  it('re-reads the head from the store after a failed batch and continues from it', async () => {
    const sink = new FlakySink();
    sink.failing = false;
    const { trail, store } = setup({ sinks: [sink] });

    const first = await trail.record(input(1));
    expect(store.calls).toBe(1);
    await trail.record(input(2));
    expect(store.calls).toBe(1);

    sink.failing = true;
    await expect(trail.record(input(3))).rejects.toMatchObject({ code: 'audit.unavailable' });
    expect(store.calls).toBe(1);

    // Meanwhile the store says where the chain really ends (say, the slow write landed after all).
    store.value = { seq: 7, hash: 'd'.repeat(64) };
    sink.failing = false;
    const next = await trail.record(input(4));

    expect(store.calls).toBe(2);
    expect(next).toMatchObject({ seq: 8, prevHash: 'd'.repeat(64) });
    expect(first.seq).toBe(1);
    const after = await trail.record(input(5));
    expect(after).toMatchObject({ seq: 9, prevHash: next.hash });
    expect(store.calls).toBe(2);
  });

  it('refuses when the store head cannot be read, and retries it next time', async () => {
    const sink = new RecordingSink();
    const { trail, store } = setup({ sinks: [sink] });
    let failHead = true;
    store.head = async () => {
      store.calls++;
      if (failHead) throw new Error('database down');
      return store.value;
    };
    const error = await rejection(trail.record(input(1)));
    expect(error).toMatchObject({ code: 'audit.unavailable' });
    expect(error instanceof Error ? error.cause : undefined).toBeInstanceOf(Error);
    expect(sink.batches).toHaveLength(0);

    failHead = false;
    const e = await trail.record(input(2));
    expect(e.seq).toBe(1);
    expect(store.calls).toBe(2);
  });

  it('gives up within twice timeoutMs when the store never hands out the head, and a late head moves nothing', async () => {
    const sink = new RecordingSink();
    const { trail, store } = setup({ sinks: [sink], timeoutMs: 50 });
    let release: (head: { seq: number; hash: string }) => void = () => undefined;
    store.head = () => {
      store.calls++;
      return new Promise((resolve) => {
        release = resolve;
      });
    };
    const started = performance.now();
    const error = await rejection(trail.record(input(1)));
    expect(error).toMatchObject({ code: 'audit.unavailable' });
    expect(performance.now() - started).toBeLessThan(500);

    // The store answers again; the batch given up on then gets its stale head, which must not be kept.
    store.head = async () => {
      store.calls++;
      return { seq: 41, hash: 'e'.repeat(64) };
    };
    const next = await trail.record(input(2));
    release({ seq: 3, hash: 'f'.repeat(64) });
    await new Promise((r) => setTimeout(r, 10));
    const after = await trail.record(input(3));
    expect([next.seq, after.seq, after.prevHash]).toEqual([42, 43, next.hash]);
  });

  it('flush() waits for queued events to be written', async () => {
    const sink = new SlowSink(20);
    const { trail } = setup({ sinks: [sink] });
    const pending = Array.from({ length: 10 }, (_, i) => trail.record(input(i)));
    expect(sink.events).toHaveLength(0);

    await trail.flush();

    expect(sink.events).toHaveLength(10);
    await expect(Promise.all(pending)).resolves.toHaveLength(10);
  });

  it('flush() returns at once when nothing is queued', async () => {
    const { trail } = setup({ sinks: [new RecordingSink()] });
    await expect(trail.flush()).resolves.toBeUndefined();
  });
});
