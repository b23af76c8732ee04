import { describe, expect, it } from 'vitest';
import { memoized } from './memoized.js';

describe('memoized', () => {
  it('computes each argument once while it stays among the most recent ones', () => {
    const calls: string[] = [];
    const upper = memoized((s: string) => {
      calls.push(s);
      return s.toUpperCase();
    }, 2);
    expect([upper('a'), upper('a'), upper('b'), upper('a')]).toEqual(['A', 'A', 'B', 'A']);
    expect(calls).toEqual(['a', 'b']);
    upper('c');
    upper('b');
    expect(calls).toEqual(['a', 'b', 'c', 'b']);
  });

  it('does not remember a call that threw', () => {
    let n = 0;
    const failing = memoized((s: string) => {
      n++;
      if (s === 'bad') throw new Error('bad');
      return s;
    });
    expect(() => failing('bad')).toThrow('bad');
    expect(() => failing('bad')).toThrow('bad');
    expect(n).toBe(2);
  });
});
