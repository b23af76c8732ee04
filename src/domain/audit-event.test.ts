import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AuditEvent,
  type ChainedAuditEvent,
  ChainVerifier,
  canonicalJson,
  chain,
  chainHash,
  GENESIS_HASH,
} from './audit-event.js';

function event(n: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: `e-${n}`,
    time: new Date(Date.UTC(2030, 0, 1, 0, 0, n)).toISOString(),
    actor: n % 2 === 0 ? 'alice' : 'bob',
    action: 'object.get',
    connection: 's3-sales',
    key: `reports/${n}.csv`,
    bytes: n * 10,
    outcome: 'allowed',
    details: { status: 200 },
    ...overrides,
  };
}

/** `count` events chained from `anchor`. */
function buildChain(count: number, anchor = { seq: 0, hash: GENESIS_HASH }): ChainedAuditEvent[] {
  const out: ChainedAuditEvent[] = [];
  let prev = anchor;
  for (let i = 1; i <= count; i++) {
    const e = chain(prev, event(anchor.seq + i));
    out.push(e);
    prev = e;
  }
  return out;
}

function verify(events: readonly ChainedAuditEvent[], anchor?: { seq: number; hash: string }) {
  const verifier = new ChainVerifier(anchor);
  for (const e of events) if (!verifier.push(e)) break;
  return verifier.verdict();
}

/** The element at `i`, failing the test rather than returning undefined. */
function at<T>(items: readonly T[], i: number): T {
  const item = items[i];
  if (item === undefined) throw new Error(`no element at ${i}`);
  return item;
}

describe('canonicalJson', () => {
  it('is independent of key order', () => {
    expect(canonicalJson({ b: 1, a: 2, c: 3 })).toBe(canonicalJson({ c: 3, a: 2, b: 1 }));
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });

  it('drops undefined values but keeps null', () => {
    expect(canonicalJson({ a: 1, b: undefined, c: null })).toBe('{"a":1,"c":null}');
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
  });

  it('sorts nested objects, including inside arrays, and keeps array order', () => {
    const left = { z: { y: 1, x: [{ q: 1, p: 2 }, 3] }, a: 'é"' };
    const right = { a: 'é"', z: { x: [{ p: 2, q: 1 }, 3], y: 1 } };
    expect(canonicalJson(left)).toBe(canonicalJson(right));
    expect(canonicalJson(left)).toBe('{"a":"é\\"","z":{"x":[{"p":2,"q":1},3],"y":1}}');
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
  });

  it('keeps the format stored chains were hashed with (the first implementation, kept here as the reference)', () => {
    const reference = (value: unknown): string => {
      if (value === null || typeof value !== 'object') return JSON.stringify(value);
      if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
    };
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.string({ unit: 'binary' }),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.constant(undefined),
        fc.array(tie('value')),
        fc.dictionary(fc.string({ unit: 'binary' }), tie('value')),
      ),
    })).value;
    fc.assert(
      fc.property(json, (value) => canonicalJson(value) === reference(value)),
      { seed: 20261203, numRuns: 500 },
    );
  });

  it('renders scalars as JSON', () => {
    expect(canonicalJson('x')).toBe('"x"');
    expect(canonicalJson(3)).toBe('3');
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson(null)).toBe('null');
  });
});

describe('chain', () => {
  it('links each event to the one before with consecutive seqs', () => {
    const events = buildChain(3);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(at(events, 0).prevHash).toBe(GENESIS_HASH);
    expect(at(events, 1).prevHash).toBe(at(events, 0).hash);
    expect(at(events, 2).prevHash).toBe(at(events, 1).hash);
    for (const e of events) expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(events.map((e) => e.hash)).size).toBe(3);
  });

  it('keeps the event content and hashes (prevHash, seq, content)', () => {
    const e = chain({ seq: 41, hash: 'a'.repeat(64) }, event(42));
    expect(e).toMatchObject({ ...event(42), seq: 42, prevHash: 'a'.repeat(64) });
    expect(e.hash).toBe(chainHash('a'.repeat(64), 42, event(42)));
    // The same content at another place in the chain hashes differently.
    expect(e.hash).not.toBe(chainHash('a'.repeat(64), 43, event(42)));
    expect(e.hash).not.toBe(chainHash('b'.repeat(64), 42, event(42)));
  });

  it('ignores chain fields of the input when re-chaining', () => {
    const first = chain({ seq: 0, hash: GENESIS_HASH }, event(1));
    const again = chain({ seq: 0, hash: GENESIS_HASH }, first);
    expect(again).toEqual(first);
  });

  it('hashes the same regardless of key order or undefined fields', () => {
    const a = event(1, { reasonCode: undefined });
    const reordered: AuditEvent = {
      details: { status: 200 },
      outcome: 'allowed',
      bytes: 10,
      key: 'reports/1.csv',
      connection: 's3-sales',
      action: 'object.get',
      actor: 'bob',
      time: event(1).time,
      id: 'e-1',
    };
    expect(Object.keys(reordered)).not.toEqual(Object.keys(a));
    expect(chainHash(GENESIS_HASH, 1, a)).toBe(chainHash(GENESIS_HASH, 1, reordered));
  });
});

describe('ChainVerifier', () => {
  const good = buildChain(50);
  const last = at(good, 49);

  it('verifies a good chain of 50 events with the last one as head', () => {
    expect(verify(good)).toEqual({ ok: true, checked: 50, head: { seq: last.seq, hash: last.hash } });
  });

  it('verifies an empty run as its anchor', () => {
    expect(verify([])).toEqual({ ok: true, checked: 0, head: { seq: 0, hash: GENESIS_HASH } });
  });

  it.each([
    ['outcome', { outcome: 'denied' }],
    ['actor', { actor: 'mallory' }],
    ['key', { key: 'reports/other.csv' }],
    ['bytes', { bytes: 1 }],
    ['details', { details: { status: 403 } }],
    ['an added field', { reasonCode: 'x' }],
  ] as const)('detects an edited %s at that event', (_, edit) => {
    const tampered = good.map((e) => (e.seq === 20 ? { ...e, ...edit } : e));
    const verdict = verify(tampered);
    expect(verdict).toMatchObject({ ok: false, seq: 20, checked: 19 });
    expect(verdict.ok ? '' : verdict.reason).toMatch(/altered/);
  });

  it('detects a removed field', () => {
    const tampered = good.map((e) => {
      if (e.seq !== 7) return e;
      const { details: _details, ...rest } = e;
      return rest;
    });
    expect(verify(tampered)).toMatchObject({ ok: false, seq: 7, checked: 6 });
  });

  it('detects a deleted event at the next one', () => {
    const tampered = good.filter((e) => e.seq !== 10);
    const verdict = verify(tampered);
    expect(verdict).toMatchObject({ ok: false, seq: 11, checked: 9 });
    expect(verdict.ok ? '' : verdict.reason).toMatch(/#10/);
  });

  it('detects a deleted first event', () => {
    expect(verify(good.slice(1))).toMatchObject({ ok: false, seq: 2, checked: 0 });
  });

  it('detects two swapped events', () => {
    const tampered = [...good];
    tampered[29] = at(good, 30);
    tampered[30] = at(good, 29);
    expect(verify(tampered)).toMatchObject({ ok: false, seq: 31, checked: 29 });
  });

  it('detects swapped events even when their seqs were swapped too', () => {
    // Content of #30 and #31 exchanged, each keeping its place's seq and back-link: the hashes no longer fit.
    const a = at(good, 29);
    const b = at(good, 30);
    const tampered = [...good];
    tampered[29] = { ...b, seq: a.seq, prevHash: a.prevHash, hash: b.hash };
    tampered[30] = { ...a, seq: b.seq, prevHash: b.prevHash, hash: a.hash };
    expect(verify(tampered)).toMatchObject({ ok: false, seq: 30, checked: 29 });
  });

  it('detects a forged event with a recomputed hash at its successor', () => {
    const victim = at(good, 14);
    const forged: ChainedAuditEvent = chain(
      { seq: victim.seq - 1, hash: victim.prevHash },
      { ...victim, outcome: 'denied' },
    );
    // The forged event on its own is internally consistent …
    expect(forged.hash).toBe(chainHash(forged.prevHash, forged.seq, forged));
    const tampered = good.map((e) => (e.seq === victim.seq ? forged : e));
    const verdict = verify(tampered);
    // … so the break shows at the next event, whose back-link no longer matches.
    expect(verdict).toMatchObject({ ok: false, seq: victim.seq + 1, checked: victim.seq });
    expect(verdict.ok ? '' : verdict.reason).toMatch(/does not link/);
  });

  it('detects a wrong back-link even when the hash is consistent with it', () => {
    const e = at(good, 5);
    const relinked = chain({ seq: e.seq - 1, hash: 'f'.repeat(64) }, e);
    const tampered = good.map((x) => (x.seq === e.seq ? relinked : x));
    expect(verify(tampered)).toMatchObject({ ok: false, seq: e.seq, checked: e.seq - 1 });
  });

  it('verifies a chain from a non-genesis anchor, as after retention', () => {
    const anchor = { seq: at(good, 19).seq, hash: at(good, 19).hash };
    const remaining = good.slice(20);
    expect(verify(remaining, anchor)).toEqual({
      ok: true,
      checked: 30,
      head: { seq: last.seq, hash: last.hash },
    });
    // Without the anchor, the same run does not verify: it does not start at the genesis.
    expect(verify(remaining)).toMatchObject({ ok: false, seq: 21, checked: 0 });
    // A wrong anchor hash is caught at the first event.
    expect(verify(remaining, { seq: anchor.seq, hash: GENESIS_HASH })).toMatchObject({ ok: false, seq: 21 });
  });

  it('stays failed after the first break and counts only events before it', () => {
    const tampered = good.map((e) => (e.seq === 3 ? { ...e, outcome: 'error' as const } : e));
    const verifier = new ChainVerifier();
    const results = tampered.map((e) => verifier.push(e));
    expect(results.slice(0, 2)).toEqual([true, true]);
    expect(results.slice(2).every((r) => r === false)).toBe(true);
    expect(verifier.verdict()).toMatchObject({ ok: false, seq: 3, checked: 2 });
  });
});
