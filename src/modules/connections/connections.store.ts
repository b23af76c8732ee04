import type { Db } from '../../db/connect.js';
import { isUniqueViolation } from '../../db/connect.js';
import type { Connection } from '../../domain/model.js';
import { conflict } from '../../errors/errors.js';

export interface ConnectionRecord {
  readonly connection: Connection;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Connections as JSON specs (never secrets: those live in the vault). */
export interface ConnectionStore {
  create(connection: Connection, now: string): Promise<ConnectionRecord>;
  /** Replaces the spec when `expectedVersion` matches (optimistic concurrency); returns the new record. */
  update(connection: Connection, expectedVersion: number | undefined, now: string): Promise<ConnectionRecord>;
  find(name: string): Promise<ConnectionRecord | undefined>;
  list(): Promise<ConnectionRecord[]>;
  delete(name: string): Promise<boolean>;
}

export function createConnectionStore(db: Db): ConnectionStore {
  const toRecord = (r: {
    spec: string;
    version: number;
    created_at: string;
    updated_at: string;
  }): ConnectionRecord => ({
    connection: JSON.parse(r.spec) as Connection,
    version: Number(r.version),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });

  const find = async (name: string) => {
    const row = await db.selectFrom('connections').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toRecord(row);
  };

  return {
    async create(connection, now) {
      try {
        await db
          .insertInto('connections')
          .values({
            name: connection.name,
            spec: JSON.stringify(connection),
            version: 1,
            created_at: now,
            updated_at: now,
          })
          .execute();
      } catch (e) {
        if (isUniqueViolation(e)) throw conflict('connection.exists', `connection "${connection.name}" already exists`);
        throw e;
      }
      return { connection, version: 1, createdAt: now, updatedAt: now };
    },
    async update(connection, expectedVersion, now) {
      let query = db
        .updateTable('connections')
        .set((eb) => ({ spec: JSON.stringify(connection), updated_at: now, version: eb('version', '+', 1) }))
        .where('name', '=', connection.name);
      if (expectedVersion !== undefined) query = query.where('version', '=', expectedVersion);
      const r = await query.executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) {
        throw conflict(
          'connection.version_conflict',
          `connection "${connection.name}" was changed by someone else; reload it and try again`,
        );
      }
      const record = await find(connection.name);
      if (record === undefined)
        throw conflict('connection.version_conflict', `connection "${connection.name}" vanished`);
      return record;
    },
    find,
    async list() {
      const rows = await db.selectFrom('connections').selectAll().orderBy('name').execute();
      return rows.map(toRecord);
    },
    async delete(name) {
      const r = await db.deleteFrom('connections').where('name', '=', name).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
  };
}
