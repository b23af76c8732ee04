import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Principal } from '../domain/model.js';
import { bearerToken } from './auth.js';
import { handleError } from './error-handler.js';

export interface HttpServerDeps {
  readonly logger: FastifyBaseLogger;
  readonly bodyLimitBytes: number;
  readonly authenticate: (token: string) => Promise<Principal>;
  /** Route plugins, each registered under the server's error handling and authentication. */
  readonly routes: ReadonlyArray<(app: HttpApp) => Promise<void>>;
}

/** The Fastify instance every route plugin receives: zod-typed schemas. */
export type HttpApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** The HTTP transport: request ids, authentication, OpenAPI at /docs, one error mapping. */
export async function createHttpServer(deps: HttpServerDeps): Promise<HttpApp> {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.bodyLimitBytes,
    // A caller-supplied request id is kept when well-formed, so logs correlate across systems.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    forceCloseConnections: true,
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({
      code: 'route.not_found',
      message: `no route ${request.method} ${request.url.split('?')[0]}`,
      requestId: request.id,
    });
  });
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    if (!request.url.startsWith('/api/')) return;
    const token = bearerToken(request);
    if (token !== undefined) request.principal = await deps.authenticate(token);
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'rolegate', description: 'Per-user STS role sessions and data access for S3', version: '0.1.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  for (const routes of deps.routes) await app.register(routes);
  return app;
}
