import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectDatabase, type Db } from '../../db/connect.js';
import type { ChainedAuditEvent } from '../../domain/audit-event.js';
import type { Principal } from '../../domain/model.js';
import { type AuditService, createAuditService, toCsvRow } from './audit.service.js';
import { type AuditStore, createAuditStore } from './audit.store.js';
import { type AuditInput, type AuditTrail, createAuditTrail } from './audit-trail.js';
import { databaseSink } from './sinks.js';

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
const MINUTE = 60_000;
/** The ISO time of the n-th seeded event (1-based). */
const timeOf = (n: number) => new Date(T0 + n * MINUTE).toISOString();

const FORMULA_KEY = '=HYPERLINK("http://evil.example","click")';
const AWKWARD_KEY = 'notes, "quoted"\nline2.txt';

/** Seeded in this order; seq n is SEED[n - 1]. */
const SEED: AuditInput[] = [
  {
    actor: 'alice',
    action: 'credentials.issue',
    connection: 's3-sales',
    sessionName: 'rg-s3-sales-for-alice',
    outcome: 'allowed',
  },
  { actor: 'bob', action: 'object.get', connection: 's3-sales', key: 'data/100%_done.csv', outcome: 'allowed' },
  { actor: 'alice', action: 'object.get', connection: 's3-hr', key: 'data/100x_done.csv', outcome: 'allowed' },
  {
    actor: 'bob',
    action: 'object.put',
    connection: 's3-sales',
    key: FORMULA_KEY,
    outcome: 'denied',
    reasonCode: 'connection.read_only',
  },
  { actor: 'carol', action: 'object.get', connection: 's3-hr', key: AWKWARD_KEY, outcome: 'error', bytes: 12 },
  { actor: 'alice', action: 'object.get', connection: 's3-sales', key: 'données/日本/🙂.csv', outcome: 'allowed' },
];

function principal(username: string, role: Principal['role'] = 'analyst'): Principal {
  return { userId: `u-${username}`, username, role, groups: [], adminProperties: {} };
}
const admin = principal('root', 'admin');
const bob = principal('bob');

class FakeClock {
  t = T0;
  now = () => this.t;
}

interface Fixture {
  db: Db;
  store: AuditStore;
  clock: FakeClock;
  trail: AuditTrail;
  audit: AuditService;
  dir: string;
}

function trailFor(store: AuditStore, clock: FakeClock): AuditTrail {
  return createAuditTrail({
    sinks: [databaseSink(store)],
    store,
    minAccepted: 1,
    timeoutMs: 2_000,
    clock,
    logger: { error: () => undefined, warn: () => undefined },
  });
}

/** Records `inputs` one at a time, the n-th overall at `timeOf(n)`. */
async function recordAll(f: Fixture, inputs: readonly AuditInput[], firstN: number): Promise<ChainedAuditEvent[]> {
  const out: ChainedAuditEvent[] = [];
  for (const [i, input] of inputs.entries()) {
    f.clock.t = Date.parse(timeOf(firstN + i));
    out.push(await f.trail.record(input));
  }
  return out;
}

async function collect(chunks: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const chunk of chunks) text += chunk;
  return text;
}

/** RFC 4180 reader, enough to check what a spreadsheet would see. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  expect(cell).toBe('');
  expect(row).toEqual([]);
  return rows;
}

const seqs = (events: readonly ChainedAuditEvent[]) => events.map((e) => e.seq);

describe('audit service on SQLite', () => {
  let f: Fixture;
  let seeded: ChainedAuditEvent[];

  beforeEach(async () => {
    const db = await connectDatabase('sqlite::memory:');
    const store = createAuditStore(db);
    const clock = new FakeClock();
    f = {
      db,
      store,
      clock,
      trail: trailFor(store, clock),
      audit: createAuditService({ store, clock }),
      dir: await mkdtemp(join(tmpdir(), 'rolegate-audit-')),
    };
    seeded = await recordAll(f, SEED, 1);
  });

  afterEach(async () => {
    await f.db.destroy();
    await rm(f.dir, { recursive: true, force: true });
  });

  describe('search', () => {
    const search = (query: Parameters<AuditService['search']>[1], actor = admin) =>
      f.audit.search(actor, query).then((r) => seqs(r.events));

    it('returns stored events newest first, exactly as recorded', async () => {
      const { events, nextBefore } = await f.audit.search(admin, {});
      expect(events).toEqual([...seeded].reverse());
      expect(nextBefore).toBeUndefined();
    });

    it.each([
      ['actor', { actor: 'alice' }, [6, 3, 1]],
      ['connection', { connection: 's3-hr' }, [5, 3]],
      ['action', { action: 'object.get' }, [6, 5, 3, 2]],
      ['outcome', { outcome: 'denied' }, [4]],
      ['sessionName', { sessionName: 'rg-s3-sales-for-alice' }, [1]],
      ['combined filters', { actor: 'alice', connection: 's3-sales', action: 'object.get' }, [6]],
      ['an unknown actor', { actor: 'nobody' }, []],
    ])('filters by %s', async (_, query, expected) => {
      expect(await search(query)).toEqual(expected);
    });

    it.each([
      ['a literal %', 'data/100%', [2]],
      ['a literal _', 'data/100%_', [2]],
      ['_ that LIKE would read as any character', 'data/100_', []],
      ['a shared prefix', 'data/100', [3, 2]],
      ['a prefix with a quote and a comma', 'notes, "q', [5]],
      ['non-ASCII and astral characters', 'données/日本/🙂', [6]],
      ['the full key', FORMULA_KEY, [4]],
    ])('filters by key prefix with %s', async (_, keyPrefix, expected) => {
      expect(await search({ keyPrefix })).toEqual(expected);
    });

    it('filters by time: since inclusive, until exclusive', async () => {
      expect(await search({ since: timeOf(3), until: timeOf(5) })).toEqual([4, 3]);
      expect(await search({ since: timeOf(6) })).toEqual([6]);
      expect(await search({ until: timeOf(2) })).toEqual([1]);
    });

    it('pages newest first with beforeSeq', async () => {
      const pages: number[][] = [];
      let before: number | undefined;
      for (let i = 0; i < 10; i++) {
        const page = await f.audit.search(admin, { limit: 4, beforeSeq: before });
        pages.push(seqs(page.events));
        before = page.nextBefore;
        if (before === undefined) break;
      }
      expect(pages).toEqual([
        [6, 5, 4, 3],
        [2, 1],
      ]);
      expect(await search({ beforeSeq: 4, action: 'object.get' })).toEqual([3, 2]);
    });

    it('clamps the limit to at least one event', async () => {
      expect(await search({ limit: 0 })).toEqual([6]);
    });

    it('shows a non-admin only their own events, whatever they ask for', async () => {
      expect(await search({}, bob)).toEqual([4, 2]);
      expect(await search({ actor: 'bob', outcome: 'denied' }, bob)).toEqual([4]);
      expect(await search({ actor: 'alice' }, bob)).toEqual([]);
      expect(await search({ actor: 'carol', connection: 's3-hr' }, bob)).toEqual([]);
      expect(await search({ connection: 's3-hr' }, bob)).toEqual([]);
      expect(await search({ keyPrefix: 'data/' }, bob)).toEqual([2]);
      expect(await search({ sessionName: 'rg-s3-sales-for-alice' }, bob)).toEqual([]);
      expect(await search({}, principal('dave'))).toEqual([]);
    });
  });

  describe('verify', () => {
    it('passes on an untouched chain', async () => {
      const last = seeded[5];
      expect(await f.audit.verify(admin)).toEqual({
        ok: true,
        checked: 6,
        head: { seq: 6, hash: last?.hash },
        anchorSeq: 0,
      });
    });

    it('is for admins only', async () => {
      await expect(f.audit.verify(bob)).rejects.toMatchObject({ code: 'auth.admin_required' });
    });

    it('reports an event whose indexed column was edited (so searches cannot be fooled)', async () => {
      await f.db.updateTable('audit_events').set({ outcome: 'allowed' }).where('seq', '=', 4).execute();
      const row = await f.db.selectFrom('audit_events').select('event').where('seq', '=', 4).executeTakeFirstOrThrow();
      if ((JSON.parse(row.event) as { outcome: string }).outcome === 'allowed') {
        await f.db.updateTable('audit_events').set({ outcome: 'denied' }).where('seq', '=', 4).execute();
      }
      expect(await f.audit.verify()).toMatchObject({ ok: false, seq: 4 });
    });

    it('reports an event whose stored JSON was edited', async () => {
      const row = await f.db.selectFrom('audit_events').select('event').where('seq', '=', 3).executeTakeFirstOrThrow();
      const edited = { ...(JSON.parse(row.event) as Record<string, unknown>), outcome: 'denied' };
      await f.db
        .updateTable('audit_events')
        .set({ event: JSON.stringify(edited) })
        .where('seq', '=', 3)
        .execute();

      expect(await f.audit.verify()).toMatchObject({ ok: false, seq: 3, checked: 2, anchorSeq: 0 });
    });

    it('reports a deleted event at the one after it', async () => {
      await f.db.deleteFrom('audit_events').where('seq', '=', 3).execute();
      expect(await f.audit.verify()).toMatchObject({ ok: false, seq: 4, checked: 2 });
    });

    it('reports two events whose seqs were swapped at the first of them', async () => {
      await f.db.updateTable('audit_events').set({ seq: -1 }).where('seq', '=', 2).execute();
      await f.db.updateTable('audit_events').set({ seq: 2 }).where('seq', '=', 4).execute();
      await f.db.updateTable('audit_events').set({ seq: 4 }).where('seq', '=', -1).execute();
      expect(await f.audit.verify()).toMatchObject({ ok: false, seq: 2, checked: 1 });
    });
  });

  describe('export', () => {
    it('writes JSON lines in chain order', async () => {
      const text = await collect(f.audit.export(admin, {}, 'jsonl'));
      const lines = text.trimEnd().split('\n');
      expect(lines).toHaveLength(6);
      expect(lines.map((l) => JSON.parse(l) as ChainedAuditEvent)).toEqual(seeded);
    });

    it('exports only the requested time range', async () => {
      const text = await collect(f.audit.export(admin, { since: timeOf(2), until: timeOf(4) }, 'jsonl'));
      expect(
        text
          .trimEnd()
          .split('\n')
          .map((l) => (JSON.parse(l) as ChainedAuditEvent).seq),
      ).toEqual([2, 3]);
    });

    it('writes CSV with a header, quoting and formula injection neutralised', async () => {
      const text = await collect(f.audit.export(admin, {}, 'csv'));
      const [header, ...rows] = parseCsv(text);
      expect(header).toEqual([
        'seq',
        'time',
        'requestId',
        'actor',
        'authMethod',
        'sourceIp',
        'action',
        'connection',
        'roleArn',
        'sessionName',
        'accessKeyId',
        'bucket',
        'key',
        'bytes',
        'outcome',
        'reasonCode',
        'durationMs',
        'hash',
      ]);
      expect(rows).toHaveLength(6);
      for (const row of rows) expect(row).toHaveLength(18);
      const column = (name: string) => header?.indexOf(name) ?? -1;
      const cell = (seq: number, name: string) => rows[seq - 1]?.[column(name)];

      expect(rows.map((r) => r[0])).toEqual(['1', '2', '3', '4', '5', '6']);
      expect(cell(1, 'time')).toBe(timeOf(1));
      expect(cell(1, 'key')).toBe('');
      expect(cell(1, 'hash')).toBe(seeded[0]?.hash);
      expect(cell(4, 'key')).toBe(`'${FORMULA_KEY}`);
      expect(cell(4, 'reasonCode')).toBe('connection.read_only');
      expect(cell(5, 'key')).toBe(AWKWARD_KEY);
      expect(cell(5, 'bytes')).toBe('12');
      expect(cell(6, 'key')).toBe('données/日本/🙂.csv');
      expect(text).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
      expect(text).toContain('"notes, ""quoted""\nline2.txt"');
    });

    it('neutralises every formula lead character', () => {
      const e = { ...(seeded[0] as ChainedAuditEvent) };
      for (const key of ['+1', '-1', '@SUM(A1)', '\tx', '=1']) {
        expect(parseCsv(`${toCsvRow({ ...e, key })}\n`)[0]?.[12]).toBe(`'${key}`);
      }
      expect(parseCsv(`${toCsvRow({ ...e, key: 'a=b' })}\n`)[0]?.[12]).toBe('a=b');
    });

    it('is for admins only', async () => {
      await expect(collect(f.audit.export(bob, {}, 'jsonl'))).rejects.toMatchObject({
        code: 'auth.admin_required',
      });
    });
  });

  describe('applyRetention', () => {
    it('archives older events to a 0600 file, deletes them, and the rest still verifies', async () => {
      f.clock.t = T0 + 60 * MINUTE;
      const result = await f.audit.applyRetention(timeOf(4), join(f.dir, 'archive'));

      expect(result.archived).toBe(3);
      const file = result.file ?? '';
      expect(file.startsWith(join(f.dir, 'archive'))).toBe(true);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const archived = (await readFile(file, 'utf8'))
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as ChainedAuditEvent);
      expect(archived).toEqual(seeded.slice(0, 3));

      expect(seqs((await f.audit.search(admin, {})).events)).toEqual([6, 5, 4]);
      expect(await f.audit.verify()).toMatchObject({ ok: true, checked: 3, anchorSeq: 3, head: { seq: 6 } });
      expect(await f.store.anchor()).toEqual({ seq: 3, hash: seeded[2]?.hash, archivedTo: file });

      // New events, from the running trail and from a fresh one that reads the head from the store.
      await recordAll(f, [{ actor: 'alice', action: 'object.get', outcome: 'allowed' }], 7);
      f.trail = trailFor(f.store, f.clock);
      const [eighth] = await recordAll(f, [{ actor: 'bob', action: 'object.get', outcome: 'allowed' }], 8);
      expect(eighth?.seq).toBe(8);
      expect(await f.audit.verify()).toMatchObject({ ok: true, checked: 5, anchorSeq: 3, head: { seq: 8 } });
    });

    it('archives everything and continues the chain from the anchor when the table is empty', async () => {
      const result = await f.audit.applyRetention(timeOf(100), f.dir);
      expect(result.archived).toBe(6);
      expect(await f.store.head()).toEqual({ seq: 6, hash: seeded[5]?.hash });
      expect(await f.audit.verify()).toMatchObject({ ok: true, checked: 0, anchorSeq: 6 });

      f.trail = trailFor(f.store, f.clock);
      const [next] = await recordAll(f, [{ actor: 'alice', action: 'object.get', outcome: 'allowed' }], 7);
      expect(next).toMatchObject({ seq: 7, prevHash: seeded[5]?.hash });
      expect(await f.audit.verify()).toMatchObject({ ok: true, checked: 1, anchorSeq: 6 });
    });

    it('archives nothing when no event is old enough', async () => {
      expect(await f.audit.applyRetention(timeOf(1), f.dir)).toEqual({ archived: 0 });
      expect(await f.audit.verify()).toMatchObject({ ok: true, checked: 6, anchorSeq: 0 });
    });

    it('refuses a cut-off that is not a time', async () => {
      await expect(f.audit.applyRetention('yesterday', f.dir)).rejects.toMatchObject({ code: 'audit.invalid_time' });
    });

    it('refuses to archive a broken chain and deletes nothing', async () => {
      await f.db.deleteFrom('audit_events').where('seq', '=', 2).execute();

      await expect(f.audit.applyRetention(timeOf(100), f.dir)).rejects.toMatchObject({
        code: 'audit.chain_broken',
      });

      const left = await f.db.selectFrom('audit_events').select('seq').orderBy('seq').execute();
      expect(left.map((r) => r.seq)).toEqual([1, 3, 4, 5, 6]);
      expect(await f.store.anchor()).toMatchObject({ seq: 0 });
    });
  });

  describe('unfinished changes', () => {
    const change = (requestId: string, outcome: AuditInput['outcome'], action = 'user.create'): AuditInput => ({
      requestId,
      actor: 'root',
      action,
      outcome,
    });

    it('lists requested changes whose end was never recorded, once they had time to finish', async () => {
      const recorded = await recordAll(
        f,
        [
          change('r-done', 'requested'),
          change('r-lost', 'requested'),
          change('r-done', 'allowed'),
          change('r-denied', 'requested', 'connection.update'),
          change('r-denied', 'denied', 'connection.update'),
          // Another action under the same request does not end it.
          change('r-other', 'requested'),
          change('r-other', 'allowed', 'group.create'),
          change('r-young', 'requested'),
        ],
        7,
      );
      // The last one is a minute old when asked with a two-minute settling time: it may still be running.
      f.clock.t = Date.parse(timeOf(15));
      const unfinished = await f.audit.unfinished(admin, { settleMs: 2 * MINUTE });
      expect(unfinished.map((e) => e.requestId)).toEqual(['r-lost', 'r-other']);
      expect(unfinished[0]).toEqual(recorded[1]);
      expect((await f.audit.unfinished(admin, { settleMs: 0 })).map((e) => e.requestId)).toEqual([
        'r-lost',
        'r-other',
        'r-young',
      ]);
      // Only from `since` on.
      expect((await f.audit.unfinished(admin, { since: timeOf(9), settleMs: 0 })).map((e) => e.requestId)).toEqual([
        'r-other',
        'r-young',
      ]);
      await expect(f.audit.unfinished(bob)).rejects.toMatchObject({ code: 'auth.admin_required' });
    });
  });
});
