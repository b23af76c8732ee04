import { describe, expect, it } from 'vitest';
import { createIdentityStore } from '../../src/modules/identity/identity.store.js';
import { testDialects } from '../harness/postgres.js';
import { useStore } from './store-context.js';

const T0 = '2026-01-01T00:00:00.000Z';

describe.each(testDialects())('identity store on %s', (dialect) => {
  const store = useStore(dialect);
  const identity = () => createIdentityStore(store.db);

  it('creates, finds, lists and deletes users; a duplicate username is a conflict', async () => {
    const s = identity();
    await s.createUser({ id: 'u2', username: 'bob', role: 'analyst', createdAt: T0 });
    await s.createUser({ id: 'u1', username: 'alice', role: 'admin', createdAt: T0 });
    await expect(s.createUser({ id: 'u3', username: 'bob', role: 'admin', createdAt: T0 })).rejects.toMatchObject({
      code: 'user.exists',
    });
    expect(await s.findUserByName('alice')).toEqual({ id: 'u1', username: 'alice', role: 'admin', createdAt: T0 });
    expect((await s.findUserById('u2'))?.username).toBe('bob');
    expect(await s.findUserByName('nobody')).toBeUndefined();
    expect((await s.listUsers()).map((u) => u.username)).toEqual(['alice', 'bob']);
    expect(await s.countAdmins()).toBe(1);
    expect(await s.deleteUser('u2')).toBe(true);
    expect(await s.deleteUser('u2')).toBe(false);
  });

  it('keeps groups and memberships; deleting a user or group removes its memberships', async () => {
    const s = identity();
    await s.createUser({ id: 'u1', username: 'alice', role: 'analyst', createdAt: T0 });
    await s.createUser({ id: 'u2', username: 'bob', role: 'analyst', createdAt: T0 });
    await s.createGroup({ name: 'sales', description: 'Sales', createdAt: T0 });
    await s.createGroup({ name: 'Finance', description: '', createdAt: T0 });
    await expect(s.createGroup({ name: 'sales', description: '', createdAt: T0 })).rejects.toMatchObject({
      code: 'group.exists',
    });
    expect(await s.findGroup('sales')).toEqual({ name: 'sales', description: 'Sales', createdAt: T0 });
    // Byte order on both: upper case sorts first.
    expect((await s.listGroups()).map((g) => g.name)).toEqual(['Finance', 'sales']);
    await s.addMember('sales', 'u1');
    await s.addMember('sales', 'u1');
    await s.addMember('sales', 'u2');
    await s.addMember('Finance', 'u1');
    expect(await s.groupsOf('u1')).toEqual(['Finance', 'sales']);
    expect(await s.membersOf('sales')).toEqual(['alice', 'bob']);
    expect(await s.removeMember('sales', 'u2')).toBe(true);
    expect(await s.removeMember('sales', 'u2')).toBe(false);
    await s.deleteUser('u1');
    expect(await s.membersOf('sales')).toEqual([]);
    expect(await s.deleteGroup('Finance')).toBe(true);
    expect(await s.deleteGroup('Finance')).toBe(false);
  });

  it('sets, replaces and deletes admin properties', async () => {
    const s = identity();
    await s.createUser({ id: 'u1', username: 'alice', role: 'analyst', createdAt: T0 });
    await s.setProperty('u1', 'role', 'arn:a', T0);
    await s.setProperty('u1', 'role', 'arn:b', T0);
    await s.setProperty('u1', 'dept', 'x', T0);
    expect(await s.propertiesOf('u1')).toEqual({ dept: 'x', role: 'arn:b' });
    expect(await s.deleteProperty('u1', 'dept')).toBe(true);
    expect(await s.deleteProperty('u1', 'dept')).toBe(false);
    expect(await s.propertiesOf('u1')).toEqual({ role: 'arn:b' });
  });

  it('stores API tokens by hash only, lists, touches and deletes them', async () => {
    const s = identity();
    await s.createUser({ id: 'u1', username: 'alice', role: 'analyst', createdAt: T0 });
    const token = { id: 't1', userId: 'u1', name: 'laptop', createdAt: T0, expiresAt: null, lastUsedAt: null };
    await s.createToken(token, 'hash-1');
    await s.createToken({ ...token, id: 't2', createdAt: '2026-01-02T00:00:00.000Z', expiresAt: T0 }, 'hash-2');
    expect(await s.findTokenByHash('hash-1')).toEqual(token);
    expect(await s.findTokenByHash('nope')).toBeUndefined();
    await s.touchToken('t1', '2026-02-01T00:00:00.000Z');
    expect((await s.findTokenByHash('hash-1'))?.lastUsedAt).toBe('2026-02-01T00:00:00.000Z');
    expect((await s.listTokens('u1')).map((t) => t.id)).toEqual(['t1', 't2']);
    expect(await s.deleteToken('t1')).toBe(true);
    expect(await s.deleteToken('t1')).toBe(false);
    await s.deleteUser('u1');
    expect(await s.findTokenByHash('hash-2')).toBeUndefined();
  });
});
