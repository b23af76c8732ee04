import { z } from 'zod';
import { principal } from '../../http/auth.js';
import type { HttpApp } from '../../http/server.js';
import type { CatalogService } from './catalog.service.js';

const tags = { tags: ['catalog'] };
const connectionParams = z.object({ name: z.string() });
const page = z.object({ nextToken: z.string().max(4096).optional() });
const column = z.object({ name: z.string(), type: z.string() });

export const bindingSchema = z.union([
  z.object({ connection: z.string(), catalog: z.literal('internal') }),
  z.object({
    connection: z.string(),
    catalog: z.literal('glue'),
    database: z.string(),
    region: z.string().optional(),
    endpoint: z.string().optional(),
    catalogId: z.string().optional(),
    updatedAt: z.string(),
  }),
]);

export const bindingInputSchema = z
  .object({
    catalog: z.enum(['internal', 'glue']),
    database: z.string().optional(),
    region: z.string().optional(),
    endpoint: z.string().optional(),
    catalogId: z.string().optional(),
  })
  .strict();

export const databasesSchema = z.object({
  catalog: z.enum(['internal', 'glue']),
  items: z.array(
    z.object({
      name: z.string(),
      description: z.string().optional(),
      locationUri: z.string().optional(),
      createTime: z.string().optional(),
    }),
  ),
  nextToken: z.string().optional(),
});
export type DatabasesResponse = z.infer<typeof databasesSchema>;

export const tableSchema = z.object({
  name: z.string(),
  database: z.string(),
  description: z.string().optional(),
  owner: z.string().optional(),
  tableType: z.string().optional(),
  location: z.string().optional(),
  format: z.string().optional(),
  inputFormat: z.string().optional(),
  serde: z.string().optional(),
  columns: z.array(column),
  partitionKeys: z.array(column),
  createTime: z.string().optional(),
  updateTime: z.string().optional(),
});
export const tablesSchema = z.object({
  catalog: z.enum(['internal', 'glue']),
  items: z.array(tableSchema),
  nextToken: z.string().optional(),
});
export type TablesResponse = z.infer<typeof tablesSchema>;

/**
 * The catalog explorer (`/api/catalog/connections/{name}/databases[/{db}/tables[/{table}]]`), browsed with
 * the caller's own role session, and the admin-set catalog binding of a connection.
 */
export function catalogRoutes(catalog: CatalogService) {
  return async (app: HttpApp) => {
    app.get(
      '/api/catalog/connections/:name',
      { schema: { ...tags, params: connectionParams, response: { 200: bindingSchema } } },
      async (req) => catalog.binding(principal(req), req.params.name),
    );
    app.put(
      '/api/catalog/connections/:name',
      {
        config: { audit: 'catalog.bind' },
        schema: { ...tags, params: connectionParams, body: bindingInputSchema, response: { 200: bindingSchema } },
      },
      async (req) => catalog.setBinding(principal(req), req.params.name, req.body),
    );
    app.get(
      '/api/catalog/connections/:name/databases',
      {
        config: { audit: 'catalog.databases' },
        schema: { ...tags, params: connectionParams, querystring: page, response: { 200: databasesSchema } },
      },
      async (req) => catalog.listDatabases(principal(req), req.params.name, req.query.nextToken),
    );
    app.get(
      '/api/catalog/connections/:name/databases/:database/tables',
      {
        config: { audit: 'catalog.tables' },
        schema: {
          ...tags,
          params: z.object({ name: z.string(), database: z.string() }),
          querystring: page,
          response: { 200: tablesSchema },
        },
      },
      async (req) => catalog.listTables(principal(req), req.params.name, req.params.database, req.query.nextToken),
    );
    app.get(
      '/api/catalog/connections/:name/databases/:database/tables/:table',
      {
        config: { audit: 'catalog.table' },
        schema: {
          ...tags,
          params: z.object({ name: z.string(), database: z.string(), table: z.string() }),
          response: { 200: tableSchema },
        },
      },
      async (req) => catalog.getTable(principal(req), req.params.name, req.params.database, req.params.table),
    );
  };
}
