import { describe, expect, it } from 'vitest';
import { oidcConfigSchema, samlConfigSchema } from './federation.js';

const base = { clientId: 'rolegate', redirectUri: 'https://rolegate.example.com/auth/oidc/callback' };

describe('oidcConfigSchema', () => {
  it('defaults claims, scopes and the brokered mode', () => {
    const c = oidcConfigSchema.parse({ ...base, issuer: 'https://login.example.com/realms/main' });
    expect(c).toMatchObject({
      mode: 'brokered',
      providerName: 'oidc',
      scopes: ['openid', 'profile', 'email'],
      claims: { username: 'preferred_username', groups: 'groups', roles: 'roles' },
    });
  });

  it('accepts plain http on loopback only', () => {
    expect(oidcConfigSchema.safeParse({ ...base, issuer: 'http://127.0.0.1:8080' }).success).toBe(true);
    expect(oidcConfigSchema.safeParse({ ...base, issuer: 'http://login.example.com' }).success).toBe(false);
  });

  it('has no place for an inline client secret', () => {
    const inline = { ...base, issuer: 'https://login.example.com', clientSecret: 'x' };
    expect(oidcConfigSchema.safeParse(inline).success).toBe(false);
  });
});

describe('samlConfigSchema', () => {
  const saml = {
    entryPoint: 'https://idp.example.com/sso/saml',
    idpCertFile: '/etc/rolegate/idp.pem',
    spEntityId: 'https://rolegate.example.com/saml',
    acsUrl: 'https://rolegate.example.com/auth/saml/acs',
  };

  it('defaults the attribute names (AWS role attribute), the skew and the brokered mode', () => {
    expect(samlConfigSchema.parse(saml)).toMatchObject({
      mode: 'brokered',
      providerName: 'saml',
      clockSkewSeconds: 60,
      attributes: { username: 'nameID', groups: 'groups', roles: 'https://aws.amazon.com/SAML/Attributes/Role' },
    });
  });

  it('has a direct mode (AssumeRoleWithSAML) and plain http only on loopback', () => {
    expect(samlConfigSchema.parse({ ...saml, mode: 'direct' }).mode).toBe('direct');
    expect(samlConfigSchema.safeParse({ ...saml, mode: 'web-identity' }).success).toBe(false);
    expect(samlConfigSchema.safeParse({ ...saml, acsUrl: 'http://rolegate.example.com/acs' }).success).toBe(false);
    expect(samlConfigSchema.safeParse({ ...saml, entryPoint: 'http://127.0.0.1:8443/sso' }).success).toBe(true);
  });
});
