import { z } from 'zod';
import { principal } from '../../http/auth.js';
import type { HttpApp } from '../../http/server.js';
import { connectionInputSchema, connectionViewSchema } from './connection-input.js';
import type { ConnectionsService } from './connections.service.js';

const name = z.object({ name: z.string() });
const tags = { tags: ['connections'] };

/** Connection administration, and each user's view of the connections they may use. */
export function connectionsRoutes(connections: ConnectionsService) {
  return async (app: HttpApp) => {
    app.post(
      '/api/connections',
      {
        config: { audit: 'connection.create' },
        schema: { ...tags, body: connectionInputSchema, response: { 201: connectionViewSchema } },
      },
      async (req, reply) => reply.status(201).send(await connections.create(principal(req), req.body)),
    );
    app.get(
      '/api/connections',
      { schema: { ...tags, response: { 200: z.array(connectionViewSchema) } } },
      async (req) => connections.list(principal(req)),
    );
    app.get(
      '/api/me/connections',
      { schema: { tags: ['me'], response: { 200: z.array(connectionViewSchema) } } },
      async (req) => connections.listUsable(principal(req)),
    );
    app.get(
      '/api/connections/:name',
      { schema: { ...tags, params: name, response: { 200: connectionViewSchema } } },
      async (req) => connections.get(principal(req), req.params.name),
    );
    app.put(
      '/api/connections/:name',
      {
        config: { audit: 'connection.update' },
        schema: {
          ...tags,
          params: name,
          querystring: z.object({ expectedVersion: z.coerce.number().int().positive().optional() }),
          body: connectionInputSchema,
          response: { 200: connectionViewSchema },
        },
      },
      async (req) => connections.update(principal(req), req.params.name, req.body, req.query.expectedVersion),
    );
    app.delete(
      '/api/connections/:name',
      { config: { audit: 'connection.delete' }, schema: { ...tags, params: name } },
      async (req, reply) => {
        await connections.remove(principal(req), req.params.name);
        return reply.status(204).send();
      },
    );

    app.put(
      '/api/me/keypairs/:name',
      {
        config: { audit: 'keypair.set' },
        schema: {
          tags: ['me'],
          params: name,
          body: z.object({ accessKeyId: z.string(), secretAccessKey: z.string() }).strict(),
        },
      },
      async (req, reply) => {
        await connections.setMyKeypair(principal(req), req.params.name, req.body);
        return reply.status(204).send();
      },
    );
    app.get(
      '/api/me/keypairs/:name',
      { schema: { tags: ['me'], params: name, response: { 200: z.object({ accessKeyId: z.string().nullable() }) } } },
      async (req) => ({
        accessKeyId: (await connections.myKeypair(principal(req), req.params.name))?.accessKeyId ?? null,
      }),
    );
    app.delete(
      '/api/me/keypairs/:name',
      { config: { audit: 'keypair.delete' }, schema: { tags: ['me'], params: name } },
      async (req, reply) => {
        await connections.deleteMyKeypair(principal(req), req.params.name);
        return reply.status(204).send();
      },
    );
  };
}
