import { describe, expect, it } from 'vitest';
import { oidcConfigSchema } from './federation.js';

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
