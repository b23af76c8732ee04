import type { FastifyRequest } from 'fastify';
import type { Principal } from '../domain/model.js';
import { unauthenticated } from '../errors/errors.js';
import type { RequestContext } from '../lib/request-context.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
    /** The same object the services see through AsyncLocalStorage, reachable from late hooks too. */
    requestContext: RequestContext | undefined;
  }
  interface FastifyContextConfig {
    /** The audit action of the operation a route performs, e.g. `object.get`; unset routes are not audited. */
    audit?: string;
    /**
     * An audited route that is not a GET or HEAD changes something: before its handler runs, the server records
     * its action with outcome `requested`, fail-closed, so that no change is ever made unrecorded. `false` on
     * routes whose service records its own decision that way before it acts (data access under a role session).
     */
    auditRequest?: false;
    /**
     * A route under /api that answers callers without a rolegate API token: a sign-in step, or a route that
     * authenticates its caller itself (the exec-token credentials endpoint). Every other /api route refuses a
     * request without one before reading it.
     */
    public?: true;
  }
}

/** The bearer token of a request, or undefined. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** True for a request that must carry an API token: deny by default under /api, unless the route is public. */
export function requiresToken(request: FastifyRequest): boolean {
  return request.url.startsWith('/api/') && request.routeOptions.config.public !== true;
}

export const tokenRequired = () =>
  unauthenticated('auth.required', 'authentication required: send Authorization: Bearer <API token>');

/** The authenticated caller; routes under /api are authenticated by the server's hook before handlers run. */
export function principal(request: FastifyRequest): Principal {
  if (request.principal === undefined) {
    throw tokenRequired();
  }
  return request.principal;
}
