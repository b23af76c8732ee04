import { describe, expect, it } from 'vitest';
import { federatedIdentityOfAssertion, roleArnOfAwsRoleValue } from './saml-attributes.js';

const names = { username: 'nameID', groups: 'groups', roles: 'https://aws.amazon.com/SAML/Attributes/Role' };
const role = 'arn:aws:iam::123456789012:role/sales';
const provider = 'arn:aws:iam::123456789012:saml-provider/okta';

describe('roleArnOfAwsRoleValue', () => {
  it('reads role-arn,provider-arn pairs in either order', () => {
    expect(roleArnOfAwsRoleValue(`${role},${provider}`)).toBe(role);
    expect(roleArnOfAwsRoleValue(`${provider}, ${role}`)).toBe(role);
    expect(roleArnOfAwsRoleValue('arn:aws:iam:::role/rgw')).toBe('arn:aws:iam:::role/rgw');
  });

  it('ignores anything else', () => {
    expect(roleArnOfAwsRoleValue(`${role},${role}`)).toBeUndefined();
    expect(roleArnOfAwsRoleValue(`${role},not-a-provider`)).toBeUndefined();
    expect(roleArnOfAwsRoleValue(`${role},${provider},x`)).toBeUndefined();
    expect(roleArnOfAwsRoleValue('admin')).toBeUndefined();
  });
});

describe('federatedIdentityOfAssertion', () => {
  it('maps the NameID, groups and the AWS role attribute', () => {
    const r = federatedIdentityOfAssertion(
      {
        nameID: 'Dana@Example.com',
        attributes: { groups: ['sales', '/a/b', 'sales'], [names.roles]: [`${provider},${role}`, 'junk'] },
      },
      names,
    );
    expect(r).toEqual({
      ok: true,
      identity: { subject: 'Dana@Example.com', username: 'dana@example.com', groups: ['sales'], roleArns: [role] },
    });
  });

  it('reads the username from an attribute when configured, single values as lists of one', () => {
    const r = federatedIdentityOfAssertion(
      { nameID: 'opaque-id', attributes: { uid: 'dana', groups: 'sales', [names.roles]: role } },
      { ...names, username: 'uid' },
    );
    expect(r).toMatchObject({ ok: true, identity: { subject: 'opaque-id', username: 'dana', roleArns: [role] } });
  });

  it('says what is missing', () => {
    expect(federatedIdentityOfAssertion({ nameID: undefined, attributes: {} }, names)).toEqual({
      ok: false,
      problem: 'no_subject',
    });
    expect(federatedIdentityOfAssertion({ nameID: 'x', attributes: {} }, { ...names, username: 'uid' })).toEqual({
      ok: false,
      problem: 'no_username',
    });
    expect(federatedIdentityOfAssertion({ nameID: 'not ok!', attributes: {} }, names)).toEqual({
      ok: false,
      problem: 'invalid_username',
    });
  });
});
