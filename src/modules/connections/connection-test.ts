import { z } from 'zod';
import type { Principal } from '../../domain/model.js';
import { RolegateError } from '../../errors/errors.js';
import { principal } from '../../http/auth.js';
import type { HttpApp } from '../../http/server.js';
import { currentRequestContext } from '../../lib/request-context.js';
import type { DataService } from '../data/data.service.js';
import { type IdentityService, requireAdmin } from '../identity/identity.service.js';
import type { ConnectionsService } from './connections.service.js';

export const connectionTestSchema = z.union([
  z.object({
    ok: z.literal(true),
    user: z.string(),
    folders: z.array(z.string()),
    objects: z.array(z.object({ key: z.string(), size: z.number() })),
    truncated: z.boolean(),
    roleArn: z.string().optional(),
    sessionName: z.string().optional(),
  }),
  z.object({ ok: z.literal(false), user: z.string(), code: z.string(), message: z.string() }),
]);
export type ConnectionTestResponse = z.infer<typeof connectionTestSchema>;

export interface ConnectionTestDeps {
  readonly identity: Pick<IdentityService, 'principalFor'>;
  readonly connections: Pick<ConnectionsService, 'get'>;
  readonly data: Pick<DataService, 'list'>;
}

/**
 * "Test as user": an administrator has rolegate obtain `user`'s real role session for a connection and list its
 * root, through the same audited services as the user's own requests. A denial is the answer, not an error.
 */
export function createConnectionTester(deps: ConnectionTestDeps) {
  return async (admin: Principal, connection: string, user: string): Promise<ConnectionTestResponse> => {
    requireAdmin(admin);
    await deps.connections.get(admin, connection);
    const subject = await deps.identity.principalFor(admin, user);
    try {
      const listing = await deps.data.list(subject, connection, { limit: 20 });
      const decision = currentRequestContext()?.decision;
      return {
        ok: true,
        user: subject.username,
        folders: listing.folders,
        objects: listing.objects.map((o) => ({ key: o.key, size: o.size })),
        truncated: listing.nextCursor !== undefined,
        ...(decision?.roleArn !== undefined ? { roleArn: decision.roleArn } : {}),
        ...(decision?.sessionName !== undefined ? { sessionName: decision.sessionName } : {}),
      };
    } catch (e) {
      if (!(e instanceof RolegateError)) throw e;
      return { ok: false, user: subject.username, code: e.code, message: e.message };
    }
  };
}

/** `POST /api/connections/{name}/test` `{ user }` (admins). */
export function connectionTestRoutes(deps: ConnectionTestDeps) {
  const test = createConnectionTester(deps);
  return async (app: HttpApp) => {
    app.post(
      '/api/connections/:name/test',
      {
        config: { audit: 'connection.test' },
        schema: {
          tags: ['connections'],
          params: z.object({ name: z.string() }),
          body: z.object({ user: z.string().min(1).max(256) }).strict(),
          response: { 200: connectionTestSchema },
        },
      },
      async (req) => test(principal(req), req.params.name, req.body.user),
    );
  };
}
