import { createWriteStream } from 'node:fs';
import { basename } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import type { DatasetResponse, WriteResponse } from '../../modules/catalog/datasets.routes.js';
import type { RolegateClient } from '../api-client.js';
import { type CliContext, UsageError } from '../context.js';

export const DATASETS_USAGE = `usage: rolegate datasets <create|list|describe|delete|write|read> [options]
  create PROJECT.NAME --connection C --format csv|parquet|jsonl [--column name:type ...]
         [--partition COL ...] [--description D]
                                   a managed dataset (schema inferred on the first write when no --column)
  list [--connection C] [--project P]
  describe PROJECT.NAME [--json]   schema, version, files and rows
  delete PROJECT.NAME [--with-data]
                                   the metadata; with --with-data, every object under its location too
  write PROJECT.NAME FILE... [--mode append|overwrite] [--partition k=v[/k2=v2]]
                                   one new version: one file in one request, several committed together
  read PROJECT.NAME [-o OUT]       every file as one stream, to stdout or OUT
`;

const FORMATS = ['csv', 'parquet', 'jsonl'] as const;

function datasetName(value: string | undefined): { project: string; name: string; path: string } {
  if (value === undefined) throw new UsageError('the dataset (PROJECT.NAME) is required');
  const dot = value.indexOf('.');
  if (dot <= 0 || dot === value.length - 1) throw new UsageError(`"${value}": a dataset is named PROJECT.NAME`);
  const project = value.slice(0, dot);
  const name = value.slice(dot + 1);
  return { project, name, path: `/api/datasets/${encodeURIComponent(project)}/${encodeURIComponent(name)}` };
}

function describe(d: DatasetResponse): string {
  const lines = [
    `${d.project}.${d.name}  ${d.format} on ${d.connection}  version ${d.version}, ${d.rows} row(s), ${d.files.length} file(s)`,
    `  location: ${d.locationUri}`,
    `  owner: ${d.owner}  catalog: ${d.catalog.kind}${d.catalog.database ? ` ${d.catalog.database}.${d.catalog.table}` : ''}`,
  ];
  if (d.description !== '') lines.push(`  description: ${d.description}`);
  lines.push(
    d.columns.length === 0 ? '  columns: (none yet: inferred on the first write)' : '  columns:',
    ...d.columns.map((c) => `    ${c.name} ${c.type}${d.partitionColumns.includes(c.name) ? ' (partition)' : ''}`),
  );
  const partitionOnly = d.partitionColumns.filter((p) => !d.columns.some((c) => c.name === p));
  if (partitionOnly.length > 0) lines.push(`  partitioned by: ${partitionOnly.join(', ')}`);
  for (const f of d.files) {
    const part = Object.entries(f.partition)
      .map(([k, v]) => `${k}=${v}`)
      .join('/');
    lines.push(`    ${f.key}  ${f.size} bytes, ${f.rows} row(s)${part === '' ? '' : `  [${part}]`}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Runs `work` with an abort signal that Ctrl-C (or SIGTERM) fires; `cleanup` runs once when it does or work fails. */
async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>, cleanup: () => Promise<void>): Promise<T> {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } catch (e) {
    await cleanup().catch(() => undefined);
    if (controller.signal.aborted) throw new Interrupted();
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

class Interrupted extends Error {}

async function write(client: RolegateClient, ctx: CliContext, rest: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { mode: { type: 'string', default: 'append' }, partition: { type: 'string' } },
  });
  const ds = datasetName(positionals[0]);
  const files = positionals.slice(1);
  if (files.length === 0) throw new UsageError('at least one FILE is required');
  const mode = values.mode;
  if (mode !== 'append' && mode !== 'overwrite') throw new UsageError('--mode must be append or overwrite');
  const partition = values.partition;
  const names = files.map((f) => basename(f));
  if (new Set(names).size !== names.length) throw new UsageError('the files must have different names');
  try {
    if (files.length === 1) {
      const q = new URLSearchParams({ file: names[0] as string, mode });
      if (partition !== undefined) q.set('partition', partition);
      const out = await interruptible(
        (signal) => client.uploadFile<DatasetResponse>('PUT', `${ds.path}/data?${q}`, files[0] as string, signal),
        async () => undefined,
      );
      ctx.stdout(`wrote ${names[0]} to ${ds.project}.${ds.name}: version ${out.version}, ${out.rows} row(s)\n`);
      return 0;
    }
    const spec: Record<string, string> = {};
    for (const part of (partition ?? '').split('/').filter((p) => p !== '')) {
      const eq = part.indexOf('=');
      if (eq <= 0) throw new UsageError(`--partition ${partition}: use k=v or a=1/b=2`);
      spec[part.slice(0, eq)] = part.slice(eq + 1);
    }
    const begun = await client.request<WriteResponse>('POST', `${ds.path}/writes`, {
      mode,
      ...(partition === undefined ? {} : { partition: spec }),
    });
    const writePath = `${ds.path}/writes/${encodeURIComponent(begun.writeId)}`;
    const out = await interruptible(
      async (signal) => {
        for (const [i, file] of files.entries()) {
          const name = names[i] as string;
          const up = await client.uploadFile<{ rows: number }>(
            'PUT',
            `${writePath}/files?${new URLSearchParams({ file: name })}`,
            file,
            signal,
          );
          ctx.stderr(`uploaded ${name}: ${up.rows} row(s)\n`);
        }
        signal.throwIfAborted();
        return client.request<DatasetResponse>('POST', `${writePath}/commit`);
      },
      async () => {
        await client.request('DELETE', writePath);
        ctx.stderr(`write ${begun.writeId} aborted; ${ds.project}.${ds.name} is unchanged\n`);
      },
    );
    ctx.stdout(`wrote ${files.length} files to ${ds.project}.${ds.name}: version ${out.version}, ${out.rows} row(s)\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    ctx.stderr('rolegate datasets write: interrupted\n');
    return 130;
  }
}

/** `rolegate datasets …`: managed datasets through the REST API, every S3 call as the caller's role session. */
export async function datasetsCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'create') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        connection: { type: 'string' },
        format: { type: 'string' },
        column: { type: 'string', multiple: true },
        partition: { type: 'string', multiple: true },
        description: { type: 'string' },
      },
    });
    const ds = datasetName(positionals[0]);
    if (values.connection === undefined) throw new UsageError('--connection is required');
    const format = values.format;
    if (!FORMATS.includes(format as (typeof FORMATS)[number]))
      throw new UsageError('--format must be csv, parquet or jsonl');
    const columns = (values.column ?? []).map((c) => {
      const colon = c.indexOf(':');
      if (colon <= 0 || colon === c.length - 1) throw new UsageError(`--column ${c}: use name:type`);
      return { name: c.slice(0, colon), type: c.slice(colon + 1) };
    });
    const client = await ctx.client();
    const created = await client.request<DatasetResponse>('POST', '/api/datasets', {
      project: ds.project,
      name: ds.name,
      connection: values.connection,
      format,
      ...(columns.length > 0 ? { columns } : {}),
      ...(values.partition !== undefined ? { partitionColumns: values.partition } : {}),
      ...(values.description !== undefined ? { description: values.description } : {}),
    });
    ctx.stdout(`created ${created.project}.${created.name} at ${created.locationUri}\n`);
    return 0;
  }
  if (sub === 'list') {
    const { values } = parseArgs({
      args: rest,
      options: { connection: { type: 'string' }, project: { type: 'string' } },
    });
    const q = new URLSearchParams();
    if (values.connection !== undefined) q.set('connection', values.connection);
    if (values.project !== undefined) q.set('project', values.project);
    const client = await ctx.client();
    const list = await client.request<DatasetResponse[]>('GET', `/api/datasets${q.size > 0 ? `?${q}` : ''}`);
    ctx.stdout(
      list.length === 0
        ? 'no datasets\n'
        : list
            .map(
              (d) =>
                `${d.project}.${d.name}  ${d.format}  ${d.connection}  v${d.version}  ${d.rows} row(s)  ${d.owner}\n`,
            )
            .join(''),
    );
    return 0;
  }
  if (sub === 'describe') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false } },
    });
    const ds = datasetName(positionals[0]);
    const d = await (await ctx.client()).request<DatasetResponse>('GET', ds.path);
    ctx.stdout(values.json ? `${JSON.stringify(d, null, 2)}\n` : describe(d));
    return 0;
  }
  if (sub === 'delete') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { 'with-data': { type: 'boolean', default: false } },
    });
    const ds = datasetName(positionals[0]);
    await (await ctx.client()).request('DELETE', `${ds.path}${values['with-data'] ? '?withData=true' : ''}`);
    ctx.stdout(`deleted ${ds.project}.${ds.name}${values['with-data'] ? ' and its data' : ' (metadata only)'}\n`);
    return 0;
  }
  if (sub === 'write') return write(await ctx.client(), ctx, rest);
  if (sub === 'read') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { output: { type: 'string', short: 'o' } },
    });
    const ds = datasetName(positionals[0]);
    const client = await ctx.client();
    const body = await client.download(`${ds.path}/data`);
    const out: Writable = values.output === undefined ? process.stdout : createWriteStream(values.output);
    await pipeline(body, out, { end: values.output !== undefined });
    return 0;
  }
  throw new UsageError(sub === undefined ? 'a subcommand is required' : `unknown subcommand ${sub}`);
}
