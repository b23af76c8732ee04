import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectDatabase, type Db } from '../../db/connect.js';
import type { Connection, Principal } from '../../domain/model.js';
import { DEFAULT_SESSION_NAME_TEMPLATE } from '../../domain/model.js';
import type { NarrowingRequest } from '../../domain/narrowing.js';
import { isRolegateError, permissionDenied, type RolegateError } from '../../errors/errors.js';
import type { IssuedCredentials } from '../credentials/credentials.service.js';
import { createExecTokensService } from './exec-tokens.service.js';
import { createFastpathStore, type FastpathStore } from './fastpath.store.js';
import { createRevocationService } from './revocation.service.js';

const T0 = Date.UTC(2030, 0, 1, 12);
let db: Db;
let store: FastpathStore;
let now: number;
const clock = { now: () => now };

const user = (name: string, role: 'admin' | 'analyst' = 'analyst'): Principal => ({
  userId: `u-${name}`,
  username: name,
  role,
  groups: [],
  adminProperties: {},
});
const alice = user('alice');
const bob = user('bob');
const admin = user('root', 'admin');

beforeEach(async () => {
  now = T0;
  db = await connectDatabase('sqlite::memory:');
  for (const p of [alice, bob, admin]) {
    await db.insertInto('users').values({ id: p.userId, username: p.username, role: p.role, created_at: '' }).execute();
  }
  store = createFastpathStore(db);
});
afterEach(async () => {
  await db.destroy();
});

async function rejection(promise: Promise<unknown>): Promise<RolegateError> {
  try {
    await promise;
  } catch (e) {
    if (isRolegateError(e)) return e;
    throw e;
  }
  throw new Error('expected a RolegateError');
}

function execTokens() {
  const issued: Array<{ who: string; connection: string; narrowing: NarrowingRequest }> = [];
  const users = new Map([alice, bob, admin].map((p) => [p.userId, p]));
  const service = createExecTokensService({
    store,
    identity: { principalById: async (id) => users.get(id) },
    credentials: {
      issue: async (actor, connection, narrowing = {}): Promise<IssuedCredentials> => {
        if (connection === 'secret') throw permissionDenied('credentials.details_not_readable', 'no');
        issued.push({ who: actor.username, connection, narrowing });
        return {
          accessKeyId: 'ASIA1',
          secretAccessKey: 's',
          sessionToken: 't',
          region: 'us-east-1',
          forcePathStyle: true,
          bucket: 'b',
          prefix: 'p/',
          readOnly: false,
        };
      },
    },
    clock,
  });
  return { service, issued, users };
}

describe('exec tokens', () => {
  it('are stored hashed, yield their user\u2019s credentials for their connection with their narrowing', async () => {
    const { service, issued } = execTokens();
    const t = await service.create(alice, { connection: 's3-sales', prefix: '2024', readOnly: true });
    expect(t.token).toMatch(/^rgx_[A-Za-z0-9_-]{43}$/);
    const rows = await db.selectFrom('exec_tokens').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(t.token);
    const { principal } = await service.credentialsFor(t.token);
    expect(principal.username).toBe('alice');
    expect(issued.at(-1)).toEqual({
      who: 'alice',
      connection: 's3-sales',
      narrowing: { prefix: '2024', readOnly: true, durationSeconds: undefined },
    });
  });

  it('refuse unknown, malformed, expired and revoked tokens alike', async () => {
    const { service } = execTokens();
    const t = await service.create(alice, { connection: 's3-sales', ttlSeconds: 60 });
    for (const bad of ['', 'rg_x', `rgx_${'A'.repeat(43)}`]) {
      expect((await rejection(service.credentialsFor(bad))).code).toBe('exec_token.invalid');
    }
    now += 61_000;
    expect((await rejection(service.credentialsFor(t.token))).code).toBe('exec_token.invalid');
    now = T0;
    expect((await rejection(service.revoke(bob, t.id))).code).toBe('exec_token.not_found');
    await service.revoke(admin, t.id);
    expect((await rejection(service.credentialsFor(t.token))).code).toBe('exec_token.invalid');
  });

  it('are only created for credentials the user may receive now, with a bounded lifetime', async () => {
    const { service } = execTokens();
    expect((await rejection(service.create(alice, { connection: 'secret' }))).code).toBe(
      'credentials.details_not_readable',
    );
    expect((await rejection(service.create(alice, { connection: 's3-sales', ttlSeconds: 8 * 86_400 }))).code).toBe(
      'exec_token.invalid_ttl',
    );
    expect(await db.selectFrom('exec_tokens').selectAll().execute()).toEqual([]);
  });

  it('stop working when their user is gone', async () => {
    const { service, users } = execTokens();
    const t = await service.create(bob, { connection: 's3-sales' });
    users.delete(bob.userId);
    expect((await rejection(service.credentialsFor(t.token))).code).toBe('exec_token.invalid');
  });
});

const conn: Connection = {
  name: 's3-sales',
  description: '',
  target: { region: 'us-east-1', forcePathStyle: true, useBucketRegion: false, bucket: 'b', pathInBucket: 'p/' },
  mode: 'assume-role',
  assumeRole: { roleArn: 'arn:aws:iam:::role/sales', durationSeconds: 3600, master: 'environment' },
  usableBy: { kind: 'everyone' },
  detailsReadableBy: { kind: 'everyone' },
  allowedRoles: [],
  sessionNameTemplate: DEFAULT_SESSION_NAME_TEMPLATE,
  readOnly: false,
};

function revocations(options: { failPut?: boolean } = {}) {
  const calls: string[] = [];
  const policies: Array<string | null> = [];
  const users = new Map([alice, bob, admin].map((p) => [p.username, p]));
  const service = createRevocationService({
    store,
    connectionStore: {
      find: async (name) =>
        name === conn.name ? { connection: conn, version: 1, createdAt: '', updatedAt: '' } : undefined,
    },
    connections: {
      resolveForUse: async (_actor, name) => {
        if (name !== conn.name) throw new Error('unexpected');
        return { connection: conn, version: 1, createdAt: '', updatedAt: '' };
      },
    },
    identity: {
      principalFor: async (actor, username) => {
        const p = users.get(username);
        if (p === undefined || (actor.role !== 'admin' && actor.username !== username)) {
          throw permissionDenied('user.not_found', 'no');
        }
        return p;
      },
    },
    engine: {
      forgetUserConnection: (u, c) => calls.push(`forget ${u} ${c}`),
      roleIdOf: async () => 'role-uuid',
      putRolePolicy: async (_c, roleArn, name, policy) => {
        if (options.failPut) throw permissionDenied('iam.access_denied', 'no');
        calls.push(`put ${roleArn} ${name}`);
        policies.push(policy);
      },
    },
    clock,
  });
  return { service, calls, policies };
}

describe('revocation', () => {
  const issue = (s: ReturnType<typeof revocations>['service'], who: Principal, name: string, ttlMs = 3_600_000) =>
    s.recordIssued({
      userId: who.userId,
      connection: 's3-sales',
      roleArn: 'arn:aws:iam:::role/sales',
      sessionName: name,
      expiresAt: new Date(now + ttlMs),
    });

  it('bumps the generation, forgets the cache, and denies exactly the issued names by aws:userid', async () => {
    const { service, calls, policies } = revocations();
    await issue(service, alice, 'rg-s3-sales-for-alice');
    await issue(service, bob, 'rg-s3-sales-for-bob');
    expect(await service.currentGeneration(alice.userId, 's3-sales')).toBe(0);
    const result = await service.revoke(admin, 's3-sales', 'alice');
    expect(result.generation).toBe(1);
    expect(await service.currentGeneration(alice.userId, 's3-sales')).toBe(1);
    expect(result.revokedSessions).toEqual([
      { roleArn: 'arn:aws:iam:::role/sales', sessionName: 'rg-s3-sales-for-alice' },
    ]);
    expect(calls).toEqual(['forget u-alice s3-sales', 'put arn:aws:iam:::role/sales rolegate-revoked-sessions']);
    expect(JSON.parse(policies[0] ?? '').Statement[0].Condition.StringEquals['aws:userid']).toEqual([
      'role-uuid:rg-s3-sales-for-alice',
    ]);
    // A second revocation of bob keeps alice's entry while her session may still be alive.
    await service.revoke(bob, 's3-sales', 'bob');
    expect(JSON.parse(policies[1] ?? '').Statement[0].Condition.StringEquals['aws:userid']).toEqual([
      'role-uuid:rg-s3-sales-for-alice',
      'role-uuid:rg-s3-sales-for-bob',
    ]);
    expect((await service.list(admin, 's3-sales')).map((r) => r.username).sort()).toEqual(['alice', 'bob']);
    expect((await rejection(service.list(alice, 's3-sales'))).code).toBe('auth.admin_required');
  });

  it('drops expired entries from the policy and deletes it when none are left', async () => {
    const { service, policies } = revocations();
    await issue(service, alice, 'rg-s3-sales-for-alice', 60_000);
    await service.revoke(alice, 's3-sales', 'alice');
    now += 120_000;
    await issue(service, bob, 'rg-s3-sales-for-bob', 60_000);
    await service.revoke(bob, 's3-sales', 'bob');
    expect(JSON.parse(policies[1] ?? '').Statement[0].Condition.StringEquals['aws:userid']).toEqual([
      'role-uuid:rg-s3-sales-for-bob',
    ]);
  });

  it("refuses users revoking others' sessions, and reports a backend that refuses the policy", async () => {
    expect((await rejection(revocations().service.revoke(bob, 's3-sales', 'alice'))).code).toBe('user.not_found');
    const failing = revocations({ failPut: true });
    await issue(failing.service, alice, 'rg-s3-sales-for-alice');
    const e = await rejection(failing.service.revoke(admin, 's3-sales', 'alice'));
    expect(e.code).toBe('revocation.backend_refused');
    expect(e.message).toContain('stay valid until they expire');
    // rolegate itself already stopped handing the old name out.
    expect(await failing.service.currentGeneration(alice.userId, 's3-sales')).toBe(1);
  });
});
