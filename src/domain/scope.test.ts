import { describe, expect, it } from 'vitest';
import { isRolegateError, type RolegateError } from '../errors/errors.js';
import type { Scope } from './model.js';
import { isKeyInScope, normalizePathInBucket, relativeKey, resolveListPrefix, resolveObjectKey } from './scope.js';

function caught(fn: () => unknown): RolegateError {
  try {
    fn();
  } catch (e) {
    if (isRolegateError(e)) return e;
    throw e;
  }
  throw new Error('expected a RolegateError');
}

const sales: Scope = { bucket: 'b', prefix: 'sales/', access: 'read' };
const whole: Scope = { bucket: 'b', prefix: '', access: 'read-write' };

describe('normalizePathInBucket', () => {
  it.each([
    ['', ''],
    ['/', ''],
    ['sales', 'sales/'],
    ['sales/', 'sales/'],
    ['/sales', 'sales/'],
    ['/sales/eu/', 'sales/eu/'],
    ['a b/c-d_e.f', 'a b/c-d_e.f/'],
    ['..a/b..', '..a/b../'],
  ])('%j → %j', (input, expected) => {
    expect(normalizePathInBucket(input)).toBe(expected);
  });

  it('applies NFC', () => {
    expect(normalizePathInBucket('cafe\u0301')).toBe('caf\u00e9/');
  });

  it.each([
    ['double leading slash', '//sales'],
    ['only slashes', '//'],
    ['empty segment', 'a//b'],
    ['double trailing slash', 'a//'],
    ['dot segment', 'a/./b'],
    ['dotdot segment', 'a/../b'],
    ['leading dotdot', '../a'],
    ['only dot', '.'],
    ['backslash', 'a\\b'],
    ['newline', 'a\nb'],
    ['nul', 'a\u0000'],
    ['del', 'a\u007f'],
    ['lone surrogate', 'a\ud800'],
    ['too long', 'x'.repeat(1024)],
  ])('refuses %s', (_label, input) => {
    const e = caught(() => normalizePathInBucket(input));
    expect(e.kind).toBe('InvalidInput');
    expect(e.code).toBe('path.invalid');
  });
});

describe('resolveObjectKey', () => {
  it('prefixes the scope', () => {
    expect(resolveObjectKey(sales, 'q1/report.csv')).toBe('sales/q1/report.csv');
    expect(resolveObjectKey(whole, 'x')).toBe('x');
  });

  it('allows folder markers and odd but harmless names', () => {
    expect(resolveObjectKey(sales, 'q1/')).toBe('sales/q1/');
    expect(resolveObjectKey(sales, '...')).toBe('sales/...');
    expect(resolveObjectKey(sales, '.hidden/a..b')).toBe('sales/.hidden/a..b');
    expect(resolveObjectKey(sales, 'a b+c%20d%41')).toBe('sales/a b+c%20d%41');
  });

  it('returns the NFC form', () => {
    const nfd = 'cafe\u0301.txt';
    expect(resolveObjectKey(sales, nfd)).toBe('sales/caf\u00e9.txt');
    expect(resolveObjectKey(sales, nfd)).toBe(resolveObjectKey(sales, 'caf\u00e9.txt'));
  });

  it.each([
    ['empty', ''],
    ['absolute', '/x'],
    ['root', '/'],
    ['dotdot', '..'],
    ['dotdot escape', '../secret'],
    ['dotdot inside', 'a/../../b'],
    ['trailing dotdot', 'a/..'],
    ['dotdot folder', '../'],
    ['dot', '.'],
    ['dot slash prefix', './x'],
    ['dot segment', 'a/./b'],
    ['empty segment', 'a//b'],
    ['double trailing slash', 'a//'],
    ['lower %2f', 'a%2fb'],
    ['upper %2F', 'a%2Fb'],
    ['encoded dotdot', '%2E%2E/x'],
    ['lower %2e', '%2e'],
    ['encoded backslash', 'a%5Cb'],
    ['lower %5c', 'a%5cb'],
    ['backslash', 'a\\b'],
    ['backslash traversal', '..\\x'],
    ['nul', 'a\u0000b'],
    ['newline', 'a\nb'],
    ['carriage return', 'a\rb'],
    ['unit separator', '\u001f'],
    ['del', 'a\u007f'],
    ['lone surrogate', '\udc00x'],
  ])('refuses %s', (_label, key) => {
    const e = caught(() => resolveObjectKey(sales, key));
    expect(e.kind).toBe('InvalidInput');
    expect(e.code).toBe('key.invalid');
  });

  it('does not fold lookalike dots, because NFC is not NFKC', () => {
    // U+FF0E (fullwidth full stop) stays itself, so it is a literal name to S3 and to us alike.
    expect(resolveObjectKey(sales, '\uff0e\uff0e/x')).toBe('sales/\uff0e\uff0e/x');
  });

  it('limits the full key to 1024 UTF-8 bytes', () => {
    const fits = 'x'.repeat(1024 - 'sales/'.length);
    expect(resolveObjectKey(sales, fits)).toHaveLength(1024);
    expect(caught(() => resolveObjectKey(sales, `${fits}x`)).code).toBe('key.invalid');
    // 3 bytes each in UTF-8: 339 * 3 + 6 = 1023 fits, 340 * 3 + 6 = 1026 does not.
    expect(() => resolveObjectKey(sales, '€'.repeat(339))).not.toThrow();
    expect(caught(() => resolveObjectKey(sales, '€'.repeat(340))).message).toContain('1024');
  });
});

describe('resolveListPrefix', () => {
  it('treats an empty prefix as the whole scope', () => {
    expect(resolveListPrefix(sales, '')).toBe('sales/');
    expect(resolveListPrefix(whole, '')).toBe('');
  });

  it('allows partial and folder prefixes', () => {
    expect(resolveListPrefix(sales, 'q1/')).toBe('sales/q1/');
    expect(resolveListPrefix(sales, 'rep')).toBe('sales/rep');
  });

  it.each(['/', '/x', '..', '../', 'a/../', '%2F', 'a\\', 'a//', 'x\u0000'])('refuses %j', (prefix) => {
    expect(caught(() => resolveListPrefix(sales, prefix)).code).toBe('key.invalid');
  });
});

describe('isKeyInScope', () => {
  it('contains keys under the prefix only', () => {
    expect(isKeyInScope(sales, 'sales/x')).toBe(true);
    expect(isKeyInScope(sales, 'sales/')).toBe(true);
    expect(isKeyInScope(sales, 'sales-archive/x')).toBe(false);
    expect(isKeyInScope(sales, 'sales')).toBe(false);
    expect(isKeyInScope(sales, 'Sales/x')).toBe(false);
    expect(isKeyInScope(sales, '/sales/x')).toBe(false);
    expect(isKeyInScope(sales, '')).toBe(false);
  });

  it('contains every key when the prefix is empty', () => {
    expect(isKeyInScope(whole, '')).toBe(true);
    expect(isKeyInScope(whole, 'anything/at/all')).toBe(true);
  });

  it('fails closed for a prefix without its trailing slash', () => {
    const broken: Scope = { bucket: 'b', prefix: 'sales', access: 'read' };
    expect(isKeyInScope(broken, 'sales-archive/x')).toBe(false);
    expect(isKeyInScope(broken, 'sales/x')).toBe(false);
  });
});

describe('relativeKey', () => {
  it('strips the prefix', () => {
    expect(relativeKey(sales, 'sales/q1/a.csv')).toBe('q1/a.csv');
    expect(relativeKey(sales, 'sales/')).toBe('');
    expect(relativeKey(whole, 'a/b')).toBe('a/b');
  });

  it('round-trips with resolveObjectKey', () => {
    expect(relativeKey(sales, resolveObjectKey(sales, 'a/b/c'))).toBe('a/b/c');
  });

  it('throws an internal error for a key outside the scope', () => {
    const e = caught(() => relativeKey(sales, 'sales-archive/x'));
    expect(e.kind).toBe('Internal');
    expect(e.code).toBe('scope.key_outside');
  });
});
