import { z } from 'zod';
import { principal } from '../../http/auth.js';
import type { HttpApp } from '../../http/server.js';
import type { DataService } from './data.service.js';

const name = z.object({ name: z.string() });
const keyQuery = z.object({ key: z.string().min(1) });
const tags = { tags: ['data'] };

export const listingSchema = z.object({
  prefix: z.string(),
  folders: z.array(z.string()),
  objects: z.array(
    z.object({ key: z.string(), size: z.number(), lastModified: z.string().optional(), etag: z.string().optional() }),
  ),
  nextCursor: z.string().optional(),
});
export type ListingResponse = z.infer<typeof listingSchema>;

/** The slow path: browse, read and write objects through rolegate, as the user. */
export function dataRoutes(data: DataService) {
  return async (app: HttpApp) => {
    // Object bodies are streamed to S3 untouched: no parsing, no buffering, no body limit of the JSON API.
    // The built-in JSON and text parsers go too, or they would consume a .json or .txt upload before the handler.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_req, _payload, done) => done(null));

    app.get(
      '/api/connections/:name/objects',
      {
        config: { audit: 'object.list' },
        schema: {
          ...tags,
          params: name,
          querystring: z.object({
            prefix: z.string().optional(),
            cursor: z.string().optional(),
            limit: z.coerce.number().int().min(1).max(1000).optional(),
          }),
          response: { 200: listingSchema },
        },
      },
      async (req) => data.list(principal(req), req.params.name, req.query),
    );

    app.head(
      '/api/connections/:name/object',
      { config: { audit: 'object.head' }, schema: { ...tags, params: name, querystring: keyQuery } },
      async (req, reply) => {
        const info = await data.head(principal(req), req.params.name, req.query.key);
        void reply.header('content-length', info.size);
        if (info.contentType) void reply.header('content-type', info.contentType);
        if (info.etag) void reply.header('etag', info.etag);
        if (info.lastModified) void reply.header('last-modified', new Date(info.lastModified).toUTCString());
        return reply.status(200).send();
      },
    );

    app.get(
      '/api/connections/:name/object',
      { config: { audit: 'object.get' }, schema: { ...tags, params: name, querystring: keyQuery } },
      async (req, reply) => {
        const range = req.headers.range;
        const obj = await data.get(principal(req), req.params.name, req.query.key, range);
        void reply.status(obj.status);
        void reply.header('content-type', obj.contentType ?? 'application/octet-stream');
        if (obj.contentLength !== undefined) void reply.header('content-length', obj.contentLength);
        if (obj.contentRange) void reply.header('content-range', obj.contentRange);
        if (obj.etag) void reply.header('etag', obj.etag);
        if (obj.lastModified) void reply.header('last-modified', obj.lastModified.toUTCString());
        void reply.header('accept-ranges', 'bytes');
        // Stop reading from S3 as soon as the client goes away.
        req.raw.once('close', () => {
          if (!reply.raw.writableFinished) obj.body.destroy();
        });
        return reply.send(obj.body);
      },
    );

    app.put(
      '/api/connections/:name/object',
      {
        // The data session records its decision (access.write) fail-closed before any byte goes to S3.
        config: { audit: 'object.put', auditRequest: false },
        schema: {
          ...tags,
          params: name,
          querystring: keyQuery,
          response: { 201: z.object({ key: z.string(), size: z.number(), etag: z.string().optional() }) },
        },
      },
      async (req, reply) => {
        const abort = new AbortController();
        req.raw.once('close', () => {
          if (!req.raw.complete) abort.abort();
        });
        const lengthHeader = req.headers['content-length'];
        const result = await data.put(principal(req), req.params.name, req.query.key, req.raw, {
          contentType: req.headers['content-type'],
          contentLength: lengthHeader === undefined ? undefined : Number(lengthHeader),
          signal: abort.signal,
        });
        return reply.status(201).send(result);
      },
    );

    app.delete(
      '/api/connections/:name/object',
      {
        config: { audit: 'object.delete', auditRequest: false },
        schema: { ...tags, params: name, querystring: keyQuery },
      },
      async (req, reply) => {
        await data.delete(principal(req), req.params.name, req.query.key);
        return reply.status(204).send();
      },
    );
  };
}
