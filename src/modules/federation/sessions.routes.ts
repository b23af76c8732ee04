import { z } from 'zod';
import { principal } from '../../http/auth.js';
import type { HttpApp } from '../../http/server.js';
import type { SessionsService } from './sessions.service.js';

const sourceSchema = z.union([
  z.object({ kind: z.literal('idp'), provider: z.string() }),
  z.object({ kind: z.literal('property'), property: z.string() }),
]);
export const entitledRolesResponseSchema = z.object({
  roles: z.array(z.object({ roleArn: z.string(), sources: z.array(sourceSchema) })),
  /** Present when the request was made with a session token: the session and its current role. */
  session: z.object({ id: z.string(), roleArn: z.string().optional() }).optional(),
});
export type EntitledRolesResponse = z.infer<typeof entitledRolesResponseSchema>;

export const sessionViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  roleArn: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string(),
});
export type SessionResponse = z.infer<typeof sessionViewSchema>;
export const createdSessionSchema = sessionViewSchema.extend({ token: z.string() });
export type CreatedSessionResponse = z.infer<typeof createdSessionSchema>;

const tags = { tags: ['sessions'] };
const roleArn = z.string().min(1).max(2048);

/** Entitled roles and rolegate sessions with a current role each (showRoles / assumeRole). */
export function sessionsRoutes(sessions: SessionsService) {
  return async (app: HttpApp) => {
    app.get('/api/me/roles', { schema: { ...tags, response: { 200: entitledRolesResponseSchema } } }, async (req) => {
      const actor = principal(req);
      const roles = await sessions.entitledRoles(actor);
      return {
        roles: roles.map((r) => ({ roleArn: r.roleArn, sources: [...r.sources] })),
        session: actor.session && { id: actor.session.id, roleArn: actor.session.roleArn },
      };
    });
    app.post(
      '/api/sessions',
      {
        schema: {
          ...tags,
          body: z.object({ name: z.string().optional(), roleArn: roleArn.optional() }).strict().nullish(),
          response: { 201: createdSessionSchema },
        },
      },
      async (req, reply) => {
        const created = await sessions.create(principal(req), req.body ?? {});
        // The session token is a bearer secret: never cached.
        return reply.status(201).header('cache-control', 'no-store').send(created);
      },
    );
    app.get('/api/sessions', { schema: { ...tags, response: { 200: z.array(sessionViewSchema) } } }, async (req) =>
      sessions.list(principal(req)),
    );
    app.post(
      '/api/sessions/:id/role',
      {
        schema: {
          ...tags,
          params: z.object({ id: z.string() }),
          body: z.object({ roleArn }).strict(),
          response: { 200: sessionViewSchema },
        },
      },
      async (req) => sessions.setRole(principal(req), req.params.id, req.body.roleArn),
    );
    app.delete(
      '/api/sessions/:id',
      { schema: { ...tags, params: z.object({ id: z.string() }) } },
      async (req, reply) => {
        await sessions.delete(principal(req), req.params.id);
        return reply.status(204).send();
      },
    );
  };
}
