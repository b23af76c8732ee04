import { z } from 'zod';
import { principal } from '../../http/auth.js';
import type { HttpApp } from '../../http/server.js';
import { listingSchema } from '../data/data.routes.js';
import type { MountRecord } from './federation.store.js';
import type { MountsService } from './mounts.service.js';

export const mountViewSchema = z.object({
  path: z.string(),
  connection: z.string(),
  prefix: z.string(),
  roleArn: z.string().nullable(),
  description: z.string(),
  createdAt: z.string(),
});
export type MountResponse = z.infer<typeof mountViewSchema>;

const tags = { tags: ['mounts'] };
const view = (m: MountRecord): MountResponse => ({ ...m, path: `/mnt/${m.path}` });

/** Admin mounts (`/api/mounts`) and reading through them as the user (`/api/mnt/...`). */
export function mountsRoutes(mounts: MountsService) {
  return async (app: HttpApp) => {
    app.post(
      '/api/mounts',
      {
        config: { audit: 'mount.create' },
        schema: {
          ...tags,
          body: z
            .object({
              path: z.string().max(512),
              connection: z.string(),
              prefix: z.string().max(1024).optional(),
              roleArn: z.string().max(2048).optional(),
              description: z.string().max(1000).optional(),
            })
            .strict(),
          response: { 201: mountViewSchema },
        },
      },
      async (req, reply) => reply.status(201).send(view(await mounts.create(principal(req), req.body))),
    );
    app.get('/api/mounts', { schema: { ...tags, response: { 200: z.array(mountViewSchema) } } }, async (req) =>
      (await mounts.visibleTo(principal(req))).map(view),
    );
    app.delete(
      '/api/mounts/*',
      { config: { audit: 'mount.delete' }, schema: { ...tags, params: z.object({ '*': z.string() }) } },
      async (req, reply) => {
        await mounts.delete(principal(req), req.params['*']);
        return reply.status(204).send();
      },
    );
    // A path ending in '/' lists a folder; anything else reads an object.
    app.get(
      '/api/mnt/*',
      {
        config: { audit: 'mount.read' },
        schema: {
          ...tags,
          params: z.object({ '*': z.string() }),
          querystring: z.object({ cursor: z.string().optional() }),
        },
      },
      async (req, reply) => {
        const path = req.params['*'];
        const actor = principal(req);
        if (path === '' || path.endsWith('/')) {
          return reply.send(listingSchema.parse(await mounts.list(actor, path, { cursor: req.query.cursor })));
        }
        const obj = await mounts.get(actor, path, req.headers.range);
        void reply.status(obj.status);
        void reply.header('content-type', obj.contentType ?? 'application/octet-stream');
        if (obj.contentLength !== undefined) void reply.header('content-length', obj.contentLength);
        if (obj.contentRange) void reply.header('content-range', obj.contentRange);
        if (obj.etag) void reply.header('etag', obj.etag);
        req.raw.once('close', () => {
          if (!reply.raw.writableFinished) obj.body.destroy();
        });
        return reply.send(obj.body);
      },
    );
  };
}
