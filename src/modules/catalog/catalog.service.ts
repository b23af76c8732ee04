import type { GlueGateway, GlueTableInfo, GlueTarget } from '../../cloud/aws/glue.js';
import type { Dataset } from '../../domain/dataset.js';
import type { Column } from '../../domain/dataset-schema.js';
import type { Principal, RoleSession } from '../../domain/model.js';
import { invalidInput, notFound } from '../../errors/errors.js';
import type { Clock } from '../../lib/clock.js';
import type { ConnectionsService } from '../connections/connections.service.js';
import type { ConnectionRecord } from '../connections/connections.store.js';
import type { CredentialsService } from '../credentials/credentials.service.js';
import { requireAdmin } from '../identity/identity.service.js';
import type { CatalogStore, GlueBinding } from './catalog.store.js';
import { glueScopeOf } from './catalog.store.js';

export interface CatalogServiceDeps {
  readonly store: Pick<CatalogStore, 'findBinding' | 'putBinding' | 'deleteBinding' | 'listDatasets'>;
  readonly credentials: Pick<CredentialsService, 'sessionForData'>;
  readonly connections: Pick<ConnectionsService, 'get'>;
  readonly glue: Omit<GlueGateway, 'destroy'>;
  readonly clock: Clock;
}

/** Which catalog keeps a connection's datasets. */
export type CatalogBindingView =
  | { readonly connection: string; readonly catalog: 'internal' }
  | {
      readonly connection: string;
      readonly catalog: 'glue';
      readonly database: string;
      readonly region?: string | undefined;
      readonly endpoint?: string | undefined;
      readonly catalogId?: string | undefined;
      readonly updatedAt: string;
    };

export interface BindingInput {
  readonly catalog: 'internal' | 'glue';
  readonly database?: string | undefined;
  readonly region?: string | undefined;
  readonly endpoint?: string | undefined;
  readonly catalogId?: string | undefined;
}

export interface CatalogDatabaseView {
  readonly name: string;
  readonly description?: string | undefined;
  readonly locationUri?: string | undefined;
  readonly createTime?: string | undefined;
}

/** A table as the explorer shows it, from Glue or from the internal catalog. */
export interface CatalogTableView {
  readonly name: string;
  readonly database: string;
  readonly description?: string | undefined;
  readonly owner?: string | undefined;
  readonly tableType?: string | undefined;
  readonly location?: string | undefined;
  readonly format?: string | undefined;
  readonly inputFormat?: string | undefined;
  readonly serde?: string | undefined;
  readonly columns: Column[];
  readonly partitionKeys: Column[];
  readonly createTime?: string | undefined;
  readonly updateTime?: string | undefined;
}

export interface Paged<T> {
  readonly catalog: 'internal' | 'glue';
  readonly items: T[];
  readonly nextToken?: string | undefined;
}

export type CatalogService = ReturnType<typeof createCatalogService>;

/** Glue database names: what Glue accepts for Hive-compatible databases (lower case). */
const GLUE_DATABASE = /^[a-z0-9_]{1,255}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const CATALOG_ID = /^\d{12}$/;

/** The Glue target of a binding, called with a user's role session. */
export function glueTarget(binding: GlueBinding, record: ConnectionRecord, session: RoleSession): GlueTarget {
  return {
    region: binding.region ?? record.connection.target.region,
    endpoint: binding.endpoint,
    catalogId: binding.catalogId,
    credentials: session.credentials,
    connection: binding.connection,
  };
}

function fromGlue(t: GlueTableInfo): CatalogTableView {
  return {
    name: t.name,
    database: t.database,
    description: t.description,
    owner: t.owner,
    tableType: t.tableType,
    location: t.location,
    format: t.classification,
    inputFormat: t.inputFormat,
    serde: t.serde,
    columns: t.columns,
    partitionKeys: t.partitionKeys,
    createTime: t.createTime,
    updateTime: t.updateTime,
  };
}

function fromDataset(d: Dataset, locationUri: string): CatalogTableView {
  return {
    name: d.name,
    database: d.project,
    description: d.description,
    owner: d.owner,
    tableType: 'EXTERNAL_TABLE',
    location: locationUri,
    format: d.format,
    columns: [...d.columns],
    partitionKeys: d.partitionColumns.map((name) => ({ name, type: 'string' })),
    createTime: d.createdAt,
    updateTime: d.updatedAt,
  };
}

/**
 * Catalog bindings (admin) and the catalog explorer (users). Browsing runs with the caller's own role session
 * on the connection, so Glue answers with that role's rights; the internal catalog shows the connection's
 * datasets as databases (projects) and tables.
 */
export function createCatalogService(deps: CatalogServiceDeps) {
  const { store, glue } = deps;
  const now = () => new Date(deps.clock.now()).toISOString();

  async function browse(actor: Principal, connection: string) {
    const binding = await store.findBinding(connection);
    const { record, session, scope } = await deps.credentials.sessionForData(actor, connection, 'read', {
      glue: glueScopeOf(binding),
    });
    return { record, session, scope, binding };
  }

  return {
    async binding(actor: Principal, connection: string): Promise<CatalogBindingView> {
      await deps.connections.get(actor, connection);
      const b = await store.findBinding(connection);
      return b === undefined ? { connection, catalog: 'internal' } : { catalog: 'glue', ...b };
    },

    async setBinding(actor: Principal, connection: string, input: BindingInput): Promise<CatalogBindingView> {
      requireAdmin(actor);
      await deps.connections.get(actor, connection);
      if (input.catalog === 'internal') {
        await store.deleteBinding(connection);
        return { connection, catalog: 'internal' };
      }
      if (input.database === undefined || !GLUE_DATABASE.test(input.database)) {
        throw invalidInput('catalog.database_invalid', 'database must be a Glue database name (a-z, 0-9, "_")');
      }
      if (input.region !== undefined && !REGION.test(input.region)) {
        throw invalidInput('catalog.region_invalid', `region ${JSON.stringify(input.region)} is not an AWS region`);
      }
      if (input.catalogId !== undefined && !CATALOG_ID.test(input.catalogId)) {
        throw invalidInput('catalog.catalog_id_invalid', 'catalogId must be a 12-digit AWS account id');
      }
      if (input.endpoint !== undefined) {
        let url: URL;
        try {
          url = new URL(input.endpoint);
        } catch {
          throw invalidInput('catalog.endpoint_invalid', 'endpoint must be an http(s) URL');
        }
        if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') {
          throw invalidInput('catalog.endpoint_invalid', 'endpoint must be an http(s) URL without credentials');
        }
      }
      const binding: GlueBinding = {
        connection,
        database: input.database,
        region: input.region,
        endpoint: input.endpoint,
        catalogId: input.catalogId,
        updatedAt: now(),
      };
      await store.putBinding(binding);
      return { catalog: 'glue', ...binding };
    },

    async listDatabases(actor: Principal, connection: string, nextToken?: string): Promise<Paged<CatalogDatabaseView>> {
      const { record, session, binding } = await browse(actor, connection);
      if (binding !== undefined) {
        const page = await glue.getDatabases(glueTarget(binding, record, session), nextToken);
        return { catalog: 'glue', items: page.items, nextToken: page.nextToken };
      }
      const projects = new Set((await store.listDatasets({ connection })).map((d) => d.project));
      return { catalog: 'internal', items: [...projects].map((name) => ({ name })) };
    },

    async listTables(
      actor: Principal,
      connection: string,
      database: string,
      nextToken?: string,
    ): Promise<Paged<CatalogTableView>> {
      const { record, session, scope, binding } = await browse(actor, connection);
      if (binding !== undefined) {
        const page = await glue.getTables(glueTarget(binding, record, session), database, nextToken);
        return { catalog: 'glue', items: page.items.map(fromGlue), nextToken: page.nextToken };
      }
      const datasets = await store.listDatasets({ connection, project: database });
      if (datasets.length === 0) {
        throw notFound(
          'catalog.database_not_found',
          `database "${database}" does not exist in connection "${connection}"`,
        );
      }
      return {
        catalog: 'internal',
        items: datasets.map((d) => fromDataset(d, `s3://${scope.bucket}/${scope.prefix}${d.location}`)),
      };
    },

    async getTable(actor: Principal, connection: string, database: string, table: string): Promise<CatalogTableView> {
      const { record, session, scope, binding } = await browse(actor, connection);
      if (binding !== undefined) {
        const t = await glue.getTable(glueTarget(binding, record, session), database, table);
        if (t === undefined) {
          throw notFound('catalog.table_not_found', `table "${database}.${table}" does not exist in Glue`);
        }
        return fromGlue(t);
      }
      const d = (await store.listDatasets({ connection, project: database })).find((x) => x.name === table);
      if (d === undefined) {
        throw notFound(
          'catalog.table_not_found',
          `table "${database}.${table}" does not exist in connection "${connection}"`,
        );
      }
      return fromDataset(d, `s3://${scope.bucket}/${scope.prefix}${d.location}`);
    },
  };
}
