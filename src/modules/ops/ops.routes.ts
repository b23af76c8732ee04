import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpApp } from '../../http/server.js';
import type { Metrics } from './metrics.js';

export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

const STREAMING = new Map([
  ['object.get', 'out'],
  ['object.put', 'in'],
  ['gateway.get', 'out'],
  ['gateway.put', 'in'],
]);

/** Per-response accounting: request counts and latency by route, streams in flight, bytes moved. */
export function observeResponses(metrics: Metrics) {
  return {
    onRequest(request: FastifyRequest, reply: FastifyReply): void {
      const direction = STREAMING.get(request.routeOptions.config.audit ?? '');
      if (direction === undefined) return;
      metrics.activeStreams.inc({ direction });
      // 'close' fires for finished and aborted responses alike, so the gauge cannot leak.
      reply.raw.once('close', () => metrics.activeStreams.dec({ direction }));
    },
    onResponse(request: FastifyRequest, reply: FastifyReply): void {
      const route = request.routeOptions.url ?? 'unmatched';
      metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
      metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
      const action = request.routeOptions.config.audit ?? '';
      const direction = STREAMING.get(action);
      if (direction === undefined || reply.statusCode >= 300) return;
      const length = Number(
        direction === 'out' ? reply.getHeader('content-length') : request.headers['content-length'],
      );
      if (Number.isFinite(length)) metrics.bytes.inc({ transport: action.split('.')[0] ?? 'api', direction }, length);
    },
  };
}

/** Liveness, readiness and Prometheus metrics. Unauthenticated: they reveal no user data. */
export function opsRoutes(metrics: Metrics, readiness: readonly ReadinessCheck[]) {
  return async (app: HttpApp) => {
    app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
      const results = await Promise.all(
        readiness.map(async (r) => {
          try {
            await r.check();
            return { name: r.name, ok: true };
          } catch (error) {
            return { name: r.name, ok: false, error: error instanceof Error ? error.message : 'failed' };
          }
        }),
      );
      const ready = results.every((r) => r.ok);
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: results });
    });
    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
      void reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    });
  };
}
