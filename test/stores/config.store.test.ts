import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../src/domain/model.js';
import { systemClock } from '../../src/lib/clock.js';
import { SecretBox } from '../../src/lib/secret-box.js';
import { createConfigService } from '../../src/modules/config-as-code/config.service.js';
import { createConfigStore } from '../../src/modules/config-as-code/config.store.js';
import { type DesiredStateInput, desiredStateSchema } from '../../src/modules/config-as-code/declaration.js';
import { createConnectionStore } from '../../src/modules/connections/connections.store.js';
import { createVaultStore } from '../../src/modules/credentials/vault.store.js';
import { createFederationStore } from '../../src/modules/federation/federation.store.js';
import { createIdentityStore } from '../../src/modules/identity/identity.store.js';
import { testDialects } from '../harness/postgres.js';
import { useStore } from './store-context.js';

const T0 = '2026-01-01T00:00:00.000Z';

const admin: Principal = Object.freeze({
  userId: 'usr-root',
  username: 'root',
  role: 'admin',
  groups: [],
  adminProperties: {},
});

const keypair = (name: string) => ({
  name,
  bucket: 'sales',
  path: 'eu/',
  credentials: { mode: 'keypair' as const, accessKeyId: 'AKIA1', secretAccessKey: 'secret-1' },
});

const DOCUMENT: DesiredStateInput = {
  groups: [{ name: 'sales', description: 'Sales' }],
  users: [
    { username: 'alice', role: 'analyst', groups: ['sales'], properties: { salesRole: 'arn:aws:iam::1:role/s' } },
  ],
  connections: [keypair('s3-sales')],
  mounts: [{ path: '/mnt/sales', connection: 's3-sales', prefix: 'q1/' }],
};

describe.each(testDialects())('config-as-code store and apply on %s', (dialect) => {
  const store = useStore(dialect);
  const box = new SecretBox(randomBytes(32));

  function service() {
    const changed = { users: [] as string[], connections: [] as string[] };
    const svc = createConfigService({
      db: store.db,
      box,
      clock: systemClock,
      onUserChanged: (id) => changed.users.push(id),
      onConnectionChanged: (name) => changed.connections.push(name),
    });
    return { svc, changed };
  }

  it("sets a user's role and a group's description", async () => {
    const identity = createIdentityStore(store.db);
    await identity.createUser({ id: 'u1', username: 'alice', role: 'analyst', createdAt: T0 });
    await identity.createGroup({ name: 'sales', description: '', createdAt: T0 });
    const config = createConfigStore(store.db);
    await config.setUserRole('u1', 'admin');
    await config.setGroupDescription('sales', 'Sales team');
    await config.setGroupDescription('nobody', 'ignored');
    expect((await identity.findUserById('u1'))?.role).toBe('admin');
    expect(await identity.findGroup('sales')).toEqual({ name: 'sales', description: 'Sales team', createdAt: T0 });
  });

  it('plans without changing, applies in one transaction, then is idempotent', async () => {
    const { svc, changed } = service();
    const desired = desiredStateSchema.parse(DOCUMENT);
    const plan = await svc.plan(admin, desired);
    expect(plan.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual(
      expect.arrayContaining(['create group sales', 'create user alice', 'create connection s3-sales']),
    );
    expect(await createIdentityStore(store.db).listUsers()).toEqual([]);
    expect(changed).toEqual({ users: [], connections: [] });

    const applied = await svc.apply(admin, desired);
    expect(applied.changes).toEqual(plan.changes);
    const identity = createIdentityStore(store.db);
    const alice = await identity.findUserByName('alice');
    expect(alice?.role).toBe('analyst');
    expect(await identity.groupsOf(alice?.id ?? '')).toEqual(['sales']);
    expect(await identity.propertiesOf(alice?.id ?? '')).toEqual({ salesRole: 'arn:aws:iam::1:role/s' });
    expect((await createConnectionStore(store.db).find('s3-sales'))?.connection.target.bucket).toBe('sales');
    expect(await createVaultStore(store.db, box).get('connection/s3-sales')).toEqual({
      accessKeyId: 'AKIA1',
      secretAccessKey: 'secret-1',
    });
    expect((await createFederationStore(store.db).listMounts()).map((m) => [m.path, m.prefix])).toEqual([
      ['sales', 'q1/'],
    ]);
    // Announced after the commit: the user whose groups and properties changed (a new connection is in no cache).
    expect(changed.users).toEqual([alice?.id]);
    expect(changed.connections).toEqual([]);

    const again = await svc.apply(admin, desired);
    expect(again.changes).toEqual([]);

    // An update of a role and a description goes through the config store inside the transaction.
    const promoted = desiredStateSchema.parse({
      ...DOCUMENT,
      groups: [{ name: 'sales', description: 'Sales EU' }],
      users: [{ ...DOCUMENT.users?.[0], role: 'admin' }],
    });
    expect((await svc.apply(admin, promoted)).changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual([
      'update group sales',
      'update user alice',
    ]);
    expect((await identity.findUserByName('alice'))?.role).toBe('admin');
    expect((await identity.findGroup('sales'))?.description).toBe('Sales EU');
  });

  it('rolls back every change when one fails, and names the change that failed', async () => {
    const { svc, changed } = service();
    // The mount's connection exists at plan time but the declared secret is missing: the connection create fails.
    const broken = desiredStateSchema.parse({
      ...DOCUMENT,
      connections: [{ ...keypair('s3-sales'), credentials: { mode: 'keypair', accessKeyId: 'AKIA1' } }],
    });
    await expect(svc.apply(admin, broken)).rejects.toMatchObject({
      code: 'connection.invalid',
      message: expect.stringMatching(/^create connection s3-sales: .*\(nothing applied\)$/),
    });
    expect(await createIdentityStore(store.db).listUsers()).toEqual([]);
    expect(await createIdentityStore(store.db).listGroups()).toEqual([]);
    expect(changed).toEqual({ users: [], connections: [] });
  });

  it('reports a conflict with a concurrent writer precisely (PostgreSQL aborts the transaction on the error)', async () => {
    const { svc } = service();
    const desired = desiredStateSchema.parse({ connections: [keypair('s3-race')] });
    if (dialect === 'sqlite') {
      // One connection, transactions one after another: the second apply sees the first and changes nothing.
      const [first, second] = await Promise.all([svc.apply(admin, desired), svc.apply(admin, desired)]);
      expect(first.changes.length + second.changes.length).toBe(1);
      return;
    }
    // Another writer inserts the same connection and commits only once the apply waits on its row.
    let commit: () => void = () => undefined;
    const committed = new Promise<void>((resolve) => {
      commit = resolve;
    });
    const other = store.db.transaction().execute(async (tx) => {
      await createConnectionStore(tx).create(
        {
          name: 's3-race',
          description: 'other writer',
          target: { region: 'us-east-1', forcePathStyle: false, useBucketRegion: false, bucket: 'b', pathInBucket: '' },
          mode: 'environment',
          usableBy: { kind: 'everyone' },
          detailsReadableBy: { kind: 'nobody' },
          allowedRoles: [],
          sessionNameTemplate: 'rg-${connection}-for-${user}',
          readOnly: false,
        },
        T0,
      );
      await committed;
    });
    const applying = svc.apply(admin, desired).then(
      () => undefined,
      (e: unknown) => e,
    );
    for (let i = 0; ; i++) {
      const waiting = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock'`.execute(store.db);
      if ((waiting.rows[0]?.n ?? 0) > 0) break;
      if (i > 500) throw new Error('the apply never waited on the other writer');
      await new Promise((r) => setTimeout(r, 10));
    }
    commit();
    await other;
    const error = await applying;
    expect(error).toMatchObject({
      code: 'connection.exists',
      message: 'create connection s3-race: connection "s3-race" already exists (nothing applied)',
    });
    // The other writer's connection stands; the apply left nothing behind.
    expect((await createConnectionStore(store.db).find('s3-race'))?.connection.description).toBe('other writer');
    expect(await createVaultStore(store.db, box).get('connection/s3-race')).toBeUndefined();
  });
});
