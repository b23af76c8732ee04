import { describe, expect, it } from 'vitest';
import type { AssumedRole, AssumeRoleRequest, StsGateway } from '../../cloud/aws/sts.js';
import type { AwsCredentials, Connection, Principal, Scope } from '../../domain/model.js';
import { DEFAULT_SESSION_NAME_TEMPLATE } from '../../domain/model.js';
import { connectionScope } from '../../domain/role-session-plan.js';
import { isRolegateError, permissionDenied, type RolegateError, upstreamUnavailable } from '../../errors/errors.js';
import { type CredentialEngine, createCredentialEngine } from './credential-engine.js';
import { connectionSecretId, type StoredKeypair, userKeypairId } from './vault.store.js';

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
const HOUR_MS = 3_600_000;
const ROLE = 'arn:aws:iam:::role/sales';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Lets pending promise callbacks (a background refresh, say) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

class FakeClock {
  t = T0;
  now = () => this.t;
}

/** Counts AssumeRole calls; each answer has a new access key id and expires `lifetimeMs` after the clock. */
class FakeSts implements StsGateway {
  readonly requests: AssumeRoleRequest[] = [];
  lifetimeMs = HOUR_MS;
  /** While set, every call waits for it. */
  gate: Promise<void> | undefined;
  /** Thrown (once) by the next call. */
  failNext: unknown;

  constructor(private readonly clock: FakeClock) {}

  get calls(): number {
    return this.requests.length;
  }

  async assumeRole(request: AssumeRoleRequest): Promise<AssumedRole> {
    this.requests.push(request);
    const n = this.requests.length;
    const expiration = new Date(this.clock.now() + this.lifetimeMs);
    if (this.gate !== undefined) await this.gate;
    if (this.failNext !== undefined) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    return {
      credentials: {
        accessKeyId: `ASIA${n}`,
        secretAccessKey: `secret-${n}`,
        sessionToken: `token-${n}`,
        expiration,
      },
      assumedRoleArn: `arn:aws:sts:::assumed-role/sales/s${n}`,
    };
  }
}

function principal(overrides: Partial<Principal> = {}): Principal {
  return {
    userId: 'u-bob',
    username: 'bob',
    role: 'analyst',
    groups: ['sales'],
    adminProperties: { role: ROLE },
    ...overrides,
  };
}

function connection(overrides: Partial<Connection> = {}): Connection {
  return {
    name: 's3-sales',
    description: '',
    target: {
      region: 'us-east-1',
      endpoint: 'http://rgw.example:8000',
      forcePathStyle: true,
      useBucketRegion: false,
      bucket: 'b',
      pathInBucket: 'p/',
    },
    mode: 'assume-role',
    assumeRole: {
      roleArn: '${adminProperty:role}',
      externalId: 'ext-123',
      durationSeconds: 3600,
      master: 'environment',
    },
    usableBy: { kind: 'everyone' },
    detailsReadableBy: { kind: 'everyone' },
    allowedRoles: ['arn:aws:iam:::role/*'],
    sessionNameTemplate: DEFAULT_SESSION_NAME_TEMPLATE,
    readOnly: false,
    ...overrides,
  };
}

const ENV_CREDENTIALS: AwsCredentials = { accessKeyId: 'AKIAENVIRONMENT', secretAccessKey: 'env-secret' };

function setup() {
  const clock = new FakeClock();
  const sts = new FakeSts(clock);
  const vaultEntries = new Map<string, StoredKeypair>();
  const refreshErrors: unknown[] = [];
  let environmentCalls = 0;
  const engine: CredentialEngine = createCredentialEngine({
    sts,
    vault: { get: async (id) => vaultEntries.get(id) },
    environmentCredentials: async () => {
      environmentCalls++;
      return ENV_CREDENTIALS;
    },
    clock,
    settings: { refreshAheadSeconds: 300, cacheMaxEntries: 100 },
    onRefreshError: (e) => refreshErrors.push(e),
  });
  return { clock, sts, vaultEntries, engine, refreshErrors, environmentCalls: () => environmentCalls };
}

const conn = connection();
const scope: Scope = connectionScope(conn);

async function rejection(promise: Promise<unknown>): Promise<RolegateError> {
  try {
    await promise;
  } catch (e) {
    if (isRolegateError(e)) return e;
    throw e;
  }
  throw new Error('expected a RolegateError');
}

describe('credential engine: assume-role caching', () => {
  it('does not re-cache a session whose STS call was in flight when the user was forgotten', async () => {
    const { engine, sts } = setup();
    const gate = deferred();
    sts.gate = gate.promise;
    const pending = engine.obtain(principal(), conn, 1, scope);
    await settle();
    engine.forgetUser(principal().userId);
    gate.resolve();
    await pending;
    sts.gate = undefined;
    await engine.obtain(principal(), conn, 1, scope);
    expect(sts.calls).toBe(2);
  });

  it('calls STS on the first request and serves the second from the cache', async () => {
    const { engine, sts } = setup();
    const first = await engine.obtain(principal(), conn, 1, scope);
    expect(sts.calls).toBe(1);
    expect(first.credentials.accessKeyId).toBe('ASIA1');
    expect(first.roleArn).toBe(ROLE);
    expect(first.scope).toEqual({ bucket: 'b', prefix: 'p/', access: 'read-write' });
    expect(first.issuedAt.getTime()).toBe(T0);
    const second = await engine.obtain(principal(), conn, 1, scope);
    expect(sts.calls).toBe(1);
    expect(second).toBe(first);
    expect(engine.stats()).toEqual({ hits: 1, misses: 1, refreshes: 0, stsCalls: 1 });
  });

  it('merges 100 concurrent first requests into one STS call', async () => {
    const { engine, sts } = setup();
    const gate = deferred();
    sts.gate = gate.promise;
    const pending = Promise.all(Array.from({ length: 100 }, () => engine.obtain(principal(), conn, 1, scope)));
    await settle();
    expect(sts.calls).toBe(1);
    gate.resolve();
    const sessions = await pending;
    expect(sts.calls).toBe(1);
    expect(new Set(sessions.map((s) => s.credentials.accessKeyId))).toEqual(new Set(['ASIA1']));
    expect(new Set(sessions).size).toBe(1);
  });

  it('refreshes once in the background after the refresh point, serving the cached session meanwhile', async () => {
    const { engine, sts, clock } = setup();
    const first = await engine.obtain(principal(), conn, 1, scope);
    const expiresAt = T0 + HOUR_MS;

    // refreshAheadSeconds = 300 of a one-hour session: the refresh point is 5 minutes before expiry.
    clock.t = expiresAt - 300_000 - 1;
    expect(await engine.obtain(principal(), conn, 1, scope)).toBe(first);
    await settle();
    expect(sts.calls).toBe(1);

    const gate = deferred();
    sts.gate = gate.promise;
    clock.t = expiresAt - 300_000 + 1;
    for (let i = 0; i < 5; i++) expect(await engine.obtain(principal(), conn, 1, scope)).toBe(first);
    await settle();
    expect(sts.calls).toBe(2);

    sts.gate = undefined;
    gate.resolve();
    await settle();
    const refreshed = await engine.obtain(principal(), conn, 1, scope);
    expect(refreshed.credentials.accessKeyId).toBe('ASIA2');
    expect(sts.calls).toBe(2);
  });

  it('caps the refresh lead at half of a short session lifetime', async () => {
    const { engine, sts, clock } = setup();
    sts.lifetimeMs = 8 * 60_000; // 480 s: half is 240 s, less than refreshAheadSeconds.
    const first = await engine.obtain(principal(), conn, 1, scope);
    const expiresAt = T0 + sts.lifetimeMs;

    clock.t = expiresAt - 240_000 - 1;
    expect(await engine.obtain(principal(), conn, 1, scope)).toBe(first);
    await settle();
    expect(sts.calls).toBe(1);

    clock.t = expiresAt - 240_000 + 1;
    expect(await engine.obtain(principal(), conn, 1, scope)).toBe(first);
    await settle();
    expect(sts.calls).toBe(2);
  });

  it('keeps serving the cached session when a background refresh fails, and reports the failure', async () => {
    const { engine, sts, clock, refreshErrors } = setup();
    const first = await engine.obtain(principal(), conn, 1, scope);
    const failure = upstreamUnavailable('sts.unavailable', 'down');
    sts.failNext = failure;
    clock.t = T0 + HOUR_MS - 200_000;
    expect(await engine.obtain(principal(), conn, 1, scope)).toBe(first);
    await settle();
    expect(refreshErrors).toEqual([failure]);
    expect(await engine.obtain(principal(), conn, 1, scope)).toBe(first);
    await settle();
    expect(sts.calls).toBe(3);
  });

  it('makes the caller wait for a new session within 60 s of expiry', async () => {
    const { engine, sts, clock } = setup();
    await engine.obtain(principal(), conn, 1, scope);
    clock.t = T0 + HOUR_MS - 59_000;
    const gate = deferred();
    sts.gate = gate.promise;
    let settled = false;
    const pending = engine.obtain(principal(), conn, 1, scope).then((s) => {
      settled = true;
      return s;
    });
    await settle();
    expect(sts.calls).toBe(2);
    expect(settled).toBe(false);
    gate.resolve();
    const fresh = await pending;
    expect(fresh.credentials.accessKeyId).toBe('ASIA2');
    expect(fresh.issuedAt.getTime()).toBe(clock.t);
    expect(engine.stats().misses).toBe(2);
  });

  it('keeps sessions of different users apart', async () => {
    const { engine, sts } = setup();
    const bob = await engine.obtain(principal(), conn, 1, scope);
    const alice = await engine.obtain(principal({ userId: 'u-alice', username: 'alice' }), conn, 1, scope);
    expect(sts.calls).toBe(2);
    expect(alice.credentials.accessKeyId).not.toBe(bob.credentials.accessKeyId);
    expect(sts.requests[1]!.sessionName).toBe('rg-s3-sales-for-alice');
  });

  it('keeps sessions of different scopes apart', async () => {
    const { engine, sts } = setup();
    await engine.obtain(principal(), conn, 1, scope);
    await engine.obtain(principal(), conn, 1, { ...scope, prefix: 'p/sub/' });
    await engine.obtain(principal(), conn, 1, { ...scope, access: 'read' });
    expect(sts.calls).toBe(3);
  });

  it('calls STS again for a different connection version', async () => {
    const { engine, sts } = setup();
    await engine.obtain(principal(), conn, 1, scope);
    await engine.obtain(principal(), conn, 2, scope);
    expect(sts.calls).toBe(2);
  });

  it('forgets the sessions of a connection', async () => {
    const { engine, sts } = setup();
    const other = connection({ name: 's3-other' });
    await engine.obtain(principal(), conn, 1, scope);
    await engine.obtain(principal(), other, 1, scope);
    engine.forgetConnection('s3-sales');
    await engine.obtain(principal(), conn, 1, scope);
    await engine.obtain(principal(), other, 1, scope);
    expect(sts.requests.map((r) => r.connectionName)).toEqual(['s3-sales', 's3-other', 's3-sales']);
  });

  it('forgets the sessions of a user', async () => {
    const { engine, sts } = setup();
    const alice = principal({ userId: 'u-alice', username: 'alice' });
    await engine.obtain(principal(), conn, 1, scope);
    await engine.obtain(alice, conn, 1, scope);
    engine.forgetUser('u-bob');
    await engine.obtain(principal(), conn, 1, scope);
    await engine.obtain(alice, conn, 1, scope);
    expect(sts.requests.map((r) => r.sessionName)).toEqual([
      'rg-s3-sales-for-bob',
      'rg-s3-sales-for-alice',
      'rg-s3-sales-for-bob',
    ]);
  });

  it('propagates an STS failure without caching it', async () => {
    const { engine, sts } = setup();
    const failure = permissionDenied('sts.access_denied', 'denied');
    sts.failNext = failure;
    await expect(engine.obtain(principal(), conn, 1, scope)).rejects.toBe(failure);
    expect(sts.calls).toBe(1);
    const session = await engine.obtain(principal(), conn, 1, scope);
    expect(sts.calls).toBe(2);
    expect(session.credentials.accessKeyId).toBe('ASIA2');
  });
});

describe('credential engine: the STS request', () => {
  it('carries the rendered role, session name, duration, external id, endpoint, master credentials and policy', async () => {
    const { engine, sts } = setup();
    await engine.obtain(principal(), conn, 1, scope);
    const request = sts.requests[0]!;
    expect(request.roleArn).toBe(ROLE);
    expect(request.sessionName).toBe('rg-s3-sales-for-bob');
    expect(request.durationSeconds).toBe(3600);
    expect(request.externalId).toBe('ext-123');
    expect(request.region).toBe('us-east-1');
    expect(request.endpoint).toBe('http://rgw.example:8000');
    expect(request.connectionName).toBe('s3-sales');
    expect(request.masterCredentials).toEqual(ENV_CREDENTIALS);
    const policy: unknown = JSON.parse(request.policy);
    expect(policy).toMatchObject({ Version: '2012-10-17' });
    expect(request.policy).toContain('arn:aws:s3:::b');
    expect(request.policy).toContain('arn:aws:s3:::b/p/*');
    expect(request.policy).not.toContain('s3:*');
  });

  it('prefers the STS endpoint over the S3 endpoint', async () => {
    const { engine, sts } = setup();
    const c = connection({ target: { ...conn.target, stsEndpoint: 'http://sts.example:9000' } });
    await engine.obtain(principal(), c, 1, scope);
    expect(sts.requests[0]!.endpoint).toBe('http://sts.example:9000');
  });

  it('uses the stored connection keypair as master credentials when master is keypair', async () => {
    const { engine, sts, vaultEntries, environmentCalls } = setup();
    const master = { accessKeyId: 'AKIAMASTER', secretAccessKey: 'master-secret' };
    vaultEntries.set(connectionSecretId('s3-sales'), master);
    const c = connection({
      accessKeyId: 'AKIAMASTER',
      assumeRole: { roleArn: '${adminProperty:role}', durationSeconds: 900, master: 'keypair' },
    });
    await engine.obtain(principal(), c, 1, scope);
    expect(sts.requests[0]!.masterCredentials).toEqual(master);
    expect(sts.requests[0]!.durationSeconds).toBe(900);
    expect(sts.requests[0]!.externalId).toBeUndefined();
    expect(environmentCalls()).toBe(0);
  });

  it('refuses a user without the admin property, before any STS call', async () => {
    const { engine, sts } = setup();
    const e = await rejection(engine.obtain(principal({ adminProperties: {} }), conn, 1, scope));
    expect(e.kind).toBe('PermissionDenied');
    expect(e.code).toBe('template.property_missing');
    expect(sts.calls).toBe(0);
  });

  it('refuses a role outside allowedRoles, before any STS call', async () => {
    const { engine, sts } = setup();
    const e = await rejection(
      engine.obtain(principal({ adminProperties: { role: 'arn:aws:iam::123456789012:role/admin' } }), conn, 1, scope),
    );
    expect(e.kind).toBe('PermissionDenied');
    expect(e.code).toBe('role.not_allowed');
    expect(e.message).not.toContain('123456789012');
    expect(sts.calls).toBe(0);
  });
});

describe('credential engine: static modes', () => {
  const perUser = connection({ mode: 'per-user-keypair', assumeRole: undefined });

  it('refuses per-user-keypair when the user has stored no keypair', async () => {
    const { engine, sts } = setup();
    const e = await rejection(engine.obtain(principal(), perUser, 1, scope));
    expect(e.kind).toBe('PermissionDenied');
    expect(e.code).toBe('credentials.user_keypair_missing');
    expect(e.message).toContain('bob');
    expect(sts.calls).toBe(0);
  });

  it("returns the user's own keypair in per-user-keypair mode, without STS", async () => {
    const { engine, sts, vaultEntries, clock } = setup();
    vaultEntries.set(userKeypairId('u-bob', 's3-sales'), { accessKeyId: 'AKIABOB', secretAccessKey: 'bob-secret' });
    vaultEntries.set(userKeypairId('u-alice', 's3-sales'), { accessKeyId: 'AKIAALICE', secretAccessKey: 'a-secret' });
    const session = await engine.obtain(principal(), perUser, 1, scope);
    expect(session.credentials).toEqual({ accessKeyId: 'AKIABOB', secretAccessKey: 'bob-secret' });
    expect(session.scope).toEqual(scope);
    expect(session.issuedAt.getTime()).toBe(clock.t);
    expect(session.roleArn).toBeUndefined();
    expect(sts.calls).toBe(0);
  });

  it("returns the connection's stored keypair in keypair mode", async () => {
    const { engine, sts, vaultEntries } = setup();
    vaultEntries.set(connectionSecretId('s3-sales'), { accessKeyId: 'AKIACONN', secretAccessKey: 'conn-secret' });
    const c = connection({ mode: 'keypair', assumeRole: undefined, accessKeyId: 'AKIACONN' });
    const session = await engine.obtain(principal(), c, 1, scope);
    expect(session.credentials).toEqual({ accessKeyId: 'AKIACONN', secretAccessKey: 'conn-secret' });
    expect(sts.calls).toBe(0);
  });

  it('reports a keypair-mode connection with no stored keypair', async () => {
    const { engine } = setup();
    const c = connection({ mode: 'keypair', assumeRole: undefined, accessKeyId: 'AKIACONN' });
    expect((await rejection(engine.obtain(principal(), c, 1, scope))).code).toBe('credentials.keypair_missing');
  });

  it("returns the environment's credentials in environment mode", async () => {
    const { engine, sts, environmentCalls } = setup();
    const c = connection({ mode: 'environment', assumeRole: undefined });
    const session = await engine.obtain(principal(), c, 1, scope);
    expect(session.credentials).toEqual(ENV_CREDENTIALS);
    expect(environmentCalls()).toBe(1);
    expect(sts.calls).toBe(0);
  });
});
