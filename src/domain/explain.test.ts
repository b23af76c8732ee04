import { describe, expect, it } from 'vitest';
import { type Explanation, explainAccess } from './explain.js';
import { type Connection, DEFAULT_SESSION_NAME_TEMPLATE, type Principal } from './model.js';

const SALES_ROLE = 'arn:aws:iam::123456789012:role/sales-reader';
/** An admin property value that must never show up in an explanation. */
const UNRELATED_VALUE = 'cost-centre-4711-confidential';

function principal(overrides: Partial<Principal> = {}): Principal {
  return {
    userId: 'u-bob',
    username: 'bob',
    role: 'analyst',
    groups: ['sales'],
    adminProperties: { salesRole: SALES_ROLE, costCentre: UNRELATED_VALUE },
    ...overrides,
  };
}

function connection(overrides: Partial<Connection> = {}): Connection {
  return {
    name: 's3-sales',
    description: '',
    target: {
      region: 'us-east-1',
      forcePathStyle: false,
      useBucketRegion: false,
      bucket: 'acme-sales',
      pathInBucket: 'reports/',
    },
    mode: 'assume-role',
    assumeRole: {
      roleArn: '${adminProperty:salesRole}',
      durationSeconds: 3600,
      master: 'environment',
    },
    usableBy: { kind: 'groups', groups: ['sales'] },
    detailsReadableBy: { kind: 'everyone' },
    allowedRoles: ['arn:aws:iam::123456789012:role/sales-*'],
    sessionNameTemplate: DEFAULT_SESSION_NAME_TEMPLATE,
    readOnly: false,
    ...overrides,
  };
}

const outcomes = (e: Explanation) => e.steps.map((s) => [s.rule, s.outcome]);

describe('explainAccess', () => {
  it('explains an allowed assume-role request on the fast path', () => {
    const e = explainAccess(principal(), connection(), { key: '2030/q1.csv', write: true });

    expect(e.allowed).toBe(true);
    expect(e.denial).toBeUndefined();
    expect(outcomes(e)).toEqual([
      ['usable by', 'pass'],
      ['writable', 'pass'],
      ['key in scope', 'pass'],
      ['role', 'pass'],
      ['details readable by', 'pass'],
      ['signing allowed by', 'fail'],
    ]);
    expect(e.steps[2]?.detail).toBe('s3://acme-sales/reports/2030/q1.csv');
    expect(e).toMatchObject({
      user: 'bob',
      connection: 's3-sales',
      key: '2030/q1.csv',
      roleArn: SALES_ROLE,
      sessionName: 'rg-s3-sales-for-bob',
      propertiesUsed: ['salesRole'],
      path: 'fast',
    });
    expect(JSON.stringify(e)).not.toContain(UNRELATED_VALUE);
  });

  it('gives the scope-down session policy as parsed JSON for the bucket and path', () => {
    const e = explainAccess(principal(), connection());
    expect(typeof e.sessionPolicy).toBe('object');
    expect(e.sessionPolicy).toMatchObject({ Version: '2012-10-17', Statement: expect.any(Array) });
    const policy = JSON.stringify(e.sessionPolicy);
    expect(policy).toContain('arn:aws:s3:::acme-sales/reports/*');
    expect(policy).toContain('"reports/*"');
    expect(policy).toContain('s3:PutObject');
    expect(policy).not.toContain('s3:*');
  });

  it('gives a read-only connection a read-only session policy', () => {
    const e = explainAccess(principal(), connection({ readOnly: true }), { key: 'a.csv' });
    expect(e.allowed).toBe(true);
    const policy = JSON.stringify(e.sessionPolicy);
    expect(policy).toContain('s3:GetObject');
    expect(policy).not.toContain('s3:PutObject');
    expect(policy).not.toContain('s3:DeleteObject');
  });

  it('says whether rolegate signs requests for the user (signingAllowedBy, nobody by default)', () => {
    const signing = (c: Connection) => explainAccess(principal(), c).steps.find((s) => s.rule === 'signing allowed by');
    expect(signing(connection())).toMatchObject({ outcome: 'fail' });
    expect(signing(connection())?.detail).toContain('signingAllowedBy');
    expect(signing(connection({ signingAllowedBy: { kind: 'everyone' } }))).toMatchObject({ outcome: 'pass' });
  });

  it('takes the slow path when credential details are not readable', () => {
    const e = explainAccess(principal(), connection({ detailsReadableBy: { kind: 'nobody' } }));
    expect(e.allowed).toBe(true);
    expect(e.path).toBe('slow');
    expect(e.roleArn).toBe(SALES_ROLE);
    const details = e.steps.find((s) => s.rule === 'details readable by');
    expect(details).toMatchObject({ outcome: 'fail' });
    expect(details?.detail).toMatch(/through rolegate/);
  });

  it('takes the fast path when a group in detailsReadableBy admits the user', () => {
    const conn = connection({ detailsReadableBy: { kind: 'groups', groups: ['admins', 'sales'] } });
    expect(explainAccess(principal(), conn).path).toBe('fast');
    const others = connection({ usableBy: { kind: 'everyone' }, detailsReadableBy: { kind: 'groups', groups: ['x'] } });
    expect(explainAccess(principal(), others).path).toBe('slow');
  });

  it('denies a user the connection is not usable by, before anything else', () => {
    const e = explainAccess(principal({ groups: ['hr'] }), connection({ readOnly: true }), {
      key: '../escape',
      write: true,
    });
    expect(e.allowed).toBe(false);
    expect(e.denial?.code).toBe('connection.not_usable');
    expect(e.path).toBe('none');
    expect(outcomes(e)).toEqual([['usable by', 'fail']]);
    expect(e.roleArn).toBeUndefined();
    expect(e.sessionPolicy).toBeUndefined();
  });

  it('names a missing admin property without showing any property value', () => {
    const conn = connection({ sessionNameTemplate: 'rg-${adminProperty:team}-${user}' });
    const e = explainAccess(principal(), conn, { key: 'a.csv' });

    expect(e.allowed).toBe(false);
    expect(e.denial?.code).toBe('template.property_missing');
    expect(e.denial?.reason).toContain('"team"');
    expect(e.propertiesUsed).toEqual(['salesRole', 'team']);
    expect(outcomes(e)).toEqual([
      ['usable by', 'pass'],
      ['key in scope', 'pass'],
      ['role', 'fail'],
    ]);
    const json = JSON.stringify(e);
    expect(json).not.toContain(SALES_ROLE);
    expect(json).not.toContain('sales-reader');
    expect(json).not.toContain(UNRELATED_VALUE);
  });

  it('reports a missing role property by name', () => {
    const e = explainAccess(principal({ adminProperties: { costCentre: UNRELATED_VALUE } }), connection());
    expect(e.denial?.code).toBe('template.property_missing');
    expect(e.denial?.reason).toContain('"salesRole"');
    expect(e.propertiesUsed).toEqual(['salesRole']);
    expect(JSON.stringify(e)).not.toContain(UNRELATED_VALUE);
  });

  it('treats an empty admin property as missing', () => {
    const e = explainAccess(principal({ adminProperties: { salesRole: '' } }), connection());
    expect(e.denial?.code).toBe('template.property_missing');
  });

  it('denies a resolved role outside the allowed roles without naming it', () => {
    const other = 'arn:aws:iam::123456789012:role/hr-admin';
    const e = explainAccess(principal({ adminProperties: { salesRole: other } }), connection());
    expect(e.allowed).toBe(false);
    expect(e.denial?.code).toBe('role.not_allowed');
    expect(e.path).toBe('none');
    expect(outcomes(e)).toEqual([
      ['usable by', 'pass'],
      ['role', 'fail'],
    ]);
    expect(JSON.stringify(e)).not.toContain(other);
  });

  it('denies a resolved value that is not a role ARN', () => {
    const e = explainAccess(principal({ adminProperties: { salesRole: 'not-an-arn' } }), connection());
    expect(e.denial?.code).toBe('role.invalid');
  });

  it('denies a write on a read-only connection', () => {
    const e = explainAccess(principal(), connection({ readOnly: true }), { key: 'a.csv', write: true });
    expect(e.allowed).toBe(false);
    expect(e.denial?.code).toBe('connection.read_only');
    expect(outcomes(e)).toEqual([
      ['usable by', 'pass'],
      ['writable', 'fail'],
    ]);
    // The same request without write is allowed.
    expect(explainAccess(principal(), connection({ readOnly: true }), { key: 'a.csv' }).allowed).toBe(true);
  });

  it.each([
    ['a .. segment', '../other-team/secret.csv'],
    ['an absolute key', '/etc/passwd'],
    ['an encoded slash', '..%2fother'],
    ['an empty segment', 'a//b'],
    ['an empty key', ''],
  ])('denies a key with %s as key.invalid', (_, key) => {
    const e = explainAccess(principal(), connection(), { key });
    expect(e.allowed).toBe(false);
    expect(e.denial?.code).toBe('key.invalid');
    expect(outcomes(e)).toEqual([
      ['usable by', 'pass'],
      ['key in scope', 'fail'],
    ]);
    expect(e.sessionPolicy).toBeUndefined();
  });

  it('does not check a role for a keypair connection', () => {
    const conn = connection({ mode: 'keypair', assumeRole: undefined, accessKeyId: 'AKIAEXAMPLE' });
    const e = explainAccess(principal(), conn, { key: 'a.csv' });
    expect(e.allowed).toBe(true);
    expect(e.steps.find((s) => s.rule === 'role')).toMatchObject({ outcome: 'not-checked' });
    expect(e.steps.find((s) => s.rule === 'role')?.detail).toContain('keypair');
    expect(e.roleArn).toBeUndefined();
    expect(e.sessionName).toBeUndefined();
    expect(e.sessionPolicy).toBeUndefined();
    expect(e.propertiesUsed).toEqual([]);
    expect(e.path).toBe('fast');
  });
});
