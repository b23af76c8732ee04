import { describe, expect, it } from 'vitest';
import { toSessionName } from './session-name.js';

const VALID = /^[\w+=,.@-]{2,64}$/;

describe('toSessionName', () => {
  it('keeps a valid name unchanged', () => {
    expect(toSessionName('rg-s3-marketing-for-bob')).toBe('rg-s3-marketing-for-bob');
    expect(toSessionName('a+b=c,d.e@f_g-h')).toBe('a+b=c,d.e@f_g-h');
  });

  it('replaces disallowed characters with -', () => {
    expect(toSessionName('rg-conn-for-bob smith')).toBe('rg-conn-for-bob-smith');
    expect(toSessionName('a/b:c*d')).toBe('a-b-c-d');
    expect(toSessionName('tab\there\nnul\u0000')).toBe('tab-here-nul-');
  });

  it('replaces unicode letters and counts an emoji as one character', () => {
    expect(toSessionName('rg-for-josé')).toBe('rg-for-jos-');
    expect(toSessionName('rg-for-😀')).toBe('rg-for--');
    expect(toSessionName('用户')).toBe('--');
    expect(toSessionName('x\uD800y')).toBe('x-y');
  });

  it('pads names shorter than 2', () => {
    expect(toSessionName('')).toBe('--');
    expect(toSessionName('a')).toBe('a-');
    expect(toSessionName('😀')).toBe('--');
    expect(toSessionName('ab')).toBe('ab');
  });

  it('keeps exactly 64 characters as they are', () => {
    const raw = 'x'.repeat(64);
    expect(toSessionName(raw)).toBe(raw);
  });

  it('cuts 65 characters and appends a hash of the input', () => {
    const name = toSessionName('x'.repeat(65));
    expect(name).toHaveLength(64);
    expect(name).toMatch(/^x{55}-[0-9a-f]{8}$/);
    expect(name).toMatch(VALID);
  });

  it('keeps long names that differ only at the end distinct', () => {
    const a = toSessionName(`${'y'.repeat(999)}a`);
    const b = toSessionName(`${'y'.repeat(999)}b`);
    expect(a).toHaveLength(64);
    expect(b).toHaveLength(64);
    expect(a).not.toBe(b);
    expect(a.slice(0, 55)).toBe(b.slice(0, 55));
  });

  it('hashes the raw input, so long names differing only in replaced characters stay distinct', () => {
    const base = 'z'.repeat(100);
    expect(toSessionName(`${base} `)).not.toBe(toSessionName(`${base}!`));
  });

  it('is deterministic', () => {
    const raw = `rg-${'conn'.repeat(50)}-for-émile`;
    expect(toSessionName(raw)).toBe(toSessionName(raw));
  });

  it.each([
    '',
    ' ',
    'a',
    '😀😀😀',
    'x'.repeat(64),
    'x'.repeat(65),
    '€'.repeat(1000),
    ' '.repeat(1000),
    '\u0000'.repeat(70),
  ])('always yields a valid name (%#)', (raw) => {
    expect(toSessionName(raw)).toMatch(VALID);
  });
});
