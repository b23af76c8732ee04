// biome-ignore-all lint/suspicious/noTemplateCurlyInString: connection templates are literal ${...} placeholders.
import { describe, expect, it } from 'vitest';
import type { IamGateway } from '../../cloud/aws/iam.js';
import type { AssumedRole, AssumeRoleRequest, StsGateway } from '../../cloud/aws/sts.js';
import type { Connection, Principal } from '../../domain/model.js';
import { DEFAULT_SESSION_NAME_TEMPLATE } from '../../domain/model.js';
import { narrowScope } from '../../domain/narrowing.js';
import { connectionScope } from '../../domain/role-session-plan.js';
import { createCredentialEngine, type IssuedRoleSession } from './credential-engine.js';

const T0 = Date.UTC(2030, 0, 1, 12);

class Sts implements StsGateway {
  readonly requests: AssumeRoleRequest[] = [];
  async assumeRole(request: AssumeRoleRequest): Promise<AssumedRole> {
    this.requests.push(request);
    const n = this.requests.length;
    return {
      credentials: {
        accessKeyId: `ASIA${n}`,
        secretAccessKey: `s${n}`,
        sessionToken: `t${n}`,
        expiration: new Date(T0 + request.durationSeconds * 1000),
      },
      assumedRoleArn: undefined,
    };
  }
}

const alice: Principal = {
  userId: 'u-alice',
  username: 'alice',
  role: 'analyst',
  groups: [],
  adminProperties: { role: 'arn:aws:iam:::role/sales' },
};

const conn: Connection = {
  name: 's3-sales',
  description: '',
  target: { region: 'us-east-1', forcePathStyle: true, useBucketRegion: false, bucket: 'b', pathInBucket: 'p/' },
  mode: 'assume-role',
  assumeRole: { roleArn: '${adminProperty:role}', durationSeconds: 3600, master: 'environment' },
  usableBy: { kind: 'everyone' },
  detailsReadableBy: { kind: 'everyone' },
  allowedRoles: [],
  sessionNameTemplate: DEFAULT_SESSION_NAME_TEMPLATE,
  readOnly: false,
};

function setup() {
  const sts = new Sts();
  const generations = new Map<string, number>();
  const issued: IssuedRoleSession[] = [];
  const iamCalls: string[] = [];
  const iam: IamGateway = {
    getRoleId: async (r) => {
      iamCalls.push(`getRoleId ${r.roleName} ${r.masterCredentials.accessKeyId}`);
      return 'role-id-1';
    },
    putRolePolicy: async (r) => {
      iamCalls.push(`put ${r.roleName} ${r.policyName}`);
    },
    deleteRolePolicy: async (r) => {
      iamCalls.push(`delete ${r.roleName} ${r.policyName}`);
    },
  };
  const engine = createCredentialEngine({
    sts,
    vault: { get: async () => undefined },
    environmentCredentials: async () => ({ accessKeyId: 'AKIAMASTER', secretAccessKey: 'm' }),
    clock: { now: () => T0 },
    settings: { refreshAheadSeconds: 300, cacheMaxEntries: 100 },
    sessionGenerations: { current: async (u, c) => generations.get(`${u}/${c}`) ?? 0 },
    onIssued: async (s) => {
      issued.push(s);
    },
    iam,
  });
  return { sts, engine, generations, issued, iamCalls };
}

const full = connectionScope(conn);

describe('credential engine: narrowed sessions', () => {
  it('caches per narrowed scope and sends the narrowed session policy', async () => {
    const { sts, engine } = setup();
    const narrowed = narrowScope(full, { prefix: '2024', readOnly: true });
    const a = await engine.obtain(alice, conn, 1, full);
    const b = await engine.obtain(alice, conn, 1, narrowed);
    expect(a.credentials.accessKeyId).not.toBe(b.credentials.accessKeyId);
    expect(sts.requests).toHaveLength(2);
    const policy = sts.requests[1]?.policy ?? '';
    expect(policy).toContain('arn:aws:s3:::b/p/2024/*');
    expect(policy).not.toContain('arn:aws:s3:::b/p/*');
    expect(policy).not.toContain('s3:PutObject');
    expect(b.scope).toEqual(narrowed);
    // Same narrowed scope again: served from the cache.
    expect((await engine.obtain(alice, conn, 1, narrowed)).credentials.accessKeyId).toBe(b.credentials.accessKeyId);
    expect(sts.requests).toHaveLength(2);
  });

  it('passes a shorter duration to STS and caches it apart', async () => {
    const { sts, engine } = setup();
    await engine.obtain(alice, conn, 1, full);
    const short = await engine.obtain(alice, conn, 1, full, { durationSeconds: 900 });
    expect(sts.requests.map((r) => r.durationSeconds)).toEqual([3600, 900]);
    expect(short.credentials.expiration?.getTime()).toBe(T0 + 900_000);
  });

  it('puts the generation into the session name, and records every issued session', async () => {
    const { sts, engine, generations, issued } = setup();
    await engine.obtain(alice, conn, 1, full);
    generations.set('u-alice/s3-sales', 2);
    engine.forgetUserConnection('u-alice', 's3-sales');
    const after = await engine.obtain(alice, conn, 1, full);
    expect(sts.requests.map((r) => r.sessionName)).toEqual(['rg-s3-sales-for-alice', 'rg-s3-sales-for-alice-r2']);
    expect(after.sessionName).toBe('rg-s3-sales-for-alice-r2');
    expect(issued.map((s) => [s.userId, s.connection, s.sessionName])).toEqual([
      ['u-alice', 's3-sales', 'rg-s3-sales-for-alice'],
      ['u-alice', 's3-sales', 'rg-s3-sales-for-alice-r2'],
    ]);
  });

  it('forgets only the one user and connection', async () => {
    const { sts, engine } = setup();
    const bob = { ...alice, userId: 'u-bob', username: 'bob' };
    await engine.obtain(alice, conn, 1, full);
    await engine.obtain(bob, conn, 1, full);
    engine.forgetUserConnection('u-alice', 's3-sales');
    await engine.obtain(alice, conn, 1, full);
    await engine.obtain(bob, conn, 1, full);
    expect(sts.requests).toHaveLength(3);
  });

  it('manages role policies with the master credentials, by role name', async () => {
    const { engine, iamCalls } = setup();
    expect(await engine.roleIdOf(conn, 'arn:aws:iam:::role/team/sales')).toBe('role-id-1');
    await engine.putRolePolicy(conn, 'arn:aws:iam:::role/sales', 'p', '{}');
    await engine.putRolePolicy(conn, 'arn:aws:iam:::role/sales', 'p', null);
    expect(iamCalls).toEqual(['getRoleId sales AKIAMASTER', 'put sales p', 'delete sales p']);
  });
});
