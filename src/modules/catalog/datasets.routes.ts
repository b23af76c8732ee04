import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parsePartitionSpec } from '../../domain/dataset.js';
import { principal } from '../../http/auth.js';
import type { HttpApp } from '../../http/server.js';
import type { DatasetsService, UploadOptions } from './datasets.service.js';

const tags = { tags: ['datasets'] };
// Not `name`: the audit hook reads a `name` parameter as the connection.
const datasetParams = z.object({ project: z.string(), dataset: z.string() });
const writeParams = datasetParams.extend({ writeId: z.string() });
const column = z.object({ name: z.string(), type: z.string() });
const format = z.enum(['csv', 'parquet', 'jsonl']);
const mode = z.enum(['overwrite', 'append']);

export const datasetInputSchema = z
  .object({
    project: z.string(),
    name: z.string(),
    connection: z.string(),
    format,
    location: z.string().optional(),
    columns: z.array(column).max(1000).optional(),
    partitionColumns: z.array(z.string()).max(16).optional(),
    description: z.string().max(2048).optional(),
  })
  .strict();

export const datasetSchema = z.object({
  project: z.string(),
  name: z.string(),
  connection: z.string(),
  location: z.string(),
  locationUri: z.string(),
  format,
  columns: z.array(column),
  partitionColumns: z.array(z.string()),
  description: z.string(),
  owner: z.string(),
  catalog: z.object({
    kind: z.enum(['internal', 'glue']),
    database: z.string().optional(),
    table: z.string().optional(),
  }),
  version: z.number(),
  rows: z.number(),
  files: z.array(
    z.object({ key: z.string(), size: z.number(), rows: z.number(), partition: z.record(z.string(), z.string()) }),
  ),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type DatasetResponse = z.infer<typeof datasetSchema>;

export const writeSchema = z.object({
  writeId: z.string(),
  mode,
  partition: z.record(z.string(), z.string()),
  state: z.string(),
  files: z.array(z.object({ name: z.string(), size: z.number(), rows: z.number() })),
});
export type WriteResponse = z.infer<typeof writeSchema>;

const uploadedSchema = z.object({ name: z.string(), size: z.number(), rows: z.number(), columns: z.array(column) });

/** Abort when the client goes away before the whole body arrived; the declared length is checked by the service. */
function uploadOptions(req: FastifyRequest): UploadOptions {
  const abort = new AbortController();
  req.raw.once('close', () => {
    if (!req.raw.complete) abort.abort();
  });
  const length = req.headers['content-length'];
  return { contentLength: length === undefined ? undefined : Number(length), signal: abort.signal };
}

/**
 * Managed datasets: metadata (`/api/datasets`), writes (one file per request, or a write with several files
 * committed at once) and reads, all as the caller's own role session on the dataset's connection.
 */
export function datasetsRoutes(datasets: DatasetsService) {
  return async (app: HttpApp) => {
    app.post(
      '/api/datasets',
      {
        config: { audit: 'dataset.create' },
        schema: { ...tags, body: datasetInputSchema, response: { 201: datasetSchema } },
      },
      async (req, reply) => reply.status(201).send(await datasets.create(principal(req), req.body)),
    );
    app.get(
      '/api/datasets',
      {
        schema: {
          ...tags,
          querystring: z.object({ connection: z.string().optional(), project: z.string().optional() }),
          response: { 200: z.array(datasetSchema) },
        },
      },
      async (req) => datasets.list(principal(req), req.query),
    );
    app.get(
      '/api/datasets/:project/:dataset',
      { schema: { ...tags, params: datasetParams, response: { 200: datasetSchema } } },
      async (req) => datasets.describe(principal(req), req.params.project, req.params.dataset),
    );
    app.delete(
      '/api/datasets/:project/:dataset',
      {
        config: { audit: 'dataset.delete' },
        schema: {
          ...tags,
          params: datasetParams,
          querystring: z.object({ withData: z.enum(['true', 'false']).optional() }),
        },
      },
      async (req, reply) => {
        await datasets.remove(principal(req), req.params.project, req.params.dataset, {
          withData: req.query.withData === 'true',
        });
        return reply.status(204).send();
      },
    );
    app.get(
      '/api/datasets/:project/:dataset/data',
      {
        config: { audit: 'dataset.read' },
        schema: { ...tags, params: datasetParams, querystring: z.object({ file: z.string().optional() }) },
      },
      async (req, reply) => {
        const out = await datasets.read(principal(req), req.params.project, req.params.dataset, req.query.file);
        void reply.header('content-type', out.contentType);
        if (out.contentLength !== undefined) void reply.header('content-length', out.contentLength);
        req.raw.once('close', () => {
          if (!reply.raw.writableFinished) out.body.destroy();
        });
        return reply.send(out.body);
      },
    );
    app.post(
      '/api/datasets/:project/:dataset/writes',
      {
        config: { audit: 'dataset.write_begin' },
        schema: {
          ...tags,
          params: datasetParams,
          body: z.object({ mode, partition: z.record(z.string(), z.string()).optional() }).strict(),
          response: { 201: writeSchema },
        },
      },
      async (req, reply) =>
        reply
          .status(201)
          .send(await datasets.beginWrite(principal(req), req.params.project, req.params.dataset, req.body)),
    );
    app.post(
      '/api/datasets/:project/:dataset/writes/:writeId/commit',
      {
        config: { audit: 'dataset.write_commit' },
        schema: { ...tags, params: writeParams, response: { 200: datasetSchema } },
      },
      async (req) => datasets.commit(principal(req), req.params.project, req.params.dataset, req.params.writeId),
    );
    app.delete(
      '/api/datasets/:project/:dataset/writes/:writeId',
      { config: { audit: 'dataset.write_abort' }, schema: { ...tags, params: writeParams } },
      async (req, reply) => {
        await datasets.abort(principal(req), req.params.project, req.params.dataset, req.params.writeId);
        return reply.status(204).send();
      },
    );

    // Uploads are streamed to S3 through the schema check: no body parsing and no JSON body limit here.
    await app.register(async (uploads: HttpApp) => {
      uploads.removeAllContentTypeParsers();
      uploads.addContentTypeParser('*', (_req, _payload, done) => done(null));

      uploads.put(
        '/api/datasets/:project/:dataset/writes/:writeId/files',
        {
          config: { audit: 'dataset.write_file' },
          schema: {
            ...tags,
            params: writeParams,
            querystring: z.object({ file: z.string() }),
            response: { 201: uploadedSchema },
          },
        },
        async (req, reply) => {
          const p = req.params;
          const out = await datasets.upload(principal(req), p.project, p.dataset, p.writeId, req.query.file, req.raw, {
            ...uploadOptions(req),
          });
          return reply.status(201).send(out);
        },
      );
      uploads.put(
        '/api/datasets/:project/:dataset/data',
        {
          config: { audit: 'dataset.write' },
          schema: {
            ...tags,
            params: datasetParams,
            querystring: z.object({ file: z.string(), mode: mode.default('append'), partition: z.string().optional() }),
            response: { 200: datasetSchema },
          },
        },
        async (req) =>
          datasets.writeFile(principal(req), req.params.project, req.params.dataset, req.query.file, req.raw, {
            ...uploadOptions(req),
            mode: req.query.mode,
            partition: parsePartitionSpec(req.query.partition),
          }),
      );
    });
  };
}
