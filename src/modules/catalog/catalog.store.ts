import type { Db } from '../../db/connect.js';
import { isUniqueViolation } from '../../db/connect.js';
import type { DatasetsTable, DatasetWritesTable } from '../../db/tables.js';
import type { CatalogKind, Dataset, DatasetFormat, Manifest, WriteMode } from '../../domain/dataset.js';
import type { Column } from '../../domain/dataset-schema.js';
import type { GlueScope } from '../../domain/model.js';
import { conflict } from '../../errors/errors.js';

export type WriteState = 'open' | 'committing' | 'committed' | 'aborted' | 'failed';

/** One write of a dataset, and the files it completely staged so far. */
export interface DatasetWrite {
  readonly id: string;
  readonly datasetId: string;
  readonly userId: string;
  readonly username: string;
  readonly mode: WriteMode;
  readonly partition: Readonly<Record<string, string>>;
  readonly state: WriteState;
  readonly cleaned: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface StagedFile {
  readonly name: string;
  readonly size: number;
  readonly rows: number;
  readonly columns: readonly Column[];
  readonly headerBytes?: number | undefined;
  /** Text formats: whether the last byte is a line break. */
  readonly endsWithNewline: boolean;
}

/** The Glue part of a role session's scope for a bound connection (none for the internal catalog). */
export function glueScopeOf(binding: GlueBinding | undefined): GlueScope | undefined {
  if (binding === undefined) return undefined;
  // Without a region of its own the binding uses the connection's; '*' keeps the grant to this database alone.
  return { region: binding.region ?? '*', database: binding.database, catalogId: binding.catalogId };
}

/** A connection whose datasets are also kept in a Glue database. */
export interface GlueBinding {
  readonly connection: string;
  readonly database: string;
  readonly region?: string | undefined;
  readonly endpoint?: string | undefined;
  readonly catalogId?: string | undefined;
  readonly updatedAt: string;
}

/** The internal catalog: datasets with their manifests, writes in progress, and Glue bindings of connections. */
export interface CatalogStore {
  createDataset(dataset: Dataset): Promise<void>;
  findDataset(project: string, name: string): Promise<Dataset | undefined>;
  listDatasets(filter?: { connection?: string | undefined; project?: string | undefined }): Promise<Dataset[]>;
  deleteDataset(id: string): Promise<boolean>;
  /** Sets the columns (first write) without touching the manifest. */
  setColumns(id: string, columns: readonly Column[], now: string): Promise<void>;
  /**
   * Switches the manifest when the dataset is still at `expectedVersion` and marks the write committed, in one
   * transaction: readers see the old files or the new ones, never a mix.
   * @throws RolegateError `dataset.version_conflict` when another write switched it first.
   */
  switchManifest(
    id: string,
    expectedVersion: number,
    manifest: Manifest,
    columns: readonly Column[],
    writeId: string,
    now: string,
  ): Promise<void>;

  createWrite(write: DatasetWrite): Promise<void>;
  findWrite(id: string): Promise<DatasetWrite | undefined>;
  /** Moves a write from one state to another; false when it was not in `from` (someone else moved it). */
  transitionWrite(id: string, from: readonly WriteState[], to: WriteState, now: string): Promise<boolean>;
  markCleaned(id: string, now: string): Promise<void>;
  /** Writes of a dataset whose staging folder may still hold files: failed/aborted, or open and idle since `before`. */
  leftoverWrites(datasetId: string, before: string): Promise<DatasetWrite[]>;
  putStagedFile(writeId: string, file: StagedFile, now: string): Promise<void>;
  stagedFiles(writeId: string): Promise<StagedFile[]>;

  findBinding(connection: string): Promise<GlueBinding | undefined>;
  putBinding(binding: GlueBinding): Promise<void>;
  deleteBinding(connection: string): Promise<boolean>;
}

function toDataset(r: DatasetsTable): Dataset {
  return {
    id: r.id,
    project: r.project,
    name: r.name,
    connection: r.connection,
    location: r.location,
    format: r.format as DatasetFormat,
    columns: JSON.parse(r.columns) as Column[],
    partitionColumns: JSON.parse(r.partition_columns) as string[],
    description: r.description,
    owner: r.owner,
    catalog: r.catalog as CatalogKind,
    glueDatabase: r.glue_database ?? undefined,
    manifest: JSON.parse(r.manifest) as Manifest,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toWrite(r: DatasetWritesTable): DatasetWrite {
  return {
    id: r.id,
    datasetId: r.dataset_id,
    userId: r.user_id,
    username: r.username,
    mode: r.mode as WriteMode,
    partition: JSON.parse(r.partition) as Record<string, string>,
    state: r.state as WriteState,
    cleaned: Number(r.cleaned) === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function createCatalogStore(db: Db): CatalogStore {
  return {
    async createDataset(d) {
      try {
        await db
          .insertInto('datasets')
          .values({
            id: d.id,
            project: d.project,
            name: d.name,
            connection: d.connection,
            location: d.location,
            format: d.format,
            columns: JSON.stringify(d.columns),
            partition_columns: JSON.stringify(d.partitionColumns),
            description: d.description,
            owner: d.owner,
            catalog: d.catalog,
            glue_database: d.glueDatabase ?? null,
            manifest: JSON.stringify(d.manifest),
            version: d.manifest.version,
            created_at: d.createdAt,
            updated_at: d.updatedAt,
          })
          .execute();
      } catch (e) {
        if (isUniqueViolation(e)) {
          throw conflict('dataset.exists', `dataset "${d.project}.${d.name}" already exists`, {
            details: { project: d.project, dataset: d.name },
          });
        }
        throw e;
      }
    },
    async findDataset(project, name) {
      const row = await db
        .selectFrom('datasets')
        .selectAll()
        .where('project', '=', project)
        .where('name', '=', name)
        .executeTakeFirst();
      return row && toDataset(row);
    },
    async listDatasets(filter = {}) {
      let q = db.selectFrom('datasets').selectAll().orderBy('project').orderBy('name');
      if (filter.connection !== undefined) q = q.where('connection', '=', filter.connection);
      if (filter.project !== undefined) q = q.where('project', '=', filter.project);
      return (await q.execute()).map(toDataset);
    },
    async deleteDataset(id) {
      const r = await db.deleteFrom('datasets').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async setColumns(id, columns, now) {
      await db
        .updateTable('datasets')
        .set({ columns: JSON.stringify(columns), updated_at: now })
        .where('id', '=', id)
        .execute();
    },
    async switchManifest(id, expectedVersion, manifest, columns, writeId, now) {
      await db.transaction().execute(async (tx) => {
        const r = await tx
          .updateTable('datasets')
          .set({
            manifest: JSON.stringify(manifest),
            version: manifest.version,
            columns: JSON.stringify(columns),
            updated_at: now,
          })
          .where('id', '=', id)
          .where('version', '=', expectedVersion)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) {
          throw conflict(
            'dataset.version_conflict',
            'another write changed the dataset at the same time; nothing was changed, write again',
          );
        }
        await tx
          .updateTable('dataset_writes')
          .set({ state: 'committed', updated_at: now })
          .where('id', '=', writeId)
          .execute();
      });
    },

    async createWrite(w) {
      await db
        .insertInto('dataset_writes')
        .values({
          id: w.id,
          dataset_id: w.datasetId,
          user_id: w.userId,
          username: w.username,
          mode: w.mode,
          partition: JSON.stringify(w.partition),
          state: w.state,
          cleaned: w.cleaned ? 1 : 0,
          created_at: w.createdAt,
          updated_at: w.updatedAt,
        })
        .execute();
    },
    async findWrite(id) {
      const row = await db.selectFrom('dataset_writes').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toWrite(row);
    },
    async transitionWrite(id, from, to, now) {
      const r = await db
        .updateTable('dataset_writes')
        .set({ state: to, updated_at: now })
        .where('id', '=', id)
        .where('state', 'in', [...from])
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async markCleaned(id, now) {
      await db.updateTable('dataset_writes').set({ cleaned: 1, updated_at: now }).where('id', '=', id).execute();
    },
    async leftoverWrites(datasetId, before) {
      const rows = await db
        .selectFrom('dataset_writes')
        .selectAll()
        .where('dataset_id', '=', datasetId)
        .where('cleaned', '=', 0)
        .where((eb) =>
          eb.or([
            eb('state', 'in', ['aborted', 'failed', 'committed']),
            eb.and([eb('state', 'in', ['open', 'committing']), eb('updated_at', '<', before)]),
          ]),
        )
        .execute();
      return rows.map(toWrite);
    },
    async putStagedFile(writeId, f, now) {
      const values = {
        write_id: writeId,
        name: f.name,
        size: f.size,
        rows: f.rows,
        columns: JSON.stringify(f.columns),
        header_bytes: f.headerBytes ?? null,
        ends_with_newline: f.endsWithNewline ? 1 : 0,
        created_at: now,
      };
      await db
        .insertInto('dataset_write_files')
        .values(values)
        .onConflict((oc) =>
          oc.columns(['write_id', 'name']).doUpdateSet({
            size: values.size,
            rows: values.rows,
            columns: values.columns,
            header_bytes: values.header_bytes,
            ends_with_newline: values.ends_with_newline,
            created_at: now,
          }),
        )
        .execute();
    },
    async stagedFiles(writeId) {
      const rows = await db
        .selectFrom('dataset_write_files')
        .selectAll()
        .where('write_id', '=', writeId)
        .orderBy('name')
        .execute();
      return rows.map((r) => ({
        name: r.name,
        size: Number(r.size),
        rows: Number(r.rows),
        columns: JSON.parse(r.columns) as Column[],
        headerBytes: r.header_bytes === null ? undefined : Number(r.header_bytes),
        endsWithNewline: Number(r.ends_with_newline) === 1,
      }));
    },

    async findBinding(connection) {
      const r = await db
        .selectFrom('catalog_bindings')
        .selectAll()
        .where('connection', '=', connection)
        .executeTakeFirst();
      return (
        r && {
          connection: r.connection,
          database: r.glue_database,
          region: r.region ?? undefined,
          endpoint: r.endpoint ?? undefined,
          catalogId: r.catalog_id ?? undefined,
          updatedAt: r.updated_at,
        }
      );
    },
    async putBinding(b) {
      const values = {
        connection: b.connection,
        kind: 'glue',
        glue_database: b.database,
        region: b.region ?? null,
        endpoint: b.endpoint ?? null,
        catalog_id: b.catalogId ?? null,
        updated_at: b.updatedAt,
      };
      await db
        .insertInto('catalog_bindings')
        .values(values)
        .onConflict((oc) => oc.column('connection').doUpdateSet({ ...values }))
        .execute();
    },
    async deleteBinding(connection) {
      const r = await db.deleteFrom('catalog_bindings').where('connection', '=', connection).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
  };
}
