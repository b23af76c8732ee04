import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import { migrateTo, migrateToLatest } from '../../src/db/migrations.js';
import type { Database } from '../../src/db/tables.js';
import { type AuditEvent, ChainVerifier, chain, GENESIS_HASH } from '../../src/domain/audit-event.js';
import { createAuditStore } from '../../src/modules/audit/audit.store.js';
import { createTestDatabase, type TestDialect, testDialects } from '../harness/postgres.js';

/** A store of `dialect` migrated only up to `migration`, as a deployment of an earlier release left it. */
async function storeAt(dialect: TestDialect, migration: string): Promise<{ db: Db; close(): Promise<void> }> {
  if (dialect === 'postgres') {
    const created = await createTestDatabase();
    const db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: created.url }) }),
    });
    await migrateTo(db, migration);
    return {
      db,
      async close() {
        await db.destroy();
        await created.drop();
      },
    };
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SqliteDatabase(':memory:') }) });
  await migrateTo(db, migration);
  return { db, close: () => db.destroy() };
}

/** The unique constraints of `audit_events` other than its primary key. */
async function uniqueOnAuditEvents(db: Db, dialect: TestDialect): Promise<string[]> {
  if (dialect === 'postgres') {
    const { rows } = await sql<{ name: string }>`
      select conname as name from pg_constraint
      where conrelid = 'audit_events'::regclass and contype = 'u'`.execute(db);
    return rows.map((r) => r.name);
  }
  const { rows } = await sql<{ name: string }>`
    select name from pragma_index_list('audit_events') where "unique" = 1 and origin = 'u'`.execute(db);
  return rows.map((r) => r.name);
}

async function indexesOnAuditEvents(db: Db, dialect: TestDialect): Promise<string[]> {
  const { rows } =
    dialect === 'postgres'
      ? await sql<{ name: string }>`select indexname as name from pg_indexes where tablename = 'audit_events'`.execute(
          db,
        )
      : await sql<{ name: string }>`select name from pragma_index_list('audit_events') where origin = 'c'`.execute(db);
  return rows.map((r) => r.name).sort();
}

describe.each(testDialects())('upgrading the audit trail on %s', (dialect) => {
  let opened: { db: Db; close(): Promise<void> } | undefined;
  afterEach(async () => {
    await opened?.close();
    opened = undefined;
  });

  it('drops the unique index on event ids and keeps every event, its columns and the chain as they were', async () => {
    opened = await storeAt(dialect, '0012_sts_budgets');
    const { db } = opened;
    expect(await uniqueOnAuditEvents(db, dialect)).toHaveLength(1);
    // A chain written by the earlier schema, with the search columns filled in and left empty.
    let head = { seq: 0, hash: GENESIS_HASH };
    const events = (['alice', 'bob', undefined] as const).map((actor, i) => {
      const content: AuditEvent = {
        id: `0190f000-0000-7000-8000-00000000000${i}`,
        time: `2026-12-03T10:00:0${i}.000Z`,
        action: 'credentials.issue',
        outcome: i === 2 ? 'denied' : 'allowed',
        ...(actor === undefined ? {} : { actor, connection: 's3-sales', sessionName: `rg-s3-sales-for-${actor}` }),
        ...(i === 0 ? { key: 'sales/q1.csv' } : {}),
      };
      const e = chain(head, content);
      head = e;
      return e;
    });
    await createAuditStore(db).append(events);
    const before = await db.selectFrom('audit_events').selectAll().orderBy('seq').execute();

    await migrateToLatest(db);

    expect(await uniqueOnAuditEvents(db, dialect)).toEqual([]);
    const indexes = await indexesOnAuditEvents(db, dialect);
    for (const name of ['audit_events_time', 'audit_events_actor', 'audit_events_connection']) {
      expect(indexes).toContain(name);
    }
    expect(await db.selectFrom('audit_events').selectAll().orderBy('seq').execute()).toEqual(before);
    const store = createAuditStore(db);
    const verifier = new ChainVerifier();
    for (const e of await store.page(0, 100)) verifier.push(e);
    expect(verifier.verdict()).toEqual({ ok: true, checked: 3, head: { seq: 3, hash: head.hash } });
    // Searches still use the columns, and the chain goes on from its head.
    expect((await store.search({ actor: 'bob', limit: 10 })).map((e) => e.seq)).toEqual([2]);
    expect(await store.head()).toEqual({ seq: 3, hash: head.hash });
    await store.append([
      chain(head, {
        id: '0190f000-0000-7000-8000-000000000003',
        time: '2026-12-03T10:00:03.000Z',
        action: 'session.delete',
        outcome: 'allowed',
      }),
    ]);
    expect((await store.head()).seq).toBe(4);
    await store.close();
  });
});
