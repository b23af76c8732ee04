// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about literal ${...} placeholders.
import { describe, expect, it } from 'vitest';
import { isRolegateError, type RolegateError } from '../errors/errors.js';
import type { Connection, Scope } from './model.js';
import { boundedDuration, checkNarrowingSupported, isNarrowing, narrowScope } from './narrowing.js';
import { buildSessionPolicy } from './session-policy.js';

const base: Scope = { bucket: 'datalake', prefix: 'sales/', access: 'read-write' };

function caught(fn: () => unknown): RolegateError {
  try {
    fn();
  } catch (e) {
    if (isRolegateError(e)) return e;
    throw e;
  }
  throw new Error('expected a RolegateError');
}

function connection(overrides: Partial<Connection> = {}): Connection {
  return {
    name: 's3-sales',
    description: '',
    target: {
      region: 'us-east-1',
      forcePathStyle: true,
      useBucketRegion: false,
      bucket: 'datalake',
      pathInBucket: 'sales/',
    },
    mode: 'assume-role',
    assumeRole: { roleArn: 'arn:aws:iam:::role/sales', durationSeconds: 3600, master: 'environment' },
    usableBy: { kind: 'everyone' },
    detailsReadableBy: { kind: 'everyone' },
    allowedRoles: [],
    sessionNameTemplate: 'rg-${connection}-for-${user}',
    readOnly: false,
    ...overrides,
  };
}

describe('narrowScope', () => {
  it('keeps the connection scope when nothing is asked', () => {
    expect(narrowScope(base, {})).toEqual(base);
    expect(narrowScope(base, { prefix: '' })).toEqual(base);
    expect(narrowScope(base, { prefix: '/' })).toEqual(base);
  });

  it('appends a relative folder to the connection path, adding the trailing slash', () => {
    expect(narrowScope(base, { prefix: '2024' }).prefix).toBe('sales/2024/');
    expect(narrowScope(base, { prefix: '2024/q1/' }).prefix).toBe('sales/2024/q1/');
    expect(narrowScope({ ...base, prefix: '' }, { prefix: 'x' }).prefix).toBe('x/');
  });

  it('only ever drops access to read', () => {
    expect(narrowScope(base, { readOnly: true }).access).toBe('read');
    expect(narrowScope(base, { readOnly: false }).access).toBe('read-write');
    expect(narrowScope({ ...base, access: 'read' }, { readOnly: false }).access).toBe('read');
  });

  it.each([
    ['../marketing/', 'a ".." segment'],
    ['2024/../../marketing', 'a ".." segment'],
    ['/marketing/', 'an absolute prefix'],
    ['a//b', 'an empty segment'],
    ['*', 'a wildcard'],
    ['2024?', 'a wildcard'],
    ['${aws:username}/', 'a policy variable'],
    ['a\\b', 'a backslash'],
    ['a\u0000b', 'a control character'],
  ])('refuses %j (%s), so the scope can never leave the connection', (prefix) => {
    const e = caught(() => narrowScope(base, { prefix }));
    expect(e.code).toBe('scope.invalid_prefix');
    expect(e.kind).toBe('InvalidInput');
  });

  it('yields a session policy confined to the narrowed folder, read-only without write actions', () => {
    const policy = buildSessionPolicy(narrowScope(base, { prefix: '2024', readOnly: true }));
    expect(policy).toContain('arn:aws:s3:::datalake/sales/2024/*');
    expect(policy).toContain('"sales/2024/*"');
    expect(policy).not.toContain('s3:PutObject');
    expect(policy).not.toContain('datalake/sales/*');
  });
});

describe('boundedDuration', () => {
  it("defaults to the connection's duration", () => {
    expect(boundedDuration(connection(), undefined, 900)).toBe(3600);
  });

  it('accepts anything from the minimum up to the connection duration', () => {
    expect(boundedDuration(connection(), 900, 900)).toBe(900);
    expect(boundedDuration(connection(), 3600, 900)).toBe(3600);
    expect(boundedDuration(connection(), 5, 1)).toBe(5);
  });

  it.each([899, 3601, 0, -1, 1.5])('refuses %s seconds', (seconds) => {
    const e = caught(() => boundedDuration(connection(), seconds, 900));
    expect(e.code).toBe('credentials.duration_out_of_range');
    expect(e.details).toMatchObject({ min: 900, max: 3600 });
  });
});

describe('checkNarrowingSupported', () => {
  it('allows narrowing on assume-role connections and plain requests everywhere', () => {
    expect(() =>
      checkNarrowingSupported(connection(), { prefix: 'x', readOnly: true, durationSeconds: 900 }),
    ).not.toThrow();
    expect(() => checkNarrowingSupported(connection({ mode: 'keypair', assumeRole: undefined }), {})).not.toThrow();
  });

  it('refuses narrowing of static keys instead of silently handing out the full key', () => {
    for (const mode of ['keypair', 'environment', 'per-user-keypair'] as const) {
      const e = caught(() => checkNarrowingSupported(connection({ mode, assumeRole: undefined }), { readOnly: true }));
      expect(e.code).toBe('credentials.narrowing_unsupported');
    }
  });

  it('knows what counts as narrowing', () => {
    expect(isNarrowing({})).toBe(false);
    expect(isNarrowing({ readOnly: false })).toBe(false);
    expect(isNarrowing({ prefix: 'a' })).toBe(true);
    expect(isNarrowing({ durationSeconds: 900 })).toBe(true);
  });
});
