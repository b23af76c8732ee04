import { describe, expect, it } from 'vitest';
import { matchesGlob } from './glob.js';

describe('matchesGlob', () => {
  it('matches literals exactly and as a whole string', () => {
    expect(matchesGlob('abc', 'abc')).toBe(true);
    expect(matchesGlob('abc', 'abcd')).toBe(false);
    expect(matchesGlob('abc', 'xabc')).toBe(false);
    expect(matchesGlob('abc', 'ABC')).toBe(false);
    expect(matchesGlob('', '')).toBe(true);
    expect(matchesGlob('', 'a')).toBe(false);
  });

  it('lets * match any run, including none, slashes and colons', () => {
    expect(matchesGlob('*', '')).toBe(true);
    expect(matchesGlob('*', 'anything/at:all')).toBe(true);
    expect(matchesGlob('arn:aws:iam::*:role/sales-*', 'arn:aws:iam::123456789012:role/sales-eu')).toBe(true);
    expect(matchesGlob('arn:aws:iam::*:role/sales-*', 'arn:aws:iam::123456789012:role/sales-')).toBe(true);
    expect(matchesGlob('arn:aws:iam::*:role/sales-*', 'arn:aws:iam::1:role/path/sales-x')).toBe(false);
    expect(matchesGlob('arn:aws:iam::*:role/*', 'arn:aws:iam::1:role/path/to/x')).toBe(true);
    expect(matchesGlob('a*b*c', 'a__b__c')).toBe(true);
    expect(matchesGlob('a*b*c', 'a__c__b')).toBe(false);
  });

  it('lets ? match exactly one character', () => {
    expect(matchesGlob('a?c', 'abc')).toBe(true);
    expect(matchesGlob('a?c', 'a/c')).toBe(true);
    expect(matchesGlob('a?c', 'ac')).toBe(false);
    expect(matchesGlob('a?c', 'abbc')).toBe(false);
    expect(matchesGlob('??', '😀x')).toBe(true);
  });

  it('treats regex metacharacters literally', () => {
    expect(matchesGlob('a.c', 'abc')).toBe(false);
    expect(matchesGlob('a.c', 'a.c')).toBe(true);
    expect(matchesGlob('a+', 'aa')).toBe(false);
    expect(matchesGlob('a+', 'a+')).toBe(true);
    expect(matchesGlob('(a|b)', 'a')).toBe(false);
    expect(matchesGlob('(a|b)', '(a|b)')).toBe(true);
    expect(matchesGlob('[ab]', 'a')).toBe(false);
    expect(matchesGlob('[ab]', '[ab]')).toBe(true);
    expect(matchesGlob('^a$', '^a$')).toBe(true);
    expect(matchesGlob('a{2}', 'aa')).toBe(false);
    expect(matchesGlob('a\\d', 'a\\d')).toBe(true);
    expect(matchesGlob('a\\d', 'a1')).toBe(false);
  });

  it('does not let a newline end the match early', () => {
    expect(matchesGlob('role/x', 'role/x\n')).toBe(false);
    expect(matchesGlob('role/*', 'role/x\ny')).toBe(true);
    expect(matchesGlob('a?b', 'a\nb')).toBe(true);
  });
});

describe('matchesGlob on hostile input', () => {
  it('stays fast on patterns that make regex engines backtrack', () => {
    const started = performance.now();
    expect(matchesGlob(`${'*a'.repeat(30)}*b`, 'a'.repeat(2048))).toBe(false);
    expect(matchesGlob('*'.repeat(1000), 'x'.repeat(2048))).toBe(true);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('backtracks a star correctly', () => {
    expect(matchesGlob('*ab', 'aab')).toBe(true);
    expect(matchesGlob('*ab*ab', 'abxabab')).toBe(true);
    expect(matchesGlob('a*?', 'a')).toBe(false);
    expect(matchesGlob('a*?', 'ab')).toBe(true);
    expect(matchesGlob('**', '')).toBe(true);
    expect(matchesGlob('?', '')).toBe(false);
  });
});
