import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox } from './secret-box.js';

const box = new SecretBox(randomBytes(32));
const AD = 'connection/s3-sales';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

/** Flips one bit of one byte of part `index` of a sealed value (decoding first: flipping a base64 char may not change any byte). */
function tamper(sealed: string, index: number, byte = 0): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index] as string, 'base64url');
  bytes[byte] = (bytes[byte] as number) ^ 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('SecretBox', () => {
  it('opens what it sealed', () => {
    expect(box.open(box.seal(SECRET, AD), AD)).toBe(SECRET);
    expect(box.open(box.seal('', AD), AD)).toBe('');
    expect(box.open(box.seal('ünïcødé 🔑', AD), AD)).toBe('ünïcødé 🔑');
  });

  it('produces the v1.<iv>.<tag>.<ciphertext> format', () => {
    const parts = box.seal(SECRET, AD).split('.');
    expect(parts).toHaveLength(4);
    expect(parts[0]).toBe('v1');
    expect(Buffer.from(parts[1] as string, 'base64url')).toHaveLength(12);
    expect(Buffer.from(parts[2] as string, 'base64url')).toHaveLength(16);
  });

  it('refuses a tampered ciphertext, tag or iv', () => {
    const sealed = box.seal(SECRET, AD);
    expect(() => box.open(tamper(sealed, 3), AD)).toThrow();
    expect(() => box.open(tamper(sealed, 3, 20), AD)).toThrow();
    expect(() => box.open(tamper(sealed, 2), AD)).toThrow();
    expect(() => box.open(tamper(sealed, 1), AD)).toThrow();
    // The untouched value still opens, so the failures above are due to the tampering.
    expect(box.open(sealed, AD)).toBe(SECRET);
  });

  it('refuses other associated data (a ciphertext moved to another row)', () => {
    const sealed = box.seal(SECRET, 'user/u-alice/connection/s3');
    expect(() => box.open(sealed, 'user/u-bob/connection/s3')).toThrow();
    expect(() => box.open(sealed, '')).toThrow();
  });

  it('refuses to open under another key', () => {
    const sealed = box.seal(SECRET, AD);
    expect(() => new SecretBox(randomBytes(32)).open(sealed, AD)).toThrow();
  });

  it('does not contain the plaintext', () => {
    const sealed = box.seal(SECRET, AD);
    expect(sealed).not.toContain(SECRET);
    expect(sealed).not.toContain(Buffer.from(SECRET).toString('base64url'));
    const body = Buffer.from(sealed.split('.')[3] as string, 'base64url');
    expect(body.includes(Buffer.from(SECRET))).toBe(false);
  });

  it('seals the same plaintext differently each time', () => {
    const a = box.seal(SECRET, AD);
    const b = box.seal(SECRET, AD);
    expect(a).not.toBe(b);
    expect(a.split('.')[1]).not.toBe(b.split('.')[1]);
    expect(box.open(a, AD)).toBe(box.open(b, AD));
  });

  it('refuses malformed sealed values', () => {
    const sealed = box.seal(SECRET, AD);
    expect(() => box.open(sealed.replace(/^v1/, 'v2'), AD)).toThrow(/format/);
    expect(() => box.open(sealed.split('.').slice(0, 3).join('.'), AD)).toThrow(/format/);
    expect(() => box.open('', AD)).toThrow(/format/);
  });

  it('requires a 32-byte key and keeps its own copy', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow(RangeError);
    const key = randomBytes(32);
    const own = new SecretBox(key);
    const sealed = own.seal(SECRET, AD);
    key.fill(0);
    expect(own.open(sealed, AD)).toBe(SECRET);
  });
});
