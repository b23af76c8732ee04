import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../src/domain/model.js';
import { SecretBox } from '../../src/lib/secret-box.js';
import { createConnectionStore } from '../../src/modules/connections/connections.store.js';
import { createVaultStore } from '../../src/modules/credentials/vault.store.js';
import { createGatewayKeyStore } from '../../src/modules/gateway-keys/gateway-keys.store.js';
import { createIdentityStore } from '../../src/modules/identity/identity.store.js';
import { testDialects } from '../harness/postgres.js';
import { useStore } from './store-context.js';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-02T00:00:00.000Z';

const conn = (name: string, description = ''): Connection => ({
  name,
  description,
  target: { region: 'us-east-1', forcePathStyle: true, useBucketRegion: false, bucket: 'b', pathInBucket: 'p/' },
  mode: 'environment',
  usableBy: { kind: 'everyone' },
  detailsReadableBy: { kind: 'everyone' },
  allowedRoles: [],
  sessionNameTemplate: 'rg-${connection}-for-${user}',
  readOnly: false,
});

describe.each(testDialects())('connections, vault and gateway-key stores on %s', (dialect) => {
  const store = useStore(dialect);
  const box = new SecretBox(randomBytes(32));

  it('creates connections, updates them with optimistic versions, lists and deletes', async () => {
    const s = createConnectionStore(store.db);
    expect(await s.create(conn('s3-b'), T0)).toMatchObject({ version: 1, createdAt: T0 });
    await s.create(conn('s3-a'), T0);
    await expect(s.create(conn('s3-a'), T0)).rejects.toMatchObject({ code: 'connection.exists' });
    const updated = await s.update(conn('s3-a', 'second'), 1, T1);
    expect(updated).toMatchObject({ version: 2, createdAt: T0, updatedAt: T1 });
    expect(updated.connection.description).toBe('second');
    await expect(s.update(conn('s3-a', 'stale'), 1, T1)).rejects.toMatchObject({
      code: 'connection.version_conflict',
    });
    expect((await s.update(conn('s3-a', 'third'), undefined, T1)).version).toBe(3);
    expect((await s.find('s3-a'))?.connection).toEqual(conn('s3-a', 'third'));
    expect((await s.list()).map((r) => r.connection.name)).toEqual(['s3-a', 's3-b']);
    expect(await s.delete('s3-a')).toBe(true);
    expect(await s.delete('s3-a')).toBe(false);
    expect(await s.find('s3-a')).toBeUndefined();
  });

  it('seals vault secrets at rest, replaces, lists ids by literal prefix and deletes', async () => {
    const v = createVaultStore(store.db, box);
    await v.put('connection/a_b', { accessKeyId: 'AK1', secretAccessKey: 'very-secret-1' }, T0);
    await v.put('connection/a_b', { accessKeyId: 'AK2', secretAccessKey: 'very-secret-2' }, T1);
    await v.put('connection/axb', { accessKeyId: 'AK3', secretAccessKey: 'very-secret-3' }, T0);
    expect(await v.get('connection/a_b')).toEqual({ accessKeyId: 'AK2', secretAccessKey: 'very-secret-2' });
    expect(await v.get('connection/none')).toBeUndefined();
    const raw = await store.db.selectFrom('vault_secrets').select('sealed').execute();
    expect(raw.map((r) => r.sealed).join()).not.toContain('very-secret');
    // `_` is not a wildcard.
    expect(await v.listIds('connection/a_')).toEqual(['connection/a_b']);
    expect(await v.delete('connection/a_b')).toBe(true);
    expect(await v.delete('connection/a_b')).toBe(false);
  });

  it('keeps gateway keys per user with the secret sealed; deleting the user removes them', async () => {
    await createIdentityStore(store.db).createUser({ id: 'u1', username: 'alice', role: 'analyst', createdAt: T0 });
    const k = createGatewayKeyStore(store.db, box);
    await k.create({ accessKeyId: 'RGK1', userId: 'u1', name: 'laptop', createdAt: T0 }, 'gateway-secret-1');
    await k.create({ accessKeyId: 'RGK2', userId: 'u1', name: 'spark', createdAt: T1 }, 'gateway-secret-2');
    expect(await k.findWithSecret('RGK1')).toEqual({
      key: { accessKeyId: 'RGK1', userId: 'u1', name: 'laptop', createdAt: T0 },
      secret: 'gateway-secret-1',
    });
    expect(await k.findWithSecret('RGK9')).toBeUndefined();
    const raw = await store.db.selectFrom('gateway_keys').select('sealed_secret').execute();
    expect(raw.map((r) => r.sealed_secret).join()).not.toContain('gateway-secret');
    expect((await k.listByUser('u1')).map((r) => r.accessKeyId)).toEqual(['RGK1', 'RGK2']);
    expect(await k.delete('RGK1', 'someone-else')).toBe(false);
    expect(await k.delete('RGK1', 'u1')).toBe(true);
    await createIdentityStore(store.db).deleteUser('u1');
    expect(await k.listByUser('u1')).toEqual([]);
  });
});
