import { describe, expect, it } from 'vitest';
import { uuidV7 } from './uuid-v7.js';

const FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidV7', () => {
  it('is an RFC 9562 version 7 UUID whose first 48 bits are the given time in milliseconds', () => {
    const now = Date.UTC(2026, 11, 3, 7, 30, 0, 123);
    const id = uuidV7(now);
    expect(id).toMatch(FORMAT);
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(now);
  });

  it('sorts by time across milliseconds, and is unique within one', () => {
    const base = Date.UTC(2030, 0, 1);
    const ids = Array.from({ length: 5000 }, (_, i) => uuidV7(base + Math.floor(i / 100)));
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 100; i < ids.length; i += 100) expect((ids[i - 1] ?? '') < (ids[i] ?? '')).toBe(true);
    for (const id of ids) expect(id).toMatch(FORMAT);
  });

  it('clamps a time outside 48 bits instead of producing a malformed id', () => {
    expect(uuidV7(-5)).toMatch(/^00000000-0000-7/);
    expect(uuidV7(2 ** 50)).toMatch(/^ffffffff-ffff-7/);
  });
});
