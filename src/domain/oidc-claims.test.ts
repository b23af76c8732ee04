import { describe, expect, it } from 'vitest';
import { federatedIdentityOf } from './oidc-claims.js';

const names = { username: 'preferred_username', groups: 'groups', roles: 'https://aws.amazon.com/roles' };

describe('federatedIdentityOf', () => {
  it('maps username, groups and role ARNs from the configured claims', () => {
    const result = federatedIdentityOf(
      {
        sub: 'f3a1',
        preferred_username: ' Alice@Example.com ',
        groups: ['sales', 'sales', '/keycloak/path', 'analysts'],
        'https://aws.amazon.com/roles': ['arn:aws:iam::123456789012:role/sales', 'not-a-role'],
      },
      names,
    );
    expect(result).toEqual({
      ok: true,
      identity: {
        subject: 'f3a1',
        username: 'alice@example.com',
        groups: ['analysts', 'sales'],
        roleArns: ['arn:aws:iam::123456789012:role/sales'],
      },
    });
  });

  it('accepts a single string where a list is expected and absent lists', () => {
    const result = federatedIdentityOf(
      { sub: 's', preferred_username: 'bob', groups: 'eng', 'https://aws.amazon.com/roles': 'arn:aws:iam:::role/x' },
      names,
    );
    expect(result).toMatchObject({ ok: true, identity: { groups: ['eng'], roleArns: ['arn:aws:iam:::role/x'] } });
    expect(federatedIdentityOf({ sub: 's', preferred_username: 'bob' }, names)).toMatchObject({
      ok: true,
      identity: { groups: [], roleArns: [] },
    });
  });

  it('names the claim that cannot sign anyone in', () => {
    expect(federatedIdentityOf({ preferred_username: 'bob' }, names)).toEqual({ ok: false, problem: 'no_subject' });
    expect(federatedIdentityOf({ sub: 's' }, names)).toEqual({ ok: false, problem: 'no_username' });
    expect(federatedIdentityOf({ sub: 's', preferred_username: 'bob smith' }, names)).toEqual({
      ok: false,
      problem: 'invalid_username',
    });
  });
});
