import { randomBytes, randomUUID } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import type { GlueGateway } from '../../cloud/aws/glue.js';
import {
  checkDatasetName,
  checkFileName,
  checkPartition,
  committedKey,
  type Dataset,
  type DatasetFormat,
  datasetLocation,
  EMPTY_MANIFEST,
  locationsOverlap,
  type ManifestFile,
  nextManifest,
  partitionPath,
  stagingPrefix,
  type WriteMode,
} from '../../domain/dataset.js';
import { type Column, mergeInferred, normalizeColumnType, schemaDifference } from '../../domain/dataset-schema.js';
import { gluePartitionInput, glueTableInput, glueTableName } from '../../domain/glue-table.js';
import type { Principal } from '../../domain/model.js';
import { TextSchemaScanner } from '../../domain/text-schema-scanner.js';
import { conflict, invalidInput, notFound, permissionDenied, RolegateError } from '../../errors/errors.js';
import type { Clock } from '../../lib/clock.js';
import type { DataService } from '../data/data.service.js';
import { glueTarget } from './catalog.service.js';
import type { CatalogStore, DatasetWrite, StagedFile } from './catalog.store.js';
import { type DatasetStorage, eachLimited, type UserBucket } from './dataset-storage.js';
import { SchemaCheckStream } from './schema-check-stream.js';

export interface DatasetsServiceDeps {
  readonly store: CatalogStore;
  readonly storage: DatasetStorage;
  /** Streamed, abortable uploads as the user. */
  readonly data: Pick<DataService, 'put'>;
  readonly glue: Omit<GlueGateway, 'destroy'>;
  readonly clock: Clock;
  /** An open write idle this long is abandoned: the next write of the dataset cleans its staging folder. */
  readonly staleWriteMs?: number;
}

export interface DatasetInput {
  readonly project: string;
  readonly name: string;
  readonly connection: string;
  readonly format: DatasetFormat;
  readonly location?: string | undefined;
  readonly columns?: readonly Column[] | undefined;
  readonly partitionColumns?: readonly string[] | undefined;
  readonly description?: string | undefined;
}

export interface DatasetView {
  readonly project: string;
  readonly name: string;
  readonly connection: string;
  readonly location: string;
  readonly locationUri: string;
  readonly format: DatasetFormat;
  readonly columns: Column[];
  readonly partitionColumns: string[];
  readonly description: string;
  readonly owner: string;
  readonly catalog: { kind: 'internal' | 'glue'; database?: string | undefined; table?: string | undefined };
  readonly version: number;
  readonly rows: number;
  readonly files: { key: string; size: number; rows: number; partition: Record<string, string> }[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface WriteView {
  readonly writeId: string;
  readonly mode: WriteMode;
  readonly partition: Record<string, string>;
  readonly state: string;
  readonly files: { name: string; size: number; rows: number }[];
}

export interface UploadOptions {
  readonly contentLength?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export type DatasetsService = ReturnType<typeof createDatasetsService>;

const DEFAULT_STALE_WRITE_MS = 60 * 60 * 1000;

function view(d: Dataset, bucket: Pick<UserBucket, 'uri'>): DatasetView {
  return {
    project: d.project,
    name: d.name,
    connection: d.connection,
    location: d.location,
    locationUri: bucket.uri(d.location),
    format: d.format,
    columns: [...d.columns],
    partitionColumns: [...d.partitionColumns],
    description: d.description,
    owner: d.owner,
    catalog:
      d.catalog === 'glue' ? { kind: 'glue', database: d.glueDatabase, table: glueTableName(d) } : { kind: 'internal' },
    version: d.manifest.version,
    rows: d.manifest.files.reduce((n, f) => n + f.rows, 0),
    files: d.manifest.files.map((f) => ({ key: f.key, size: f.size, rows: f.rows, partition: { ...f.partition } })),
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

/**
 * Managed datasets: metadata in the internal catalog (and, for connections bound to Glue, a Glue table kept in
 * step), data under the dataset's location. Every S3 and Glue call runs under the acting user's own role
 * session for the owning connection.
 *
 * Writes are atomic for readers: files are staged under `<location>_rolegate_staging/<write>/` (hidden from
 * Hive, Spark and Athena), checked, and only when every file of the write is complete are they copied to their
 * final keys and the manifest switched in one transaction. A failed or interrupted write never changes the
 * manifest, and its staging folder is emptied (at once, or by the next write of the dataset).
 */
export function createDatasetsService(deps: DatasetsServiceDeps) {
  const { store, storage, glue } = deps;
  const staleMs = deps.staleWriteMs ?? DEFAULT_STALE_WRITE_MS;
  const now = () => new Date(deps.clock.now()).toISOString();

  const missing = (project: string, name: string) =>
    notFound('dataset.not_found', `dataset "${project}.${name}" does not exist`, {
      details: { project, dataset: name },
    });

  /** The dataset and the caller's role session on its connection; the session is the permission check. */
  async function openDataset(actor: Principal, project: string, name: string, intent: 'read' | 'write') {
    const dataset = await store.findDataset(project, name);
    if (dataset === undefined) throw missing(project, name);
    const bucket = await storage.open(actor, dataset.connection, intent);
    return { dataset, bucket };
  }

  async function glueSync(dataset: Dataset, bucket: UserBucket) {
    if (dataset.catalog !== 'glue' || dataset.glueDatabase === undefined) return undefined;
    const binding = await store.findBinding(dataset.connection);
    if (binding === undefined) return undefined;
    return { target: glueTarget(binding, bucket.record, bucket.session), database: dataset.glueDatabase };
  }

  async function findWrite(dataset: Dataset, writeId: string, actor: Principal): Promise<DatasetWrite> {
    const write = await store.findWrite(writeId);
    // Another user's write is as invisible as a missing one.
    if (write === undefined || write.datasetId !== dataset.id || write.userId !== actor.userId) {
      throw notFound(
        'dataset.write_not_found',
        `write "${writeId}" does not exist for dataset "${dataset.project}.${dataset.name}"`,
      );
    }
    return write;
  }

  async function requireOpen(write: DatasetWrite) {
    if (write.state !== 'open') {
      throw conflict('dataset.write_closed', `write "${write.id}" is ${write.state}; start a new write`, {
        details: { state: write.state },
      });
    }
  }

  /** Empties a write's staging folder and records that it is clean. Best effort: a failure is retried later. */
  async function cleanStaging(bucket: UserBucket, dataset: Dataset, writeId: string): Promise<boolean> {
    try {
      const keys = await bucket.list(`${dataset.location}${stagingPrefix(writeId)}`);
      await eachLimited(keys, 8, (k) => bucket.delete(k));
      await store.markCleaned(writeId, now());
      return true;
    } catch {
      return false;
    }
  }

  /** Cleans the staging folders of failed, aborted and abandoned writes of a dataset. */
  async function sweep(bucket: UserBucket, dataset: Dataset): Promise<void> {
    const before = new Date(deps.clock.now() - staleMs).toISOString();
    for (const w of await store.leftoverWrites(dataset.id, before)) {
      if (w.state === 'open' || w.state === 'committing') {
        if (!(await store.transitionWrite(w.id, [w.state], 'aborted', now()))) continue;
      }
      await cleanStaging(bucket, dataset, w.id);
    }
  }

  async function beginWrite(
    actor: Principal,
    dataset: Dataset,
    bucket: UserBucket,
    input: { mode: WriteMode; partition?: Record<string, string> | undefined },
  ): Promise<DatasetWrite> {
    const partition = checkPartition(dataset.partitionColumns, input.partition);
    await sweep(bucket, dataset);
    const at = now();
    const write: DatasetWrite = {
      id: randomBytes(8).toString('hex'),
      datasetId: dataset.id,
      userId: actor.userId,
      username: actor.username,
      mode: input.mode,
      partition,
      state: 'open',
      cleaned: false,
      createdAt: at,
      updatedAt: at,
    };
    await store.createWrite(write);
    return write;
  }

  async function uploadFile(
    actor: Principal,
    dataset: Dataset,
    bucket: UserBucket,
    write: DatasetWrite,
    fileName: string,
    body: Readable,
    options: UploadOptions,
  ): Promise<StagedFile> {
    await requireOpen(write);
    checkFileName(fileName);
    const key = `${dataset.location}${stagingPrefix(write.id)}${fileName}`;
    const put = {
      contentLength: options.contentLength,
      signal: options.signal,
      contentType: contentTypeOf(dataset.format),
    };
    let staged: StagedFile;
    if (dataset.format === 'parquet') {
      const out = await deps.data.put(actor, dataset.connection, key, body, put);
      try {
        const footer = await bucket.parquetFooter(key, fileName);
        staged = { name: fileName, size: out.size, rows: footer.rows, columns: footer.columns, endsWithNewline: false };
        checkFileSchema(dataset, staged);
      } catch (e) {
        await bucket.delete(key).catch(() => undefined);
        throw e;
      }
    } else {
      const check = new SchemaCheckStream(
        new TextSchemaScanner({
          format: dataset.format,
          file: fileName,
          declared: dataset.columns,
          partitionColumns: dataset.partitionColumns,
        }),
      );
      body.on('error', (e) => check.destroy(e));
      // The check may refuse the body before the upload below listens to it; its failure is kept in
      // `check.failure` and reported from there, so an early 'error' must not go unhandled.
      check.on('error', () => undefined);
      body.pipe(check);
      let size: number;
      try {
        size = (await deps.data.put(actor, dataset.connection, key, check, put)).size;
      } catch (e) {
        // Discard the rest of a refused body, so the client gets the answer instead of a stalled upload.
        body.unpipe(check);
        body.resume();
        // The data service reports any body failure as an incomplete upload; say why when it was the schema.
        throw check.failure ?? e;
      }
      const result = check.result;
      if (result === undefined) throw invalidInput('dataset.file_invalid', `File "${fileName}" could not be read`);
      staged = {
        name: fileName,
        size,
        rows: result.rows,
        columns: result.columns,
        headerBytes: result.headerBytes,
        endsWithNewline: check.endsWithNewline,
      };
    }
    await store.putStagedFile(write.id, staged, now());
    return staged;
  }

  /** Throws when a staged file cannot be read as the dataset's schema (no-op while the dataset has none). */
  function checkFileSchema(dataset: Pick<Dataset, 'columns' | 'partitionColumns' | 'format'>, file: StagedFile) {
    const inFile = file.columns.filter((c) => dataset.partitionColumns.includes(c.name));
    if (inFile.length > 0) {
      throw schemaMismatch(
        file.name,
        `column "${inFile[0]?.name}" is a partition column; its value comes from the partition`,
      );
    }
    if (dataset.columns.length === 0) return;
    const why = schemaDifference(dataset.columns, file.columns, {
      ordered: dataset.format === 'csv',
      text: dataset.format !== 'parquet',
    });
    if (why !== null) throw schemaMismatch(file.name, why);
  }

  async function commit(dataset: Dataset, bucket: UserBucket, write: DatasetWrite): Promise<Dataset> {
    await requireOpen(write);
    const files = await store.stagedFiles(write.id);
    if (files.length === 0) {
      throw invalidInput('dataset.write_empty', `write "${write.id}" has no complete file; upload at least one`);
    }
    // The schema of this version: the dataset's, or inferred from these files on the first write.
    let columns: Column[] = [...dataset.columns];
    if (columns.length === 0) {
      let merged: Column[] | string = [...(files[0]?.columns ?? [])];
      for (const f of files.slice(1)) {
        merged =
          typeof merged === 'string' ? merged : mergeInferred(merged, f.columns, { ordered: dataset.format === 'csv' });
        if (typeof merged === 'string') throw schemaMismatch(f.name, merged);
      }
      columns = merged as Column[];
    } else {
      for (const f of files) checkFileSchema(dataset, f);
    }
    if (!(await store.transitionWrite(write.id, ['open'], 'committing', now()))) {
      throw conflict('dataset.write_closed', `write "${write.id}" is no longer open`);
    }
    const partPath = partitionPath(dataset.partitionColumns, write.partition);
    const added: ManifestFile[] = files.map((f) => ({
      key: committedKey(partPath, write.id, f.name),
      size: f.size,
      rows: f.rows,
      partition: { ...write.partition },
      headerBytes: f.headerBytes,
      endsWithNewline: dataset.format === 'parquet' ? undefined : f.endsWithNewline,
    }));
    const { manifest, replaced } = nextManifest(dataset.manifest, write.mode, write.partition, added);
    const next: Dataset = { ...dataset, columns, manifest, updatedAt: now() };
    const copied: string[] = [];
    try {
      const g = await glueSync(dataset, bucket);
      if (g !== undefined) {
        const uri = bucket.uri(dataset.location);
        await glue.updateTable(g.target, g.database, glueTableInput(next, uri));
        if (dataset.partitionColumns.length > 0) {
          await glue.createPartition(
            g.target,
            g.database,
            glueTableName(next),
            gluePartitionInput(next, uri, write.partition),
          );
        }
      }
      const staging = `${dataset.location}${stagingPrefix(write.id)}`;
      await eachLimited(files, 4, async (f) => {
        const to = `${dataset.location}${committedKey(partPath, write.id, f.name)}`;
        await bucket.copy(`${staging}${f.name}`, to);
        copied.push(to);
      });
      await store.switchManifest(dataset.id, dataset.manifest.version, manifest, columns, write.id, next.updatedAt);
    } catch (e) {
      // Nothing references the copies: remove them, and the staged files, so the failure leaves no garbage.
      await eachLimited(copied, 8, (k) => bucket.delete(k).catch(() => undefined));
      await store.transitionWrite(write.id, ['committing'], 'failed', now());
      await cleanStaging(bucket, dataset, write.id);
      throw e;
    }
    // The new version is live; what it replaced and the staging folder are unreferenced now.
    await eachLimited(replaced, 8, (f) => bucket.delete(`${dataset.location}${f.key}`).catch(() => undefined));
    await cleanStaging(bucket, dataset, write.id);
    return next;
  }

  async function abort(dataset: Dataset, bucket: UserBucket, write: DatasetWrite): Promise<void> {
    if (write.state === 'open') await store.transitionWrite(write.id, ['open'], 'aborted', now());
    await cleanStaging(bucket, dataset, write.id);
  }

  const writeView = async (w: DatasetWrite): Promise<WriteView> => ({
    writeId: w.id,
    mode: w.mode,
    partition: { ...w.partition },
    state: w.state,
    files: (await store.stagedFiles(w.id)).map((f) => ({ name: f.name, size: f.size, rows: f.rows })),
  });

  return {
    async create(actor: Principal, input: DatasetInput): Promise<DatasetView> {
      const project = checkDatasetName('project', input.project);
      const name = checkDatasetName('dataset', input.name);
      const columns = (input.columns ?? []).map((c) => ({
        name: checkDatasetName('column', c.name),
        type: normalizeColumnType(c.type),
      }));
      const partitionColumns = (input.partitionColumns ?? []).map((c) => checkDatasetName('column', c));
      const all = [...columns.map((c) => c.name), ...partitionColumns];
      if (new Set(all).size !== all.length) {
        throw invalidInput('dataset.schema_invalid', 'column and partition column names must be unique');
      }
      const location = datasetLocation(project, name, input.location);
      // Creating a dataset is writing to its connection: the caller's write session is the permission check.
      const bucket = await storage.open(actor, input.connection, 'write');
      const clash = (await store.listDatasets({ connection: input.connection })).find((d) =>
        locationsOverlap(d.location, location),
      );
      if (clash !== undefined) {
        throw conflict(
          'dataset.location_overlap',
          `location "${location}" overlaps the location of dataset "${clash.project}.${clash.name}"`,
        );
      }
      const binding = await store.findBinding(input.connection);
      const at = now();
      const dataset: Dataset = {
        id: randomUUID(),
        project,
        name,
        connection: input.connection,
        location,
        format: input.format,
        columns,
        partitionColumns,
        description: input.description ?? '',
        owner: actor.username,
        catalog: binding === undefined ? 'internal' : 'glue',
        glueDatabase: binding?.database,
        manifest: EMPTY_MANIFEST,
        createdAt: at,
        updatedAt: at,
      };
      await store.createDataset(dataset);
      if (binding !== undefined) {
        try {
          await glue.createTable(
            glueTarget(binding, bucket.record, bucket.session),
            binding.database,
            glueTableInput(dataset, bucket.uri(location)),
          );
        } catch (e) {
          await store.deleteDataset(dataset.id);
          throw e;
        }
      }
      return view(dataset, bucket);
    },

    /** The datasets on connections where the caller obtains a read session (others are left out, not refused). */
    async list(
      actor: Principal,
      filter: { connection?: string | undefined; project?: string | undefined } = {},
    ): Promise<DatasetView[]> {
      const all = await store.listDatasets(filter);
      const buckets = new Map<string, UserBucket | null>();
      for (const c of new Set(all.map((d) => d.connection))) {
        try {
          buckets.set(c, await storage.open(actor, c, 'read'));
        } catch (e) {
          if (e instanceof RolegateError && (e.kind === 'PermissionDenied' || e.kind === 'NotFound'))
            buckets.set(c, null);
          else throw e;
        }
      }
      return all.flatMap((d) => {
        const bucket = buckets.get(d.connection);
        return bucket ? [view(d, bucket)] : [];
      });
    },

    async describe(actor: Principal, project: string, name: string): Promise<DatasetView> {
      const { dataset, bucket } = await openDataset(actor, project, name, 'read');
      return view(dataset, bucket);
    },

    /** Deletes the metadata (and the Glue table); with `withData`, every object under the location first. */
    async remove(actor: Principal, project: string, name: string, options: { withData: boolean }): Promise<void> {
      const { dataset, bucket } = await openDataset(actor, project, name, 'write');
      if (dataset.owner !== actor.username && actor.role !== 'admin') {
        throw permissionDenied(
          'dataset.owner_required',
          `only the owner of dataset "${project}.${name}" or an admin may delete it`,
        );
      }
      if (options.withData) {
        const keys = await bucket.list(dataset.location);
        await eachLimited(keys, 8, (k) => bucket.delete(k));
      } else {
        // Staged files of unfinished writes belong to no version: they go with the metadata.
        for (const w of await store.leftoverWrites(dataset.id, new Date(deps.clock.now() + 1).toISOString())) {
          await cleanStaging(bucket, dataset, w.id);
        }
      }
      const g = await glueSync(dataset, bucket);
      if (g !== undefined) await glue.deleteTable(g.target, g.database, glueTableName(dataset));
      await store.deleteDataset(dataset.id);
    },

    async beginWrite(
      actor: Principal,
      project: string,
      name: string,
      input: { mode: WriteMode; partition?: Record<string, string> | undefined },
    ): Promise<WriteView> {
      const { dataset, bucket } = await openDataset(actor, project, name, 'write');
      return writeView(await beginWrite(actor, dataset, bucket, input));
    },

    async upload(
      actor: Principal,
      project: string,
      name: string,
      writeId: string,
      fileName: string,
      body: Readable,
      options: UploadOptions,
    ): Promise<{ name: string; size: number; rows: number; columns: Column[] }> {
      const { dataset, bucket } = await openDataset(actor, project, name, 'write');
      const write = await findWrite(dataset, writeId, actor);
      const f = await uploadFile(actor, dataset, bucket, write, fileName, body, options);
      return { name: f.name, size: f.size, rows: f.rows, columns: [...f.columns] };
    },

    async commit(actor: Principal, project: string, name: string, writeId: string): Promise<DatasetView> {
      const { dataset, bucket } = await openDataset(actor, project, name, 'write');
      const write = await findWrite(dataset, writeId, actor);
      return view(await commit(dataset, bucket, write), bucket);
    },

    async abort(actor: Principal, project: string, name: string, writeId: string): Promise<void> {
      const { dataset, bucket } = await openDataset(actor, project, name, 'write');
      const write = await findWrite(dataset, writeId, actor);
      if (write.state === 'committed' || write.state === 'committing') {
        throw conflict('dataset.write_closed', `write "${writeId}" is ${write.state}`);
      }
      await abort(dataset, bucket, write);
    },

    /**
     * One file in one request: begin, upload, commit. When anything fails (including the client going away
     * mid-upload) the write is aborted and the previous version stays the readable one.
     */
    async writeFile(
      actor: Principal,
      project: string,
      name: string,
      fileName: string,
      body: Readable,
      options: UploadOptions & { mode: WriteMode; partition?: Record<string, string> | undefined },
    ): Promise<DatasetView> {
      checkFileName(fileName);
      const { dataset, bucket } = await openDataset(actor, project, name, 'write');
      const write = await beginWrite(actor, dataset, bucket, options);
      try {
        await uploadFile(actor, dataset, bucket, write, fileName, body, options);
      } catch (e) {
        await abort(dataset, bucket, write);
        throw e;
      }
      return view(await commit(dataset, bucket, write), bucket);
    },

    /**
     * Streams the current version: one file by its manifest key, or every file in manifest order (CSV headers
     * after the first are skipped; Parquet files cannot be concatenated).
     */
    async read(
      actor: Principal,
      project: string,
      name: string,
      fileKey?: string | undefined,
    ): Promise<{ body: Readable; contentType: string; contentLength?: number | undefined }> {
      const { dataset, bucket } = await openDataset(actor, project, name, 'read');
      const files = dataset.manifest.files;
      const contentType = contentTypeOf(dataset.format);
      if (fileKey !== undefined) {
        const f = files.find((x) => x.key === fileKey);
        if (f === undefined) {
          throw notFound(
            'dataset.file_not_found',
            `file "${fileKey}" is not in the current version of "${project}.${name}"`,
          );
        }
        return { body: await bucket.stream(`${dataset.location}${f.key}`), contentType, contentLength: f.size };
      }
      if (dataset.format === 'parquet' && files.length > 1) {
        throw invalidInput(
          'dataset.read_per_file',
          `dataset "${project}.${name}" has ${files.length} Parquet files, which cannot be concatenated; read them one by one with ?file=`,
        );
      }
      // Open the first object before answering, so that a denial or a missing file is an error, not a cut stream.
      const first = files[0] === undefined ? undefined : await bucket.stream(`${dataset.location}${files[0].key}`);
      const out = new PassThrough();
      void (async () => {
        try {
          for (const [i, f] of files.entries()) {
            const skip = i > 0 && dataset.format === 'csv' ? (f.headerBytes ?? 0) : 0;
            if (i > 0 && skip >= f.size) continue;
            const body =
              i === 0 && first !== undefined
                ? first
                : await bucket.stream(`${dataset.location}${f.key}`, skip > 0 ? `bytes=${skip}-` : undefined);
            for await (const chunk of body) {
              if (!out.write(chunk)) {
                await new Promise((r) => {
                  out.once('drain', r);
                  out.once('close', r);
                });
              }
              if (out.destroyed) {
                body.destroy();
                return;
              }
            }
            if (f.endsWithNewline === false && i < files.length - 1) out.write('\n');
          }
          out.end();
        } catch (e) {
          out.destroy(e as Error);
        }
      })();
      return { body: out, contentType };
    },
  };
}

function contentTypeOf(format: DatasetFormat): string {
  return format === 'csv' ? 'text/csv' : format === 'jsonl' ? 'application/x-ndjson' : 'application/vnd.apache.parquet';
}

function schemaMismatch(file: string, why: string): RolegateError {
  return invalidInput(
    'dataset.schema_mismatch',
    `File ${JSON.stringify(file)} does not match the dataset schema: ${why}`,
    {
      details: { file },
    },
  );
}
