import { describe, expect, it } from 'vitest';
import { RolegateError } from '../errors/errors.js';
import { entitledRoles, isEntitled } from './entitlement.js';
import type { Connection } from './model.js';
import { connectionScope, planRoleSession } from './role-session-plan.js';
import { parseTemplate, renderTemplate } from './templates.js';

const SALES = 'arn:aws:iam::123456789012:role/sales';
const HR = 'arn:aws:iam:::role/hr';

describe('entitledRoles', () => {
  it('takes IdP roles first, then properties whose value is a role ARN, each role once with all sources', () => {
    const roles = entitledRoles({ zeta: SALES, alpha: HR, note: 'not an arn', bucket: 'arn:aws:s3:::b' }, [
      { roleArn: SALES, provider: 'okta' },
      { roleArn: 'garbage', provider: 'okta' },
    ]);
    expect(roles).toEqual([
      {
        roleArn: SALES,
        sources: [
          { kind: 'idp', provider: 'okta' },
          { kind: 'property', property: 'zeta' },
        ],
      },
      { roleArn: HR, sources: [{ kind: 'property', property: 'alpha' }] },
    ]);
    expect(isEntitled(roles, HR)).toBe(true);
    expect(isEntitled(roles, HR.toUpperCase())).toBe(false);
    expect(isEntitled(roles, 'arn:aws:iam:::role/*')).toBe(false);
  });
});

const connection: Connection = {
  name: 'lake',
  description: '',
  target: { region: 'us-east-1', forcePathStyle: true, useBucketRegion: false, bucket: 'b', pathInBucket: 'data/' },
  mode: 'assume-role',
  assumeRole: { roleArn: '${sessionRole}', durationSeconds: 3600, master: 'environment' },
  usableBy: { kind: 'everyone' },
  detailsReadableBy: { kind: 'everyone' },
  allowedRoles: ['arn:aws:iam:::role/*'],
  sessionNameTemplate: 'rg-${connection}-for-${user}',
  readOnly: false,
};
const alice = { userId: 'u1', username: 'alice', role: 'analyst' as const, groups: [], adminProperties: {} };

describe('${sessionRole}', () => {
  it('parses as a variable and renders the session role', () => {
    expect(parseTemplate('${sessionRole}')).toEqual([{ type: 'variable', name: 'sessionRole' }]);
    expect(
      renderTemplate('${sessionRole}', { user: 'a', connection: 'c', adminProperties: {}, sessionRole: HR }, 'c'),
    ).toBe(HR);
  });

  it('is refused with a stable code outside a session or in a session without a role', () => {
    for (const principal of [alice, { ...alice, session: { id: 'ses_1' } }]) {
      const error = (() => {
        try {
          planRoleSession(principal, connection, connectionScope(connection));
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(RolegateError);
      expect((error as RolegateError).code).toBe('template.session_role_missing');
    }
  });

  it('plans the session’s role, still checked against the connection’s allowed roles', () => {
    const plan = planRoleSession(
      { ...alice, session: { id: 's', roleArn: HR } },
      connection,
      connectionScope(connection),
    );
    expect(plan.assume?.roleArn).toBe(HR);
    expect(() =>
      planRoleSession({ ...alice, session: { id: 's', roleArn: SALES } }, connection, connectionScope(connection)),
    ).toThrow(RolegateError);
  });
});

describe('home directories', () => {
  it('scope each user to <path>home/<user>/, and refuse a scope without a user', () => {
    const home = { ...connection, homeDirectories: true };
    expect(connectionScope(home, alice)).toEqual({ bucket: 'b', prefix: 'data/home/alice/', access: 'read-write' });
    expect(connectionScope(connection, alice).prefix).toBe('data/');
    expect(() => connectionScope(home)).toThrow(RolegateError);
  });
});
