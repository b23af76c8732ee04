import { sql } from 'kysely';
import { type Db, dialectOf, sqliteHandleOf } from '../../db/connect.js';
import { startSqliteCheckpointer } from '../../db/sqlite-checkpointer.js';
import { type AuditEvent, type ChainedAuditEvent, contentJsonOf, GENESIS_HASH } from '../../domain/audit-event.js';

export interface AuditQuery {
  readonly actor?: string | undefined;
  readonly connection?: string | undefined;
  readonly action?: string | undefined;
  readonly outcome?: string | undefined;
  readonly sessionName?: string | undefined;
  readonly keyPrefix?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  /** Return events with seq below this (newest first paging). */
  readonly beforeSeq?: number | undefined;
  readonly limit: number;
}

export interface AuditAnchor {
  readonly seq: number;
  readonly hash: string;
  readonly archivedTo?: string | undefined;
}

/** The database audit sink and its queries. Rows are never updated; only retention deletes, oldest first. */
export interface AuditStore {
  /** Appends a batch of chained events, all or none. */
  append(events: readonly ChainedAuditEvent[]): Promise<void>;
  /** True when `append` writes before it returns (SQLite), without waiting on I/O that lets other events queue. */
  readonly appendsInline: boolean;
  head(): Promise<{ seq: number; hash: string }>;
  anchor(): Promise<AuditAnchor>;
  search(query: AuditQuery): Promise<ChainedAuditEvent[]>;
  /** Events in seq order from `afterSeq`, a page at a time (for verify and export). */
  page(
    afterSeq: number,
    limit: number,
    range?: { since?: string | undefined; until?: string | undefined },
  ): Promise<ChainedAuditEvent[]>;
  /** Deletes events up to and including `seq` and records them as archived, in one transaction. */
  cut(anchor: AuditAnchor, now: string): Promise<number>;
  /**
   * PostgreSQL only (absent on SQLite, where one process owns the store): runs `fn` while holding the cluster-wide
   * lock of the chain, so that instances sharing the store append one after another from the true head.
   */
  exclusive?<T>(fn: () => Promise<T>): Promise<T>;
  /** Releases what the store holds beside the database (before `db.destroy()`). */
  close(): Promise<void>;
}

/** Advisory lock id of the audit chain (any constant that no other lock uses). */
const CHAIN_LOCK = 0x72676175; // 'rgau'

type Row = {
  event: string;
  seq: number;
  prev_hash: string;
  hash: string;
  time: string;
  actor: string | null;
  action: string;
  connection: string | null;
  outcome: string;
  session_name: string | null;
  object_key: string | null;
};
/** The columns an append writes, in the order of the SQLite statement's positional parameters. */
const INSERTED = [
  'seq',
  'id',
  'time',
  'actor',
  'action',
  'connection',
  'outcome',
  'session_name',
  'object_key',
  'event',
  'prev_hash',
  'hash',
] as const;
const INSERT_SQL = `insert into audit_events (${INSERTED.join(', ')}) values (${INSERTED.map(() => '?').join(', ')})`;

/** The columns a read selects: what was written, but the id (which the stored event carries too). */
const COLUMNS = INSERTED.filter((c): c is Exclude<(typeof INSERTED)[number], 'id'> => c !== 'id');

/**
 * An event as stored. The indexed columns (which searches filter on) must agree with the stored JSON; when
 * one was edited, the mismatch is written into the event, so its hash no longer matches and verify reports it.
 */
const toEvent = (r: Row): ChainedAuditEvent => {
  const e = JSON.parse(r.event) as AuditEvent;
  const columns: Array<[string, unknown, unknown]> = [
    ['time', r.time, e.time],
    ['actor', r.actor ?? undefined, e.actor],
    ['action', r.action, e.action],
    ['connection', r.connection ?? undefined, e.connection],
    ['outcome', r.outcome, e.outcome],
    ['session_name', r.session_name ?? undefined, e.sessionName],
    ['object_key', r.object_key ?? undefined, e.key],
  ];
  const mismatched = columns.filter(([, column, json]) => column !== json).map(([name]) => name);
  const content: AuditEvent =
    mismatched.length === 0 ? e : { ...e, details: { ...(e.details ?? {}), columnsDisagree: mismatched.join(',') } };
  return { ...content, seq: Number(r.seq), prevHash: r.prev_hash, hash: r.hash };
};

export function createAuditStore(db: Db): AuditStore {
  async function anchor(): Promise<AuditAnchor> {
    const row = await db.selectFrom('audit_anchor').selectAll().where('id', '=', 1).executeTakeFirst();
    return row
      ? { seq: Number(row.seq), hash: row.hash, archivedTo: row.archived_to ?? undefined }
      : { seq: 0, hash: GENESIS_HASH };
  }

  const exclusive =
    dialectOf(db) === 'postgres'
      ? <T>(fn: () => Promise<T>) =>
          db.transaction().execute(async (tx) => {
            await sql`select pg_advisory_xact_lock(${CHAIN_LOCK})`.execute(tx);
            return fn();
          })
      : undefined;

  const toRow = (e: ChainedAuditEvent) => {
    return {
      seq: e.seq,
      id: e.id,
      time: e.time,
      actor: e.actor ?? null,
      action: e.action,
      connection: e.connection ?? null,
      outcome: e.outcome,
      session_name: e.sessionName ?? null,
      object_key: e.key ?? null,
      event: contentJsonOf(e),
      prev_hash: e.prevHash,
      hash: e.hash,
    } satisfies Record<(typeof INSERTED)[number], unknown>;
  };
  // SQLite: one prepared statement run in one transaction per batch (every credential and data request appends),
  // on the main connection. A batch of 8 costs about 11 µs of CPU per row; the same rows handed to a writer thread
  // cost more in the hand-off alone, and each hand-off waited for that thread to be scheduled, which on a busy host
  // added milliseconds to every request. The WAL checkpoints commits would trigger (and their fsyncs) run on a
  // thread of their own instead (see sqlite-checkpointer.ts), so no commit waits on the disk.
  const sqlite = sqliteHandleOf(db);
  const checkpointer = sqlite !== undefined && !sqlite.memory ? startSqliteCheckpointer({ main: sqlite }) : undefined;
  const insertOne = sqlite?.prepare(INSERT_SQL);
  // Positional parameters: binding by name costs about 1 µs more per row.
  const insertInline =
    insertOne === undefined
      ? undefined
      : sqlite?.transaction((events: readonly ChainedAuditEvent[]) => {
          for (const e of events) {
            const row = toRow(e);
            insertOne.run(INSERTED.map((column) => row[column]));
          }
        });

  return {
    ...(exclusive === undefined ? {} : { exclusive }),
    appendsInline: insertInline !== undefined,
    async append(events) {
      if (insertInline !== undefined) {
        insertInline(events);
        return;
      }
      // PostgreSQL: one multi-row insert per batch, chunked well under the bound-parameter limit.
      for (let i = 0; i < events.length; i += 500) {
        await db
          .insertInto('audit_events')
          .values(events.slice(i, i + 500).map(toRow))
          .execute();
      }
    },
    async head() {
      const row = await db
        .selectFrom('audit_events')
        .select(['seq', 'hash'])
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (row) return { seq: Number(row.seq), hash: row.hash };
      const a = await anchor();
      return { seq: a.seq, hash: a.hash };
    },
    anchor,
    async close() {
      await checkpointer?.close();
    },
    async search(q) {
      let query = db.selectFrom('audit_events').select(COLUMNS);
      if (q.actor !== undefined) query = query.where('actor', '=', q.actor);
      if (q.connection !== undefined) query = query.where('connection', '=', q.connection);
      if (q.action !== undefined) query = query.where('action', '=', q.action);
      if (q.outcome !== undefined) query = query.where('outcome', '=', q.outcome);
      if (q.sessionName !== undefined) query = query.where('session_name', '=', q.sessionName);
      if (q.since !== undefined) query = query.where('time', '>=', q.since);
      if (q.until !== undefined) query = query.where('time', '<', q.until);
      if (q.beforeSeq !== undefined) query = query.where('seq', '<', q.beforeSeq);
      if (q.keyPrefix !== undefined) {
        // substr comparison, not LIKE: keys may contain % and _. SQL substr counts code points, not UTF-16 units.
        const prefix = q.keyPrefix;
        query = query.where((eb) =>
          eb(eb.fn('substr', ['object_key', eb.val(1), eb.val([...prefix].length)]), '=', prefix),
        );
      }
      const rows = await query.orderBy('seq', 'desc').limit(q.limit).execute();
      return rows.map(toEvent);
    },
    async page(afterSeq, limit, range = {}) {
      let query = db.selectFrom('audit_events').select(COLUMNS).where('seq', '>', afterSeq);
      if (range.since !== undefined) query = query.where('time', '>=', range.since);
      if (range.until !== undefined) query = query.where('time', '<', range.until);
      const rows = await query.orderBy('seq', 'asc').limit(limit).execute();
      return rows.map(toEvent);
    },
    async cut(a, now) {
      return db.transaction().execute(async (trx) => {
        const r = await trx.deleteFrom('audit_events').where('seq', '<=', a.seq).executeTakeFirst();
        await trx
          .insertInto('audit_anchor')
          .values({ id: 1, seq: a.seq, hash: a.hash, archived_to: a.archivedTo ?? null, updated_at: now })
          .onConflict((oc) =>
            oc
              .column('id')
              .doUpdateSet({ seq: a.seq, hash: a.hash, archived_to: a.archivedTo ?? null, updated_at: now }),
          )
          .execute();
        return Number(r.numDeletedRows);
      });
    },
  };
}
