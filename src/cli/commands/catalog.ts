import { parseArgs } from 'node:util';
import type { DatabasesResponse, TablesResponse } from '../../modules/catalog/catalog.routes.js';
import { type CliContext, UsageError } from '../context.js';

export const CATALOG_USAGE = `usage: rolegate catalog <bind|unbind|databases|tables> [options]
  bind CONNECTION --glue DB [--region R] [--endpoint URL] [--catalog-id ID]
                                   keep the connection's datasets in Glue database DB (admins)
  unbind CONNECTION                back to rolegate's internal catalog (admins)
  databases CONNECTION             the catalog's databases, browsed with your role session
  tables CONNECTION DB             tables of DB: location, format and schema
`;

const path = (connection: string) => `/api/catalog/connections/${encodeURIComponent(connection)}`;

/** Follows `nextToken` until the catalog has answered everything. */
async function all<T extends { items: unknown[]; nextToken?: string; catalog: string }>(
  get: (nextToken: string | undefined) => Promise<T>,
): Promise<{ catalog: string; items: T['items'] }> {
  const items: T['items'] = [];
  let token: string | undefined;
  let catalog = '';
  do {
    const page = await get(token);
    catalog = page.catalog;
    items.push(...page.items);
    token = page.nextToken;
  } while (token !== undefined);
  return { catalog, items };
}

const page = (token: string | undefined) =>
  token === undefined ? '' : `?${new URLSearchParams({ nextToken: token })}`;

/** `rolegate catalog …`: a connection's catalog binding (internal or AWS Glue) and the catalog explorer. */
export async function catalogCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      glue: { type: 'string' },
      region: { type: 'string' },
      endpoint: { type: 'string' },
      'catalog-id': { type: 'string' },
    },
  });
  const connection = positionals[0];
  if (sub !== undefined && connection === undefined) throw new UsageError('CONNECTION is required');
  const c = connection as string;
  if (sub === 'bind') {
    if (values.glue === undefined) throw new UsageError('--glue DB is required');
    await (await ctx.client()).request('PUT', path(c), {
      catalog: 'glue',
      database: values.glue,
      ...(values.region !== undefined ? { region: values.region } : {}),
      ...(values.endpoint !== undefined ? { endpoint: values.endpoint } : {}),
      ...(values['catalog-id'] !== undefined ? { catalogId: values['catalog-id'] } : {}),
    });
    ctx.stdout(`${c}: datasets are kept in Glue database ${values.glue}\n`);
    return 0;
  }
  if (sub === 'unbind') {
    await (await ctx.client()).request('PUT', path(c), { catalog: 'internal' });
    ctx.stdout(`${c}: datasets are kept in rolegate's internal catalog\n`);
    return 0;
  }
  if (sub === 'databases') {
    const client = await ctx.client();
    const out = await all((t) => client.request<DatabasesResponse>('GET', `${path(c)}/databases${page(t)}`));
    ctx.stdout(
      out.items.length === 0
        ? `no databases (${out.catalog} catalog)\n`
        : out.items
            .map(
              (d) =>
                `${d.name}${d.locationUri ? `  ${d.locationUri}` : ''}${d.description ? `  ${d.description}` : ''}\n`,
            )
            .join(''),
    );
    return 0;
  }
  if (sub === 'tables') {
    const db = positionals[1];
    if (db === undefined) throw new UsageError('DB is required');
    const client = await ctx.client();
    const out = await all((t) =>
      client.request<TablesResponse>('GET', `${path(c)}/databases/${encodeURIComponent(db)}/tables${page(t)}`),
    );
    if (out.items.length === 0) {
      ctx.stdout(`no tables in ${db} (${out.catalog} catalog)\n`);
      return 0;
    }
    ctx.stdout(
      out.items
        .map((t) => {
          const cols = t.columns.map((col) => `${col.name} ${col.type}`).join(', ');
          const parts = t.partitionKeys.map((col) => `${col.name} ${col.type}`).join(', ');
          return (
            `${t.database}.${t.name}  ${t.format ?? t.tableType ?? ''}  ${t.location ?? ''}\n` +
            `  columns: ${cols === '' ? '-' : cols}\n` +
            (parts === '' ? '' : `  partition keys: ${parts}\n`)
          );
        })
        .join(''),
    );
    return 0;
  }
  throw new UsageError(sub === undefined ? 'a subcommand is required' : `unknown subcommand ${sub}`);
}
