// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about literal ${...} placeholders.
import { describe, expect, it } from 'vitest';
import { admits, decideDetails, decideRole, decideUse, decideWrite } from './access.js';
import { type Connection, DEFAULT_SESSION_NAME_TEMPLATE, type Principal } from './model.js';

function principal(overrides: Partial<Principal> = {}): Principal {
  return { userId: 'u-bob', username: 'bob', role: 'analyst', groups: ['sales'], adminProperties: {}, ...overrides };
}

function connection(overrides: Partial<Connection> = {}): Connection {
  return {
    name: 's3-marketing',
    description: '',
    target: {
      region: 'eu-west-1',
      forcePathStyle: false,
      useBucketRegion: false,
      bucket: 'data',
      pathInBucket: 'marketing/',
    },
    mode: 'assume-role',
    assumeRole: { roleArn: '${adminProperty:role}', durationSeconds: 3600, master: 'environment' },
    usableBy: { kind: 'groups', groups: ['sales', 'marketing'] },
    detailsReadableBy: { kind: 'nobody' },
    allowedRoles: [],
    sessionNameTemplate: DEFAULT_SESSION_NAME_TEMPLATE,
    readOnly: false,
    ...overrides,
  };
}

const admin = principal({ username: 'root', role: 'admin', groups: ['admins'] });

describe('admits', () => {
  it('admits everyone and nobody as named', () => {
    expect(admits({ kind: 'everyone' }, principal({ groups: [] }))).toBe(true);
    expect(admits({ kind: 'nobody' }, principal())).toBe(false);
    expect(admits({ kind: 'nobody' }, admin)).toBe(false);
  });

  it('admits on any shared group', () => {
    expect(admits({ kind: 'groups', groups: ['a', 'sales'] }, principal())).toBe(true);
    expect(admits({ kind: 'groups', groups: ['a'] }, principal({ groups: ['b', 'a'] }))).toBe(true);
  });

  it('refuses disjoint or empty groups, matching names exactly', () => {
    expect(admits({ kind: 'groups', groups: ['marketing'] }, principal())).toBe(false);
    expect(admits({ kind: 'groups', groups: [] }, principal())).toBe(false);
    expect(admits({ kind: 'groups', groups: ['sales'] }, principal({ groups: [] }))).toBe(false);
    expect(admits({ kind: 'groups', groups: ['Sales'] }, principal())).toBe(false);
    expect(admits({ kind: 'groups', groups: ['sales*'] }, principal({ groups: ['sales-eu'] }))).toBe(false);
    expect(admits({ kind: 'groups', groups: ['sales'] }, principal({ groups: ['sales '] }))).toBe(false);
  });
});

describe('decideUse', () => {
  it('allows a member', () => {
    expect(decideUse(principal(), connection())).toEqual({ allowed: true });
  });

  it('denies a non-member, naming the connection and user', () => {
    expect(decideUse(principal({ groups: ['hr'] }), connection())).toEqual({
      allowed: false,
      code: 'connection.not_usable',
      reason: 'Connection "s3-marketing" is not usable by user "bob".',
    });
  });

  it('denies an admin who is not admitted', () => {
    const d = decideUse(admin, connection());
    expect(d.allowed).toBe(false);
    expect(d.allowed === false && d.code).toBe('connection.not_usable');
  });
});

describe('decideDetails', () => {
  it('checks use first', () => {
    const d = decideDetails(principal({ groups: [] }), connection({ detailsReadableBy: { kind: 'everyone' } }));
    expect(d.allowed === false && d.code).toBe('connection.not_usable');
  });

  it('denies details when not readable, pointing at rolegate', () => {
    const d = decideDetails(principal(), connection());
    expect(d.allowed).toBe(false);
    if (d.allowed) return;
    expect(d.code).toBe('credentials.details_not_readable');
    expect(d.reason).toContain('"s3-marketing"');
    expect(d.reason).toContain('"bob"');
    expect(d.reason).toMatch(/data must go through rolegate/);
  });

  it('allows details when readable by a group of the user', () => {
    const c = connection({ detailsReadableBy: { kind: 'groups', groups: ['sales'] } });
    expect(decideDetails(principal(), c)).toEqual({ allowed: true });
    expect(decideDetails(principal({ groups: ['marketing'] }), c).allowed).toBe(false);
  });

  it('gives admins no bypass', () => {
    const c = connection({ usableBy: { kind: 'everyone' } });
    expect(decideDetails(admin, c).allowed).toBe(false);
  });

  it('never mentions the access key or admin properties', () => {
    const p = principal({ adminProperties: { role: 'arn:aws:iam::123456789012:role/hidden' } });
    const d = decideDetails(p, connection({ accessKeyId: 'AKIAEXAMPLEKEY' }));
    expect(JSON.stringify(d)).not.toMatch(/AKIAEXAMPLEKEY|hidden/);
  });
});

describe('decideRole', () => {
  const arn = 'arn:aws:iam::123456789012:role/sales-reader';

  it('allows any valid role when allowedRoles is empty', () => {
    expect(decideRole(arn, connection())).toEqual({ allowed: true });
    expect(decideRole('arn:aws:iam:::role/x', connection())).toEqual({ allowed: true });
  });

  it.each(['', 'not-an-arn', 'arn:aws:iam::123456789012:user/x', '${adminProperty:role}', `${arn} `])(
    'refuses the invalid ARN %j without quoting it',
    (bad) => {
      const d = decideRole(bad, connection({ allowedRoles: ['*'] }));
      expect(d.allowed).toBe(false);
      if (d.allowed) return;
      expect(d.code).toBe('role.invalid');
      expect(d.reason).toContain('"s3-marketing"');
      if (bad.length > 3) expect(d.reason).not.toContain(bad);
    },
  );

  it('allows a role matching one of the patterns', () => {
    const c = connection({ allowedRoles: ['arn:aws:iam::999999999999:role/*', 'arn:aws:iam::*:role/sales-*'] });
    expect(decideRole(arn, c)).toEqual({ allowed: true });
  });

  it('refuses a role matching no pattern, without quoting it', () => {
    const c = connection({ allowedRoles: ['arn:aws:iam::123456789012:role/sales-writer', 'arn:aws:iam::*:role/hr-*'] });
    const d = decideRole(arn, c);
    expect(d.allowed).toBe(false);
    if (d.allowed) return;
    expect(d.code).toBe('role.not_allowed');
    expect(d.reason).toContain('"s3-marketing"');
    expect(d.reason).not.toContain('sales-reader');
  });

  it('matches patterns as whole strings', () => {
    const c = connection({ allowedRoles: ['arn:aws:iam::123456789012:role/sales'] });
    expect(decideRole('arn:aws:iam::123456789012:role/sales-admin', c).allowed).toBe(false);
    expect(decideRole('arn:aws:iam::123456789012:role/sales', c).allowed).toBe(true);
  });

  it('treats regex characters in patterns literally', () => {
    const c = connection({ allowedRoles: ['arn:aws:iam::123456789012:role/a.b'] });
    expect(decideRole('arn:aws:iam::123456789012:role/axb', c).allowed).toBe(false);
  });
});

describe('decideWrite', () => {
  it('allows writes on a read-write connection', () => {
    expect(decideWrite(connection())).toEqual({ allowed: true });
  });

  it('refuses writes on a read-only connection', () => {
    expect(decideWrite(connection({ readOnly: true }))).toEqual({
      allowed: false,
      code: 'connection.read_only',
      reason: 'Connection "s3-marketing" is read-only.',
    });
  });
});
