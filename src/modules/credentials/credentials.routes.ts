import { z } from 'zod';
import { principal } from '../../http/auth.js';
import type { HttpApp } from '../../http/server.js';
import type { CredentialsService } from './credentials.service.js';

export const credentialsResponseSchema = z.object({
  AccessKeyId: z.string(),
  SecretAccessKey: z.string(),
  SessionToken: z.string().optional(),
  Expiration: z.string().optional(),
  region: z.string(),
  endpoint: z.string().optional(),
  forcePathStyle: z.boolean(),
  bucket: z.string(),
  prefix: z.string(),
  readOnly: z.boolean().optional(),
  roleArn: z.string().optional(),
  roleSessionName: z.string().optional(),
});
export type CredentialsResponse = z.infer<typeof credentialsResponseSchema>;

/** Optional narrowing: a folder under the connection's path, read-only, a shorter lifetime. */
export const narrowingSchema = z
  .object({
    prefix: z.string().max(1024).optional(),
    readOnly: z.boolean().optional(),
    durationSeconds: z.number().int().positive().optional(),
  })
  .strict();

/** The fast path: temporary credentials for users admitted by detailsReadableBy. */
export function credentialsRoutes(credentials: CredentialsService) {
  return async (app: HttpApp) => {
    app.post(
      '/api/connections/:name/credentials',
      {
        schema: {
          tags: ['credentials'],
          params: z.object({ name: z.string() }),
          body: narrowingSchema.nullish(),
          response: { 200: credentialsResponseSchema },
        },
      },
      async (req, reply) => {
        const c = await credentials.issue(principal(req), req.params.name, req.body ?? {});
        // Credentials must not linger in shared caches or browser history.
        void reply.header('cache-control', 'no-store');
        return {
          AccessKeyId: c.accessKeyId,
          SecretAccessKey: c.secretAccessKey,
          SessionToken: c.sessionToken,
          Expiration: c.expiration,
          region: c.region,
          endpoint: c.endpoint,
          forcePathStyle: c.forcePathStyle,
          bucket: c.bucket,
          prefix: c.prefix,
          readOnly: c.readOnly,
          roleArn: c.roleArn,
          roleSessionName: c.sessionName,
        };
      },
    );
  };
}
