import { describe, expect, it } from 'vitest';
import { API_TOKEN_PREFIX, generateApiToken, hashToken, looksLikeApiToken, randomId, safeEqual } from './tokens.js';

describe('generateApiToken', () => {
  it('makes rg_-prefixed tokens of 43 base64url characters that are recognised', () => {
    const token = generateApiToken();
    expect(token.startsWith(API_TOKEN_PREFIX)).toBe(true);
    expect(token).toMatch(/^rg_[A-Za-z0-9_-]{43}$/);
    expect(looksLikeApiToken(token)).toBe(true);
  });

  it('makes a different token each time', () => {
    const tokens = new Set(Array.from({ length: 100 }, generateApiToken));
    expect(tokens.size).toBe(100);
  });
});

describe('looksLikeApiToken', () => {
  it('refuses other shapes', () => {
    const body = 'a'.repeat(43);
    expect(looksLikeApiToken(`rg_${body}`)).toBe(true);
    expect(looksLikeApiToken(`rg_${body}a`)).toBe(false);
    expect(looksLikeApiToken(`rg_${'a'.repeat(42)}`)).toBe(false);
    expect(looksLikeApiToken(`xx_${body}`)).toBe(false);
    expect(looksLikeApiToken(`rg_${'a'.repeat(42)}=`)).toBe(false);
    expect(looksLikeApiToken(`rg_${'a'.repeat(42)}+`)).toBe(false);
    expect(looksLikeApiToken(` rg_${body}`)).toBe(false);
    expect(looksLikeApiToken('')).toBe(false);
  });
});

describe('hashToken', () => {
  it('is the hex SHA-256 of the token', () => {
    // SHA-256("abc"), FIPS 180-2 test vector.
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashToken('rg_x')).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken('rg_x')).toBe(hashToken('rg_x'));
    expect(hashToken('rg_x')).not.toBe(hashToken('rg_y'));
  });
});

describe('safeEqual', () => {
  it('compares strings of equal and different lengths', () => {
    expect(safeEqual('secret', 'secret')).toBe(true);
    expect(safeEqual('secret', 'secreT')).toBe(false);
    expect(safeEqual('secret', 'secret-longer')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
    expect(safeEqual('', 'x')).toBe(false);
  });
});

describe('randomId', () => {
  it('prefixes 16 base64url characters and does not repeat', () => {
    const id = randomId('usr');
    expect(id).toMatch(/^usr_[A-Za-z0-9_-]{16}$/);
    expect(randomId('usr')).not.toBe(id);
  });
});
