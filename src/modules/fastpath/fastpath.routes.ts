import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { decideDetails } from '../../domain/access.js';
import {
  CONTAINER_CREDENTIALS_PATH,
  containerFormat,
  icebergLoadCredentials,
  type VendedCredentials,
} from '../../domain/credential-formats.js';
import { principal } from '../../http/auth.js';
import type { HttpApp } from '../../http/server.js';
import type { ConnectionsService } from '../connections/connections.service.js';
import type { CredentialsService, IssuedCredentials } from '../credentials/credentials.service.js';
import type { ExecTokensService } from './exec-tokens.service.js';
import type { RevocationService } from './revocation.service.js';

export const execTokenRequestSchema = z
  .object({
    connection: z.string(),
    name: z.string().optional(),
    ttlSeconds: z.number().int().positive().optional(),
    prefix: z.string().max(1024).optional(),
    readOnly: z.boolean().optional(),
    durationSeconds: z.number().int().positive().optional(),
  })
  .strict();

export const execTokenResponseSchema = z.object({
  id: z.string(),
  token: z.string(),
  connection: z.string(),
  expiresAt: z.string(),
  region: z.string(),
  endpoint: z.string().optional(),
  forcePathStyle: z.boolean(),
  bucket: z.string(),
  prefix: z.string(),
});
export type ExecTokenResponse = z.infer<typeof execTokenResponseSchema>;

const execTokenViewSchema = z.object({
  id: z.string(),
  connection: z.string(),
  name: z.string(),
  prefix: z.string().nullable(),
  readOnly: z.boolean(),
  durationSeconds: z.number().nullable(),
  createdAt: z.string(),
  expiresAt: z.string(),
});

export const containerCredentialsSchema = z.object({
  AccessKeyId: z.string(),
  SecretAccessKey: z.string(),
  Token: z.string().optional(),
  Expiration: z.string().optional(),
});

export const fastPathEntrySchema = z.object({
  name: z.string(),
  /** `direct`: credentials are vended (fast path); `gateway`: data must go through rolegate. */
  access: z.enum(['direct', 'gateway']),
  reason: z.string().optional(),
  bucket: z.string(),
  path: z.string(),
  region: z.string(),
  endpoint: z.string().optional(),
  forcePathStyle: z.boolean(),
  readOnly: z.boolean(),
});
export type FastPathEntry = z.infer<typeof fastPathEntrySchema>;

export const fastPathSchema = z.object({
  connections: z.array(fastPathEntrySchema),
  /** The S3 gateway (slow path) for connections with `access: gateway`; absent when it is not running. */
  gateway: z.object({ endpoint: z.string(), region: z.string() }).optional(),
});
export type FastPathResponse = z.infer<typeof fastPathSchema>;

export const revocationResultSchema = z.object({
  connection: z.string(),
  username: z.string(),
  revokedSessions: z.array(z.object({ roleArn: z.string(), sessionName: z.string() })),
  generation: z.number(),
  execTokensDeleted: z.number(),
  revokedAt: z.string(),
});
export type RevocationResponse = z.infer<typeof revocationResultSchema>;

const revocationRecordSchema = z.object({
  id: z.string(),
  username: z.string(),
  connection: z.string(),
  roleArn: z.string(),
  sessionName: z.string(),
  revokedBy: z.string(),
  revokedAt: z.string(),
  denyUntil: z.string(),
});

const booleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

export interface FastpathRoutesDeps {
  readonly credentials: Pick<CredentialsService, 'issue'>;
  readonly connections: Pick<ConnectionsService, 'listUsable' | 'resolveForUse'>;
  readonly execTokens: ExecTokensService;
  readonly revocations: Pick<RevocationService, 'revoke' | 'list'>;
  /** Public base URL (config `server.publicUrl`); default the URL the request came in on. */
  readonly publicUrl?: string | undefined;
  /** The S3 gateway's endpoint once it listens (undefined otherwise), and the region it reports. */
  readonly gateway?: { readonly url: () => string | undefined; readonly region: string } | undefined;
}

/** The gateway's URL as a client can use it: a wildcard listen address becomes the host the API was asked on. */
export function gatewayEndpoint(listening: string | undefined, apiHostname: string): string | undefined {
  if (listening === undefined) return undefined;
  const url = new URL(listening);
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]' || url.hostname === '::') url.hostname = apiHostname;
  return url.toString().replace(/\/+$/, '');
}

export function vendedOf(c: IssuedCredentials): VendedCredentials {
  return {
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    sessionToken: c.sessionToken,
    expiration: c.expiration,
    region: c.region,
    endpoint: c.endpoint,
    forcePathStyle: c.forcePathStyle,
    bucket: c.bucket,
    prefix: c.prefix,
  };
}

/**
 * The fast path's delivery routes: exec tokens and the container-credentials endpoint they unlock, the
 * Iceberg refresh endpoint, which connections vend credentials, and revocation.
 */
export function fastpathRoutes(deps: FastpathRoutesDeps) {
  const baseUrl = (req: FastifyRequest) => (deps.publicUrl ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '');
  const noStore = { 'cache-control': 'no-store' };

  return async (app: HttpApp) => {
    app.post(
      '/api/exec-tokens',
      {
        config: { audit: 'exec_token.create' },
        schema: { tags: ['fast path'], body: execTokenRequestSchema, response: { 201: execTokenResponseSchema } },
      },
      async (req, reply) => {
        const issued = await deps.execTokens.create(principal(req), req.body);
        return reply.status(201).headers(noStore).send(issued);
      },
    );
    app.get(
      '/api/exec-tokens',
      { schema: { tags: ['fast path'], response: { 200: z.array(execTokenViewSchema) } } },
      async (req) => deps.execTokens.list(principal(req)),
    );
    app.delete(
      '/api/exec-tokens/:id',
      { config: { audit: 'exec_token.revoke' }, schema: { tags: ['fast path'], params: z.object({ id: z.string() }) } },
      async (req, reply) => {
        await deps.execTokens.revoke(principal(req), req.params.id);
        return reply.status(204).send();
      },
    );

    // What AWS SDKs poll: the exec token comes raw in Authorization (no "Bearer"), as the container
    // credentials protocol sends AWS_CONTAINER_AUTHORIZATION_TOKEN.
    app.get(
      CONTAINER_CREDENTIALS_PATH,
      {
        // Public to the server's hook: the exec token is checked here, by the service.
        config: { audit: 'credentials.container', public: true },
        schema: { tags: ['fast path'], response: { 200: containerCredentialsSchema } },
      },
      async (req, reply) => {
        const header = req.headers.authorization;
        const { principal: who, credentials } = await deps.execTokens.credentialsFor(
          typeof header === 'string' ? header.trim() : '',
        );
        const ctx = req.requestContext;
        if (ctx !== undefined) {
          ctx.actor = who.username;
          ctx.authMethod = 'exec-token';
        }
        return reply.headers(noStore).send(containerFormat(vendedOf(credentials)));
      },
    );

    app.get(
      '/api/connections/:name/credentials/iceberg',
      {
        config: { audit: 'credentials.iceberg' },
        schema: {
          tags: ['fast path'],
          params: z.object({ name: z.string() }),
          querystring: z
            .object({
              prefix: z.string().max(1024).optional(),
              readOnly: booleanQuery.optional(),
              durationSeconds: z.coerce.number().int().positive().optional(),
            })
            .strict(),
        },
      },
      async (req, reply) => {
        const c = await deps.credentials.issue(principal(req), req.params.name, req.query);
        const self = `${baseUrl(req)}${req.url}`;
        return reply.headers(noStore).send(icebergLoadCredentials(vendedOf(c), self));
      },
    );

    app.get(
      '/api/me/fast-path',
      { schema: { tags: ['fast path'], response: { 200: fastPathSchema } } },
      async (req): Promise<FastPathResponse> => {
        const actor = principal(req);
        const usable = await deps.connections.listUsable(actor);
        const connections = await Promise.all(
          usable.map(async (view): Promise<FastPathEntry> => {
            const { connection } = await deps.connections.resolveForUse(actor, view.name);
            const details = decideDetails(actor, connection);
            return {
              name: view.name,
              access: details.allowed ? 'direct' : 'gateway',
              reason: details.allowed ? undefined : details.reason,
              bucket: connection.target.bucket,
              path: connection.target.pathInBucket,
              region: connection.target.region,
              endpoint: connection.target.endpoint,
              forcePathStyle: connection.target.forcePathStyle,
              readOnly: connection.readOnly,
            };
          }),
        );
        const endpoint = gatewayEndpoint(deps.gateway?.url(), req.hostname);
        return {
          connections,
          gateway: endpoint === undefined ? undefined : { endpoint, region: deps.gateway?.region ?? 'us-east-1' },
        };
      },
    );

    app.post(
      '/api/connections/:name/revocations',
      {
        config: { audit: 'credentials.revoke' },
        schema: {
          tags: ['fast path'],
          params: z.object({ name: z.string() }),
          body: z.object({ username: z.string() }).strict(),
          response: { 200: revocationResultSchema },
        },
      },
      async (req) => deps.revocations.revoke(principal(req), req.params.name, req.body.username),
    );
    app.get(
      '/api/connections/:name/revocations',
      {
        schema: {
          tags: ['fast path'],
          params: z.object({ name: z.string() }),
          response: { 200: z.array(revocationRecordSchema) },
        },
      },
      async (req) => deps.revocations.list(principal(req), req.params.name),
    );
  };
}
