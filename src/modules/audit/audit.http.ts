import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditOutcome } from '../../domain/audit-event.js';
import type { AuditTrail } from './audit-trail.js';

const PARAM_DETAILS = ['username', 'group', 'property', 'id'] as const;

function outcomeOfStatus(status: number): AuditOutcome {
  if (status < 400) return 'allowed';
  return status === 401 || status === 403 || status === 404 ? 'denied' : 'error';
}

function numberOf(value: unknown): number | undefined {
  const n = Number(value);
  return value === undefined || !Number.isFinite(n) ? undefined : n;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** What a request says of itself: who, from where, which connection and key; the same before and after it runs. */
function requestFacts(request: FastifyRequest, action: string) {
  const ctx = request.requestContext;
  const params = (request.params ?? {}) as Record<string, unknown>;
  const query = (request.query ?? {}) as Record<string, unknown>;
  const details: Record<string, string | number> = {};
  for (const name of PARAM_DETAILS) {
    const v = str(params[name]);
    if (v !== undefined) details[name] = v;
  }
  // A connection being created is named in its body, not its URL.
  const body = (request.body ?? {}) as Record<string, unknown>;
  const created = action === 'connection.create' ? str(body.name) : undefined;
  return {
    requestId: request.id,
    actor: request.principal?.username ?? ctx?.actor,
    authMethod: ctx?.authMethod,
    sourceIp: request.ip,
    userAgent: ctx?.userAgent,
    action,
    connection: str(params.name) ?? created ?? ctx?.decision?.connection,
    key: str(query.key) ?? str(query.prefix),
    details,
  };
}

/**
 * The event recorded before the handler of a route that changes something runs: it fails the request when it
 * cannot be recorded, so that nothing changes unrecorded.
 */
export function auditHttpRequest(trail: Pick<AuditTrail, 'record'>) {
  return async (request: FastifyRequest, action: string): Promise<void> => {
    await trail.record({ ...requestFacts(request, action), outcome: 'requested' });
  };
}

/**
 * The operation event of an HTTP route that declares `config.audit`: who, what, which connection and key,
 * through which role session (from the decision recorded earlier in the same request), outcome, bytes, time.
 */
export function auditHttpResponse(trail: Pick<AuditTrail, 'record'>) {
  return async (request: FastifyRequest, reply: FastifyReply, action: string): Promise<void> => {
    const ctx = request.requestContext;
    const facts = requestFacts(request, action);
    const query = (request.query ?? {}) as Record<string, unknown>;
    const bytes =
      request.method === 'PUT' && str(query.key) !== undefined
        ? numberOf(request.headers['content-length'])
        : request.method === 'GET' && reply.statusCode < 300
          ? numberOf(reply.getHeader('content-length'))
          : undefined;
    await trail.record({
      ...facts,
      roleArn: ctx?.decision?.roleArn,
      sessionName: ctx?.decision?.sessionName,
      accessKeyId: ctx?.decision?.accessKeyId,
      bucket: ctx?.decision?.bucket,
      bytes,
      outcome: outcomeOfStatus(reply.statusCode),
      reasonCode: reply.statusCode >= 400 ? ctx?.reasonCode : undefined,
      durationMs: Math.round(reply.elapsedTime),
      details: { status: reply.statusCode, ...facts.details },
    });
  };
}
