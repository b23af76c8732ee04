import {
  CreatePartitionCommand,
  CreateTableCommand,
  DeleteTableCommand,
  GetDatabasesCommand,
  GetTableCommand,
  GetTablesCommand,
  GlueClient,
  type Table,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import type { Column } from '../../domain/dataset-schema.js';
import type { GluePartitionInput, GlueTableInput } from '../../domain/glue-table.js';
import type { AwsCredentials } from '../../domain/model.js';
import {
  conflict,
  notFound,
  permissionDenied,
  RolegateError,
  upstreamRejected,
  upstreamUnavailable,
} from '../../errors/errors.js';
import { LruMap } from '../../lib/lru-map.js';
import { awsErrorFacts, isRetryableAwsError } from './aws-error.js';
import { withRetry } from './retry.js';

/** Where and as whom Glue is called: a connection's Glue catalog, with a user's role session. */
export interface GlueTarget {
  readonly region: string;
  /** A Glue-compatible endpoint; default the AWS regional endpoint. */
  readonly endpoint?: string | undefined;
  /** The catalog (account id) to use; default the caller's account. */
  readonly catalogId?: string | undefined;
  readonly credentials: AwsCredentials;
  /** For error messages only. */
  readonly connection: string;
}

export interface GlueDatabaseInfo {
  readonly name: string;
  readonly description?: string | undefined;
  readonly locationUri?: string | undefined;
  readonly createTime?: string | undefined;
}

export interface GlueTableInfo {
  readonly name: string;
  readonly database: string;
  readonly description?: string | undefined;
  readonly owner?: string | undefined;
  readonly tableType?: string | undefined;
  readonly location?: string | undefined;
  readonly classification?: string | undefined;
  readonly inputFormat?: string | undefined;
  readonly serde?: string | undefined;
  readonly columns: Column[];
  readonly partitionKeys: Column[];
  readonly parameters: Record<string, string>;
  readonly createTime?: string | undefined;
  readonly updateTime?: string | undefined;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextToken?: string | undefined;
}

/** The one way rolegate talks to the AWS Glue Data Catalog. */
export interface GlueGateway {
  getDatabases(target: GlueTarget, nextToken?: string): Promise<Page<GlueDatabaseInfo>>;
  getTables(target: GlueTarget, database: string, nextToken?: string): Promise<Page<GlueTableInfo>>;
  /** The table, or undefined when Glue says it does not exist. */
  getTable(target: GlueTarget, database: string, name: string): Promise<GlueTableInfo | undefined>;
  createTable(target: GlueTarget, database: string, input: GlueTableInput): Promise<void>;
  updateTable(target: GlueTarget, database: string, input: GlueTableInput): Promise<void>;
  /** False when the table did not exist. */
  deleteTable(target: GlueTarget, database: string, name: string): Promise<boolean>;
  /** Registers a partition; one that already exists is left as it is. */
  createPartition(target: GlueTarget, database: string, table: string, input: GluePartitionInput): Promise<void>;
  destroy(): void;
}

export interface GlueGatewayOptions {
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly baseDelayMs?: number;
  readonly maxClients?: number;
}

/** Glue failures as typed errors; messages name the connection and what was asked, never a credential. */
export function mapGlueError(error: unknown, target: Pick<GlueTarget, 'connection'>, what: string): RolegateError {
  if (error instanceof RolegateError) return error;
  const { status, name, network } = awsErrorFacts(error);
  const details = { connection: target.connection };
  const where = `${what} in the Glue catalog of connection "${target.connection}"`;
  if (name === 'AccessDeniedException' || status === 403) {
    return permissionDenied('glue.access_denied', `Glue denied ${where} for this role session`, {
      cause: error,
      details,
    });
  }
  if (name === 'EntityNotFoundException') {
    return notFound('glue.not_found', `${where}: not found`, { cause: error, details });
  }
  if (name === 'AlreadyExistsException') {
    return conflict('glue.already_exists', `${where}: already exists`, { cause: error, details });
  }
  if (network || status === undefined || status >= 500 || isRetryableAwsError(error)) {
    return upstreamUnavailable('glue.unavailable', `Glue is unavailable for ${where}`, { cause: error });
  }
  return upstreamRejected('glue.rejected', `Glue rejected ${where} (${name})`, { cause: error, details });
}

const iso = (d: Date | undefined) => (d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : undefined);
const columns = (cs: { Name?: string | undefined; Type?: string | undefined }[] | undefined): Column[] =>
  (cs ?? []).map((c) => ({ name: c.Name ?? '', type: c.Type ?? '' }));

function tableInfo(t: Table, database: string): GlueTableInfo {
  const sd = t.StorageDescriptor;
  return {
    name: t.Name ?? '',
    database: t.DatabaseName ?? database,
    description: t.Description,
    owner: t.Owner,
    tableType: t.TableType,
    location: sd?.Location,
    classification: t.Parameters?.classification ?? sd?.Parameters?.classification,
    inputFormat: sd?.InputFormat,
    serde: sd?.SerdeInfo?.SerializationLibrary,
    columns: columns(sd?.Columns),
    partitionKeys: columns(t.PartitionKeys),
    parameters: { ...(t.Parameters ?? {}) },
    createTime: iso(t.CreateTime),
    updateTime: iso(t.UpdateTime),
  };
}

export function createGlueGateway(options: GlueGatewayOptions): GlueGateway {
  const clients = new LruMap<string, GlueClient>(options.maxClients ?? 500);

  function clientFor(target: GlueTarget): GlueClient {
    const c = target.credentials;
    const key = [target.endpoint ?? '', target.region, c.accessKeyId, c.sessionToken ?? ''].join('\u0000');
    let client = clients.get(key);
    if (client === undefined) {
      client = new GlueClient({
        region: target.region,
        endpoint: target.endpoint,
        credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken },
        // Retries are ours, so that their policy is explicit (and writes are not retried blindly).
        maxAttempts: 1,
        requestHandler: {
          requestTimeout: options.timeoutMs,
          connectionTimeout: options.timeoutMs,
          throwOnRequestTimeout: true,
        },
      });
      clients.set(key, client);
    }
    return client;
  }

  /** Reads retry on throttling, 5xx and network errors; writes are idempotent here (create → exists, delete → gone). */
  async function call<T>(target: GlueTarget, what: string, fn: (client: GlueClient) => Promise<T>): Promise<T> {
    const client = clientFor(target);
    try {
      return await withRetry(() => fn(client), {
        maxAttempts: options.maxAttempts,
        baseDelayMs: options.baseDelayMs ?? 100,
        maxDelayMs: 2_000,
        isRetryable: isRetryableAwsError,
      });
    } catch (e) {
      throw mapGlueError(e, target, what);
    }
  }

  return {
    async getDatabases(target, nextToken) {
      const out = await call(target, 'listing databases', (c) =>
        c.send(new GetDatabasesCommand({ CatalogId: target.catalogId, NextToken: nextToken })),
      );
      return {
        items: (out.DatabaseList ?? []).map((d) => ({
          name: d.Name ?? '',
          description: d.Description,
          locationUri: d.LocationUri,
          createTime: iso(d.CreateTime),
        })),
        nextToken: out.NextToken,
      };
    },
    async getTables(target, database, nextToken) {
      const out = await call(target, `listing the tables of database "${database}"`, (c) =>
        c.send(new GetTablesCommand({ CatalogId: target.catalogId, DatabaseName: database, NextToken: nextToken })),
      );
      return { items: (out.TableList ?? []).map((t) => tableInfo(t, database)), nextToken: out.NextToken };
    },
    async getTable(target, database, name) {
      try {
        const out = await call(target, `table "${database}.${name}"`, (c) =>
          c.send(new GetTableCommand({ CatalogId: target.catalogId, DatabaseName: database, Name: name })),
        );
        return out.Table === undefined ? undefined : tableInfo(out.Table, database);
      } catch (e) {
        if (e instanceof RolegateError && e.code === 'glue.not_found') return undefined;
        throw e;
      }
    },
    async createTable(target, database, input) {
      await call(target, `creating table "${database}.${input.Name}"`, (c) =>
        c.send(
          new CreateTableCommand({
            CatalogId: target.catalogId,
            DatabaseName: database,
            TableInput: input,
          }),
        ),
      );
    },
    async updateTable(target, database, input) {
      await call(target, `updating table "${database}.${input.Name}"`, (c) =>
        c.send(
          new UpdateTableCommand({
            CatalogId: target.catalogId,
            DatabaseName: database,
            TableInput: input,
          }),
        ),
      );
    },
    async deleteTable(target, database, name) {
      try {
        await call(target, `deleting table "${database}.${name}"`, (c) =>
          c.send(new DeleteTableCommand({ CatalogId: target.catalogId, DatabaseName: database, Name: name })),
        );
        return true;
      } catch (e) {
        if (e instanceof RolegateError && e.code === 'glue.not_found') return false;
        throw e;
      }
    },
    async createPartition(target, database, table, input) {
      try {
        await call(target, `adding a partition to table "${database}.${table}"`, (c) =>
          c.send(
            new CreatePartitionCommand({
              CatalogId: target.catalogId,
              DatabaseName: database,
              TableName: table,
              PartitionInput: input,
            }),
          ),
        );
      } catch (e) {
        if (e instanceof RolegateError && e.code === 'glue.already_exists') return;
        throw e;
      }
    },
    destroy() {
      // Clients share Node's global agent; nothing to close beyond dropping them.
    },
  };
}
