import { z } from 'zod';
import { principal } from '../../http/auth.js';
import type { HttpApp } from '../../http/server.js';
import type { GatewayKeysService } from './gateway-keys.service.js';

export const gatewayKeySchema = z.object({ accessKeyId: z.string(), name: z.string(), createdAt: z.string() });
export const issuedGatewayKeySchema = gatewayKeySchema.extend({ secretAccessKey: z.string() });
export type GatewayKeyResponse = z.infer<typeof gatewayKeySchema>;
export type IssuedGatewayKeyResponse = z.infer<typeof issuedGatewayKeySchema>;

const username = z.object({ username: z.string() });
const tags = { tags: ['gateway keys'] };

/** Gateway keys of a user (the user themselves, or an admin): create (secret shown once), list, revoke. */
export function gatewayKeysRoutes(keys: GatewayKeysService) {
  return async (app: HttpApp) => {
    app.post(
      '/api/users/:username/gateway-keys',
      {
        config: { audit: 'key.create' },
        schema: {
          ...tags,
          params: username,
          body: z.object({ name: z.string() }).strict(),
          response: { 201: issuedGatewayKeySchema },
        },
      },
      async (req, reply) => reply.status(201).send(await keys.create(principal(req), req.params.username, req.body)),
    );
    app.get(
      '/api/users/:username/gateway-keys',
      { schema: { ...tags, params: username, response: { 200: z.array(gatewayKeySchema) } } },
      async (req) => keys.list(principal(req), req.params.username),
    );
    app.delete(
      '/api/users/:username/gateway-keys/:accessKeyId',
      {
        config: { audit: 'key.revoke' },
        schema: { ...tags, params: z.object({ username: z.string(), accessKeyId: z.string() }) },
      },
      async (req, reply) => {
        await keys.revoke(principal(req), req.params.username, req.params.accessKeyId);
        return reply.status(204).send();
      },
    );
  };
}
