import { z } from 'zod';
import { principal } from '../../http/auth.js';
import type { HttpApp } from '../../http/server.js';
import type { IdentityService } from './identity.service.js';

export const userViewSchema = z.object({
  username: z.string(),
  role: z.enum(['admin', 'analyst']),
  groups: z.array(z.string()),
  propertyNames: z.array(z.string()),
  createdAt: z.string(),
});
export type UserResponse = z.infer<typeof userViewSchema>;

export const issuedTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  token: z.string(),
  expiresAt: z.string().nullable(),
});
const tokenInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
});
const groupSchema = z.object({
  name: z.string(),
  description: z.string(),
  createdAt: z.string(),
  members: z.array(z.string()),
});
const username = z.object({ username: z.string() });
const tags = (t: string) => ({ tags: [t] });

/** Users, groups, memberships, admin properties and tokens. */
export function identityRoutes(identity: IdentityService) {
  return async (app: HttpApp) => {
    app.get('/api/me', { schema: { ...tags('me'), response: { 200: userViewSchema } } }, async (req) =>
      identity.me(principal(req)),
    );

    app.post(
      '/api/users',
      {
        config: { audit: 'user.create' },
        schema: {
          ...tags('users'),
          body: z.object({ username: z.string(), role: z.enum(['admin', 'analyst']).default('analyst') }).strict(),
          response: { 201: userViewSchema },
        },
      },
      async (req, reply) => reply.status(201).send(await identity.createUser(principal(req), req.body)),
    );
    app.get('/api/users', { schema: { ...tags('users'), response: { 200: z.array(userViewSchema) } } }, async (req) =>
      identity.listUsers(principal(req)),
    );
    app.get(
      '/api/users/:username',
      { schema: { ...tags('users'), params: username, response: { 200: userViewSchema } } },
      async (req) => identity.getUser(principal(req), req.params.username),
    );
    app.delete(
      '/api/users/:username',
      { config: { audit: 'user.delete' }, schema: { ...tags('users'), params: username } },
      async (req, reply) => {
        await identity.deleteUser(principal(req), req.params.username);
        return reply.status(204).send();
      },
    );

    app.put(
      '/api/users/:username/properties/:property',
      {
        config: { audit: 'property.set' },
        schema: {
          ...tags('users'),
          params: z.object({ username: z.string(), property: z.string() }),
          body: z.object({ value: z.string() }).strict(),
        },
      },
      async (req, reply) => {
        await identity.setProperty(principal(req), req.params.username, req.params.property, req.body.value);
        return reply.status(204).send();
      },
    );
    app.delete(
      '/api/users/:username/properties/:property',
      {
        config: { audit: 'property.delete' },
        schema: { ...tags('users'), params: z.object({ username: z.string(), property: z.string() }) },
      },
      async (req, reply) => {
        await identity.deleteProperty(principal(req), req.params.username, req.params.property);
        return reply.status(204).send();
      },
    );

    app.post(
      '/api/users/:username/tokens',
      {
        config: { audit: 'token.create' },
        schema: {
          ...tags('tokens'),
          params: username,
          body: z.object({ name: z.string(), expiresInDays: z.number().int().min(1).max(3650).optional() }).strict(),
          response: { 201: issuedTokenSchema },
        },
      },
      async (req, reply) =>
        reply.status(201).send(await identity.createToken(principal(req), req.params.username, req.body)),
    );
    app.get(
      '/api/users/:username/tokens',
      { schema: { ...tags('tokens'), params: username, response: { 200: z.array(tokenInfoSchema) } } },
      async (req) => identity.listTokens(principal(req), req.params.username),
    );
    app.delete(
      '/api/users/:username/tokens/:id',
      {
        config: { audit: 'token.revoke' },
        schema: { ...tags('tokens'), params: z.object({ username: z.string(), id: z.string() }) },
      },
      async (req, reply) => {
        await identity.revokeToken(principal(req), req.params.username, req.params.id);
        return reply.status(204).send();
      },
    );

    app.post(
      '/api/groups',
      {
        config: { audit: 'group.create' },
        schema: {
          ...tags('groups'),
          body: z.object({ name: z.string(), description: z.string().max(1000).optional() }).strict(),
          response: { 201: groupSchema },
        },
      },
      async (req, reply) => reply.status(201).send(await identity.createGroup(principal(req), req.body)),
    );
    app.get('/api/groups', { schema: { ...tags('groups'), response: { 200: z.array(groupSchema) } } }, async (req) =>
      identity.listGroups(principal(req)),
    );
    app.delete(
      '/api/groups/:group',
      { config: { audit: 'group.delete' }, schema: { ...tags('groups'), params: z.object({ group: z.string() }) } },
      async (req, reply) => {
        await identity.deleteGroup(principal(req), req.params.group);
        return reply.status(204).send();
      },
    );
    app.put(
      '/api/groups/:group/members/:username',
      {
        config: { audit: 'group.member_add' },
        schema: { ...tags('groups'), params: z.object({ group: z.string(), username: z.string() }) },
      },
      async (req, reply) => {
        await identity.addMember(principal(req), req.params.group, req.params.username);
        return reply.status(204).send();
      },
    );
    app.delete(
      '/api/groups/:group/members/:username',
      {
        config: { audit: 'group.member_remove' },
        schema: { ...tags('groups'), params: z.object({ group: z.string(), username: z.string() }) },
      },
      async (req, reply) => {
        await identity.removeMember(principal(req), req.params.group, req.params.username);
        return reply.status(204).send();
      },
    );
  };
}
