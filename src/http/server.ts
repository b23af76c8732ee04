import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type preHandlerHookHandler,
  type RawServerDefault,
} from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Principal } from '../domain/model.js';
import { type RequestContext, runWithRequestContext } from '../lib/request-context.js';
import { bearerToken, requiresToken, tokenRequired } from './auth.js';
import { handleError } from './error-handler.js';
import { webAssets } from './web-assets.js';

export interface HttpServerDeps {
  readonly logger: FastifyBaseLogger;
  readonly bodyLimitBytes: number;
  readonly authenticate: (token: string) => Promise<Principal>;
  /**
   * Records, fail-closed, that a route which changes something was asked to (see `config.auditRequest`), before
   * its handler runs; a rejection fails the request unanswered by the handler.
   */
  readonly auditRequest?: (request: FastifyRequest, action: string) => Promise<void>;
  /** Records the operation event of a route that declares `config: { audit: 'action' }`, after it answered. */
  readonly auditResponse?: (request: FastifyRequest, reply: FastifyReply, action: string) => Promise<void>;
  /** Sees every request as it starts and as it ends (metrics). */
  readonly observe?: {
    onRequest(request: FastifyRequest, reply: FastifyReply): void;
    onResponse(request: FastifyRequest, reply: FastifyReply): void;
  };
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

const isStream = (payload: unknown): boolean =>
  typeof payload === 'object' && payload !== null && typeof (payload as { pipe?: unknown }).pipe === 'function';

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
    // On close, idle keep-alive sockets go at once; requests in flight (object streams) may finish.
    forceCloseConnections: 'idle',
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
  app.decorateRequest('requestContext', undefined);
  const observe = deps.observe;
  // One hook per phase, each callback-style: every async hook costs a promise per request, and these run on
  // every request the server answers.
  app.addHook('onRequest', (request, reply, done) => {
    const context: RequestContext = {
      requestId: request.id,
      sourceIp: request.ip,
      userAgent: request.headers['user-agent'],
      transport: 'api',
    };
    request.requestContext = context;
    void reply.header('x-request-id', request.id);
    // Everything after this (auth, handler, services, audit) sees the request's context.
    runWithRequestContext(context, () => {
      const token = request.url.startsWith('/api/') ? bearerToken(request) : undefined;
      if (token === undefined) {
        // Deny by default, and before the request is parsed or validated: an anonymous caller learns nothing of
        // a route's contract, and a route that forgot to ask for its principal is still closed.
        if (requiresToken(request)) {
          done(tokenRequired());
          return;
        }
        observe?.onRequest(request, reply);
        done();
        return;
      }
      deps.authenticate(token).then((principal) => {
        request.principal = principal;
        context.actor = principal.username;
        context.authMethod = 'token';
        try {
          observe?.onRequest(request, reply);
        } catch (error) {
          done(error as Error);
          return;
        }
        done();
      }, done);
    });
  });
  // An answer held in memory is sent only once its operation event is recorded, so a caller who got the answer
  // finds the event (an admin change, then a search of the trail). A streamed answer (an object read) is recorded
  // when it has ended, with the bytes it moved.
  const recordedBeforeSend = new WeakSet<FastifyRequest>();
  const recordOperation = async (request: FastifyRequest, reply: FastifyReply, action: string): Promise<void> => {
    try {
      await deps.auditResponse?.(request, reply, action);
    } catch (err) {
      // The operation has happened; the decision before it was recorded fail-closed. Say so loudly.
      request.log.error({ err, action }, 'could not record the audit event of a completed operation');
    }
  };
  const auditedAction = (request: FastifyRequest): string | undefined =>
    deps.auditResponse === undefined ? undefined : request.routeOptions.config.audit;
  // A route that changes something records its request before its handler runs: after authentication and
  // validation, so that a malformed request is refused without an event of its own. The hook is added to those
  // routes only; the others (the hot read paths among them) do not run it.
  const recordRequest = deps.auditRequest;
  if (recordRequest !== undefined) {
    app.addHook('onRoute', (route) => {
      const action = route.config?.audit;
      const readOnly = [route.method].flat().every((method) => method === 'GET' || method === 'HEAD');
      if (action === undefined || readOnly || route.config?.auditRequest === false) return;
      const record: preHandlerHookHandler = (request, _reply, done) => {
        recordRequest(request, action).then(() => done(), done);
      };
      route.preHandler = [...[route.preHandler ?? []].flat(), record];
    });
  }
  app.addHook('onSend', (request, reply, payload, done) => {
    const action = auditedAction(request);
    if (action === undefined || isStream(payload)) {
      done(null, payload);
      return;
    }
    recordedBeforeSend.add(request);
    void recordOperation(request, reply, action).then(() => done(null, payload));
  });
  app.addHook('onResponse', (request, reply, done) => {
    observe?.onResponse(request, reply);
    const action = auditedAction(request);
    if (action === undefined || recordedBeforeSend.has(request)) {
      done();
      return;
    }
    void recordOperation(request, reply, action).then(() => done());
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
  // The web UI: its files and SPA fallback for every GET outside /api and /docs.
  await app.register(webAssets);
  return app;
}
