import { describe, expect, it } from 'vitest';
import { LruMap } from './lru-map.js';

describe('LruMap', () => {
  it('stores and returns values', () => {
    const m = new LruMap<string, number>(3);
    m.set('a', 1);
    m.set('b', 2);
    expect(m.get('a')).toBe(1);
    expect(m.get('b')).toBe(2);
    expect(m.get('c')).toBeUndefined();
    expect(m.size).toBe(2);
  });

  it('evicts the least recently set entry when full', () => {
    const m = new LruMap<string, number>(2);
    m.set('a', 1);
    m.set('b', 2);
    m.set('c', 3);
    expect(m.size).toBe(2);
    expect(m.get('a')).toBeUndefined();
    expect(m.get('b')).toBe(2);
    expect(m.get('c')).toBe(3);
  });

  it('counts a get as a use', () => {
    const m = new LruMap<string, number>(2);
    m.set('a', 1);
    m.set('b', 2);
    m.get('a');
    m.set('c', 3);
    expect(m.get('a')).toBe(1);
    expect(m.get('b')).toBeUndefined();
  });

  it('counts overwriting a key as a use and does not grow', () => {
    const m = new LruMap<string, number>(2);
    m.set('a', 1);
    m.set('b', 2);
    m.set('a', 10);
    expect(m.size).toBe(2);
    m.set('c', 3);
    expect(m.get('a')).toBe(10);
    expect(m.get('b')).toBeUndefined();
  });

  it('deletes single entries and entries matching a predicate', () => {
    const m = new LruMap<string, number>(10);
    for (const k of ['u1/x', 'u1/y', 'u2/x']) m.set(k, 0);
    expect(m.delete('u2/x')).toBe(true);
    expect(m.delete('u2/x')).toBe(false);
    expect(m.deleteWhere((k) => k.startsWith('u1/'))).toBe(2);
    expect(m.size).toBe(0);
    expect(m.deleteWhere(() => true)).toBe(0);
  });

  it('refuses a non-positive or fractional bound', () => {
    expect(() => new LruMap(0)).toThrow(RangeError);
    expect(() => new LruMap(-1)).toThrow(RangeError);
    expect(() => new LruMap(1.5)).toThrow(RangeError);
    const one = new LruMap<string, number>(1);
    one.set('a', 1);
    one.set('b', 2);
    expect(one.get('a')).toBeUndefined();
    expect(one.get('b')).toBe(2);
  });
});

describe('LruMap eviction under reads', () => {
  it('keeps every entry that was read since the last eviction, and still stays bounded', () => {
    const m = new LruMap<number, number>(4);
    for (let i = 0; i < 4; i++) m.set(i, i);
    m.get(0);
    m.get(2);
    m.set(4, 4);
    m.set(5, 5);
    expect([0, 1, 2, 3, 4, 5].filter((k) => m.get(k) !== undefined)).toEqual([0, 2, 4, 5]);
    expect(m.size).toBe(4);
  });

  it('evicts even when every entry was read (one full sweep at most)', () => {
    const m = new LruMap<number, number>(3);
    for (let i = 0; i < 3; i++) m.set(i, i);
    for (let i = 0; i < 3; i++) m.get(i);
    m.set(3, 3);
    expect(m.size).toBe(3);
    expect(m.get(3)).toBe(3);
    expect(m.get(0)).toBeUndefined();
  });
});
