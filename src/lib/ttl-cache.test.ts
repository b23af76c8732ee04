import { describe, expect, it } from 'vitest';
import { TtlCache } from './ttl-cache.js';

function cache(ttlMs = 1000, maxEntries = 10) {
  const clock = {
    t: 0,
    now() {
      return this.t;
    },
  };
  return { clock, cache: new TtlCache<string, number>({ ttlMs, maxEntries, clock }) };
}

describe('TtlCache', () => {
  it('returns a value until its TTL passes', () => {
    const { clock, cache: c } = cache();
    c.set('a', 1);
    clock.t = 999;
    expect(c.get('a')).toBe(1);
    clock.t = 1000;
    expect(c.get('a')).toBeUndefined();
  });

  it('expires earlier when notAfter comes first (an expiring token)', () => {
    const { clock, cache: c } = cache();
    c.set('a', 1, 300);
    clock.t = 299;
    expect(c.get('a')).toBe(1);
    clock.t = 300;
    expect(c.get('a')).toBeUndefined();
  });

  it('drops entries by value and keeps the rest', () => {
    const { cache: c } = cache();
    c.set('a', 1);
    c.set('b', 2);
    c.deleteWhere((v) => v === 1);
    expect(c.get('a')).toBeUndefined();
    expect(c.get('b')).toBe(2);
    c.clear();
    expect(c.get('b')).toBeUndefined();
  });

  it('caches nothing with a TTL of 0, and stays within its bound', () => {
    const off = cache(0).cache;
    off.set('a', 1);
    expect(off.get('a')).toBeUndefined();
    const { cache: small } = cache(1000, 2);
    small.set('a', 1);
    small.set('b', 2);
    small.set('c', 3);
    expect(small.get('a')).toBeUndefined();
    expect(small.get('c')).toBe(3);
  });
});
