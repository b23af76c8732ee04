import { describe, expect, it } from 'vitest';
import { isRolegateError, type RolegateError } from '../errors/errors.js';
import { isRoleArn, parseRoleArn, roleArnProblem } from './role-arn.js';

function caught(fn: () => unknown): RolegateError {
  try {
    fn();
  } catch (e) {
    if (isRolegateError(e)) return e;
    throw e;
  }
  throw new Error('expected a RolegateError');
}

describe('parseRoleArn', () => {
  it('parses a plain AWS role ARN', () => {
    expect(parseRoleArn('arn:aws:iam::123456789012:role/sales')).toEqual({
      partition: 'aws',
      account: '123456789012',
      path: '/',
      name: 'sales',
    });
  });

  it('parses a role with a path', () => {
    expect(parseRoleArn('arn:aws:iam::123456789012:role/path/to/Sales+=,.@_-1')).toEqual({
      partition: 'aws',
      account: '123456789012',
      path: '/path/to/',
      name: 'Sales+=,.@_-1',
    });
  });

  it('parses the Ceph RGW form with an empty account', () => {
    expect(parseRoleArn('arn:aws:iam:::role/rg-reader')).toEqual({
      partition: 'aws',
      account: '',
      path: '/',
      name: 'rg-reader',
    });
  });

  it.each(['aws-cn', 'aws-us-gov'])('accepts partition %s', (partition) => {
    expect(parseRoleArn(`arn:${partition}:iam::123456789012:role/x`).partition).toBe(partition);
  });

  it('accepts a 64-char role name and refuses 65', () => {
    expect(parseRoleArn(`arn:aws:iam::123456789012:role/${'n'.repeat(64)}`).name).toHaveLength(64);
    expect(isRoleArn(`arn:aws:iam::123456789012:role/${'n'.repeat(65)}`)).toBe(false);
  });

  it.each([
    ['empty', '', 'must look like'],
    ['not an ARN', 'sales', 'must look like'],
    ['wrong prefix', 'urn:aws:iam::123456789012:role/x', 'must look like'],
    ['unknown partition', 'arn:aws-iso:iam::123456789012:role/x', 'partition'],
    ['wrong service', 'arn:aws:sts::123456789012:role/x', 'service'],
    ['with region', 'arn:aws:iam:us-east-1:123456789012:role/x', 'region'],
    ['short account', 'arn:aws:iam::12345:role/x', 'account'],
    ['alpha account', 'arn:aws:iam::12345678901a:role/x', 'account'],
    ['user not role', 'arn:aws:iam::123456789012:user/x', 'role/'],
    ['assumed role', 'arn:aws:sts::123456789012:assumed-role/x/s', 'service'],
    ['no name', 'arn:aws:iam::123456789012:role/', 'role name'],
    ['trailing slash', 'arn:aws:iam::123456789012:role/path/', 'role name'],
    ['wildcard name', 'arn:aws:iam::123456789012:role/*', 'role name'],
    ['space in name', 'arn:aws:iam::123456789012:role/a b', 'role name'],
    ['colon in name', 'arn:aws:iam::123456789012:role/a:b', 'role name'],
    ['unicode name', 'arn:aws:iam::123456789012:role/rôle', 'role name'],
    ['newline after', 'arn:aws:iam::123456789012:role/x\n', 'role name'],
    ['empty path segment', 'arn:aws:iam::123456789012:role/a//x', 'path segment'],
    ['leading empty segment', 'arn:aws:iam::123456789012:role//x', 'path segment'],
    ['wildcard in path', 'arn:aws:iam::123456789012:role/*/x', 'path segment'],
    ['too long', `arn:aws:iam::123456789012:role/${'p/'.repeat(1100)}x`, 'longer than 2048'],
  ])('refuses %s, saying what is wrong', (_label, arn, problem) => {
    const e = caught(() => parseRoleArn(arn));
    expect(e.kind).toBe('InvalidInput');
    expect(e.code).toBe('role_arn.invalid');
    expect(e.message).toContain(problem);
    expect(isRoleArn(arn)).toBe(false);
    expect(roleArnProblem(arn)).toContain(problem);
  });

  it('quotes the offending ARN truncated to 200 chars', () => {
    const arn = `arn:aws:iam::123456789012:role/${'a'.repeat(300)}`;
    const e = caught(() => parseRoleArn(arn));
    expect(e.message).toContain(arn.slice(0, 200));
    expect(e.message).not.toContain(arn.slice(0, 201));
    expect(e.message.length).toBeLessThan(400);
  });

  it('accepts a path up to the total limit', () => {
    const head = 'arn:aws:iam::123456789012:role/';
    const arn = `${head}${'p/'.repeat((2048 - head.length - 1) / 2)}x`.slice(0, 2048);
    expect(arn.length).toBeLessThanOrEqual(2048);
    expect(isRoleArn(arn)).toBe(true);
  });
});

describe('isRoleArn / roleArnProblem', () => {
  it('agree with parseRoleArn on valid ARNs', () => {
    expect(isRoleArn('arn:aws:iam:::role/x')).toBe(true);
    expect(roleArnProblem('arn:aws:iam:::role/x')).toBeNull();
  });

  it('does not quote the ARN in the problem text', () => {
    expect(roleArnProblem('arn:aws:iam::SECRETISH:role/x')).not.toContain('SECRETISH');
  });
});
