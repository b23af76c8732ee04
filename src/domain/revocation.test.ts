import { describe, expect, it } from 'vitest';
import { isRolegateError } from '../errors/errors.js';
import { buildRevocationPolicy, MAX_ROLE_POLICY_CHARS, sessionNameForGeneration } from './revocation.js';

describe('sessionNameForGeneration', () => {
  it('keeps generation 0 as the plain name and suffixes later generations', () => {
    expect(sessionNameForGeneration('rg-s3-sales-for-alice', 0)).toBe('rg-s3-sales-for-alice');
    expect(sessionNameForGeneration('rg-s3-sales-for-alice', 1)).toBe('rg-s3-sales-for-alice-r1');
    expect(sessionNameForGeneration('rg-s3-sales-for-alice', 12)).toBe('rg-s3-sales-for-alice-r12');
  });

  it('keeps long names valid and distinct per generation', () => {
    const long = `rg-${'x'.repeat(80)}`;
    const names = [0, 1, 2].map((g) => sessionNameForGeneration(long, g));
    for (const n of names) expect(n.length).toBeLessThanOrEqual(64);
    expect(new Set(names).size).toBe(3);
  });
});

describe('buildRevocationPolicy', () => {
  it('is null when nothing is revoked (the policy is then deleted)', () => {
    expect(buildRevocationPolicy([])).toBeNull();
  });

  it('denies S3 to exactly the listed sessions by aws:userid, deduplicated and sorted', () => {
    const policy = buildRevocationPolicy([
      { roleId: 'r-1', sessionName: 'b' },
      { roleId: 'r-1', sessionName: 'a' },
      { roleId: 'r-1', sessionName: 'b' },
    ]);
    expect(JSON.parse(policy ?? '')).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'RolegateRevokedSessions',
          Effect: 'Deny',
          Action: 's3:*',
          Resource: '*',
          Condition: { StringEquals: { 'aws:userid': ['r-1:a', 'r-1:b'] } },
        },
      ],
    });
  });

  it('refuses a list that no longer fits an inline role policy', () => {
    const many = Array.from({ length: 200 }, (_, i) => ({
      roleId: '6f1c1a9e-0000-4000-8000-000000000000',
      sessionName: `rg-some-connection-for-user-${i}-r1`,
    }));
    try {
      buildRevocationPolicy(many);
      throw new Error('expected a refusal');
    } catch (e) {
      expect(isRolegateError(e) && e.code).toBe('revocation.policy_too_large');
    }
    expect(MAX_ROLE_POLICY_CHARS).toBe(10_240);
  });
});
