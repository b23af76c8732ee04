import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/lib/secret-box.js';
import { createFederationStore, type SessionRecord } from '../../src/modules/federation/federation.store.js';
import { createOidcStore } from '../../src/modules/federation/oidc.store.js';
import { createIdentityStore } from '../../src/modules/identity/identity.store.js';
import { testDialects } from '../harness/postgres.js';
import { useStore } from './store-context.js';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-02T00:00:00.000Z';
const LATER = '2036-01-01T00:00:00.000Z';

const session = (id: string, userId: string, createdAt = T0): SessionRecord => ({
  id,
  userId,
  name: `notebook ${id}`,
  roleArn: null,
  createdAt,
  expiresAt: LATER,
});

describe.each(testDialects())('federation and OIDC stores on %s', (dialect) => {
  const store = useStore(dialect);
  const box = new SecretBox(randomBytes(32));

  async function users(...ids: string[]) {
    const identity = createIdentityStore(store.db);
    for (const id of ids) await identity.createUser({ id, username: `user-${id}`, role: 'analyst', createdAt: T0 });
    return identity;
  }

  it('creates, finds (by token hash or id), lists, re-roles and deletes sessions', async () => {
    await users('u1', 'u2');
    const s = createFederationStore(store.db);
    await s.createSession(session('s2', 'u1', T1), 'hash-2');
    await s.createSession(session('s1', 'u1', T1), 'hash-1');
    await s.createSession(session('s0', 'u1', T0), 'hash-0');
    await s.createSession(session('s9', 'u2'), 'hash-9');
    // A token hash is unique: two sessions never share a bearer token.
    await expect(s.createSession(session('s3', 'u1'), 'hash-1')).rejects.toThrow();
    expect(await s.findSessionByTokenHash('hash-1')).toEqual(session('s1', 'u1', T1));
    expect(await s.findSessionByTokenHash('nope')).toBeUndefined();
    expect((await s.findSession('s0'))?.createdAt).toBe(T0);
    expect(await s.findSession('nope')).toBeUndefined();
    // Oldest first, then by id.
    expect((await s.listSessions('u1')).map((x) => x.id)).toEqual(['s0', 's1', 's2']);
    await s.setSessionRole('s1', 'arn:aws:iam::1:role/a');
    expect((await s.findSession('s1'))?.roleArn).toBe('arn:aws:iam::1:role/a');
    expect(await s.deleteSession('s1')).toBe(true);
    expect(await s.deleteSession('s1')).toBe(false);
    expect(await s.findSessionByTokenHash('hash-1')).toBeUndefined();
  });

  it("drops a user's sessions and IdP roles with the user", async () => {
    const identity = await users('u1', 'u2');
    const s = createFederationStore(store.db);
    await s.createSession(session('s1', 'u1'), 'hash-1');
    await s.createSession(session('s2', 'u2'), 'hash-2');
    await s.replaceIdpRoles('u1', 'oidc', ['arn:a'], T0);
    await s.replaceIdpRoles('u2', 'oidc', ['arn:b'], T0);
    await identity.deleteUser('u1');
    expect(await s.listSessions('u1')).toEqual([]);
    expect(await s.idpRolesOf('u1')).toEqual([]);
    expect((await s.listSessions('u2')).map((x) => x.id)).toEqual(['s2']);
    expect(await s.idpRolesOf('u2')).toEqual([{ roleArn: 'arn:b', provider: 'oidc' }]);
  });

  it("replaces the roles one provider granted, deduplicated, leaving other providers' grants", async () => {
    await users('u1', 'u2');
    const s = createFederationStore(store.db);
    await s.replaceIdpRoles('u1', 'oidc', ['arn:b', 'arn:a', 'arn:b'], T0);
    await s.replaceIdpRoles('u1', 'saml', ['arn:z'], T0);
    await s.replaceIdpRoles('u2', 'oidc', ['arn:a'], T0);
    expect(await s.idpRolesOf('u1')).toEqual([
      { roleArn: 'arn:a', provider: 'oidc' },
      { roleArn: 'arn:b', provider: 'oidc' },
      { roleArn: 'arn:z', provider: 'saml' },
    ]);
    // A login brings the complete list: what it no longer grants is gone.
    await s.replaceIdpRoles('u1', 'oidc', ['arn:c'], T1);
    expect(await s.idpRolesOf('u1')).toEqual([
      { roleArn: 'arn:c', provider: 'oidc' },
      { roleArn: 'arn:z', provider: 'saml' },
    ]);
    await s.replaceIdpRoles('u1', 'oidc', [], T1);
    expect(await s.idpRolesOf('u1')).toEqual([{ roleArn: 'arn:z', provider: 'saml' }]);
    expect(await s.idpRolesOf('u2')).toEqual([{ roleArn: 'arn:a', provider: 'oidc' }]);
  });

  it('creates, lists (by path) and deletes mounts; a duplicate path is a conflict', async () => {
    const s = createFederationStore(store.db);
    const mount = {
      path: 'sales/eu',
      connection: 's3-sales',
      prefix: 'eu/',
      roleArn: null,
      description: 'EU sales',
      createdAt: T0,
    };
    await s.createMount(mount);
    await s.createMount({ ...mount, path: 'hr', prefix: '', roleArn: 'arn:aws:iam::1:role/hr', description: '' });
    await s.createMount({ ...mount, path: 'sales' });
    await expect(s.createMount({ ...mount, connection: 'other' })).rejects.toMatchObject({ code: 'mount.exists' });
    expect(await s.listMounts()).toEqual([
      { ...mount, path: 'hr', prefix: '', roleArn: 'arn:aws:iam::1:role/hr', description: '' },
      { ...mount, path: 'sales' },
      mount,
    ]);
    expect(await s.deleteMount('sales')).toBe(true);
    expect(await s.deleteMount('sales')).toBe(false);
    expect((await s.listMounts()).map((m) => m.path)).toEqual(['hr', 'sales/eu']);
  });

  it('links an IdP subject to one user, once per issuer', async () => {
    const identity = await users('u1', 'u2');
    const o = createOidcStore(store.db, box);
    await o.linkSubject('https://idp.a', 'sub-1', 'u1', T0);
    await o.linkSubject('https://idp.b', 'sub-1', 'u2', T0);
    expect(await o.userOfSubject('https://idp.a', 'sub-1')).toBe('u1');
    expect(await o.userOfSubject('https://idp.b', 'sub-1')).toBe('u2');
    expect(await o.userOfSubject('https://idp.a', 'sub-2')).toBeUndefined();
    // A subject is never re-linked to another user, and a user has one subject per issuer.
    await expect(o.linkSubject('https://idp.a', 'sub-1', 'u2', T0)).rejects.toThrow();
    await expect(o.linkSubject('https://idp.a', 'sub-9', 'u1', T0)).rejects.toThrow();
    await identity.deleteUser('u1');
    expect(await o.userOfSubject('https://idp.a', 'sub-1')).toBeUndefined();
    await o.linkSubject('https://idp.a', 'sub-1', 'u2', T1);
    expect(await o.userOfSubject('https://idp.a', 'sub-1')).toBe('u2');
  });

  it("keeps a session's ID token sealed and bound to the session, replaced, expired and deleted with it", async () => {
    await users('u1');
    const s = createFederationStore(store.db);
    const o = createOidcStore(store.db, box);
    await s.createSession(session('s1', 'u1'), 'hash-1');
    await s.createSession(session('s2', 'u1'), 'hash-2');
    const now = Date.parse(T1);
    expect(await o.sessionIdToken('s1', now)).toBeUndefined();
    await o.putSessionIdToken('s1', 'id-token-one', LATER);
    await o.putSessionIdToken('s1', 'id-token-two', LATER);
    expect(await o.sessionIdToken('s1', now)).toBe('id-token-two');
    const rows = await store.db.selectFrom('session_web_identities').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.sealed_token).not.toContain('id-token');
    // Sealed for s1: moved to another session's row, it does not open.
    await store.db
      .insertInto('session_web_identities')
      .values({ session_id: 's2', sealed_token: rows[0]?.sealed_token ?? '', expires_at: LATER })
      .execute();
    await expect(o.sessionIdToken('s2', now)).rejects.toThrow();
    // Expired: as if there were none.
    await o.putSessionIdToken('s1', 'id-token-three', T1);
    expect(await o.sessionIdToken('s1', now)).toBeUndefined();
    expect(await o.sessionIdToken('s1', now - 1)).toBe('id-token-three');
    // A token without its session cannot exist.
    await expect(o.putSessionIdToken('nope', 'x', LATER)).rejects.toThrow();
    await s.deleteSession('s1');
    expect(await o.sessionIdToken('s1', now - 1)).toBeUndefined();
    expect(await store.db.selectFrom('session_web_identities').select('session_id').execute()).toEqual([
      { session_id: 's2' },
    ]);
  });
});
