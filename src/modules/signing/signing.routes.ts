import { z } from 'zod';
import { MAX_URI_CHARS, PRESIGN_METHODS } from '../../domain/signing.js';
import { principal } from '../../http/auth.js';
import type { HttpApp } from '../../http/server.js';
import type { SigningService } from './signing.service.js';

/** The Iceberg REST "S3 signer" request (`S3SignRequest`); unknown fields (e.g. `provider`) are ignored. */
export const s3SignRequestSchema = z.object({
  region: z.string().max(64),
  uri: z.string().max(MAX_URI_CHARS),
  method: z.string().max(16),
  headers: z.record(z.string().max(256), z.array(z.string().max(8192)).max(64)),
  properties: z.record(z.string(), z.string()).optional(),
  body: z.string().optional(),
});
export type S3SignRequestBody = z.infer<typeof s3SignRequestSchema>;

/** The Iceberg REST "S3 signer" response: the URI to send and the headers to add, each a list of values. */
export const s3SignResponseSchema = z.object({
  uri: z.string(),
  headers: z.record(z.string(), z.array(z.string())),
});
export type S3SignResponse = z.infer<typeof s3SignResponseSchema>;

export const presignRequestSchema = z
  .object({
    key: z.string().min(1).max(1024),
    method: z.enum(PRESIGN_METHODS).optional(),
    expiresSeconds: z.number().int().optional(),
  })
  .strict();

export const presignResponseSchema = z.object({
  url: z.string(),
  method: z.enum(PRESIGN_METHODS),
  expiresAt: z.string(),
  expiresSeconds: z.number(),
  bucket: z.string(),
  key: z.string(),
});
export type PresignResponse = z.infer<typeof presignResponseSchema>;

/**
 * Where Iceberg clients find the signer for a connection: `s3.signer.uri` (or the catalog `uri`) set to
 * `<rolegate>/api/connections/<name>/iceberg`, and the default `s3.signer.endpoint` `v1/aws/s3/sign`.
 */
export const ICEBERG_SIGNER_PREFIX = '/api/connections/:name/iceberg';

/**
 * Remote signing: the Iceberg-compatible S3 signer (data goes straight to S3, no credential leaves rolegate) and
 * presigned URLs. A reusable object read is answered `Cache-Control: private`, the one value Iceberg's signer
 * client keeps an answer for (30 s, per method, region and URI); every other answer is `no-store`.
 */
export function signingRoutes(signing: SigningService) {
  return async (app: HttpApp) => {
    app.post(
      `${ICEBERG_SIGNER_PREFIX}/v1/aws/s3/sign`,
      {
        schema: {
          tags: ['remote signing'],
          params: z.object({ name: z.string() }),
          body: s3SignRequestSchema,
          response: { 200: s3SignResponseSchema },
        },
      },
      async (req, reply): Promise<S3SignResponse> => {
        const b = req.body;
        const signed = await signing.sign(principal(req), req.params.name, {
          method: b.method,
          uri: b.uri,
          headers: b.headers,
          region: b.region,
          body: b.body,
        });
        void reply.header('cache-control', signed.reusable ? 'private' : 'no-cache, no-store');
        return {
          uri: signed.uri,
          headers: Object.fromEntries(Object.entries(signed.headers).map(([name, value]) => [name, [value]])),
        };
      },
    );

    app.post(
      '/api/connections/:name/presign',
      {
        schema: {
          tags: ['remote signing'],
          params: z.object({ name: z.string() }),
          body: presignRequestSchema,
          response: { 200: presignResponseSchema },
        },
      },
      async (req, reply): Promise<PresignResponse> => {
        const p = await signing.presign(principal(req), req.params.name, req.body);
        void reply.header('cache-control', 'no-store');
        return {
          url: p.url,
          method: p.method,
          expiresAt: p.expiresAt,
          expiresSeconds: p.expiresSeconds,
          bucket: p.bucket,
          key: p.key,
        };
      },
    );
  };
}
