import { z } from 'zod';
import { principal } from '../../http/auth.js';
import type { HttpApp } from '../../http/server.js';
import type { ConfigService } from './config.service.js';
import { configFileSchema, desiredStateSchema } from './declaration.js';

export const configDiffSchema = z.object({
  changes: z.array(
    z.object({
      kind: z.enum(['group', 'user', 'membership', 'property', 'connection', 'mount']),
      action: z.enum(['create', 'update', 'delete']),
      name: z.string(),
      fields: z.array(z.string()).optional(),
    }),
  ),
  unchanged: z.number(),
});
export type ConfigDiffResponse = z.infer<typeof configDiffSchema>;

const tags = { tags: ['config'] };

/**
 * Config as code (admins only). The body is the declarative file with its references already resolved by
 * the CLI: property values and secrets arrive as values over the authenticated API and are never echoed.
 */
export function configRoutes(config: ConfigService) {
  return async (app: HttpApp) => {
    app.post(
      '/api/config/plan',
      { schema: { ...tags, body: desiredStateSchema, response: { 200: configDiffSchema } } },
      async (req) => config.plan(principal(req), req.body),
    );
    app.post(
      '/api/config/apply',
      {
        config: { audit: 'config.apply' },
        schema: { ...tags, body: desiredStateSchema, response: { 200: configDiffSchema } },
      },
      async (req) => config.apply(principal(req), req.body),
    );
    app.get('/api/config/export', { schema: { ...tags, response: { 200: configFileSchema } } }, async (req) =>
      config.export(principal(req)),
    );
  };
}
