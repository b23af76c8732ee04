import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRolegateError, type RolegateError } from '../errors/errors.js';
import { loadVaultKey, parseVaultKey } from './vault-key.js';

function caught(fn: () => unknown): RolegateError {
  try {
    fn();
  } catch (e) {
    if (isRolegateError(e)) return e;
    throw e;
  }
  throw new Error('expected a RolegateError');
}

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rolegate-key-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('parseVaultKey', () => {
  const key = randomBytes(32);

  it('accepts 64 hex characters, in either case', () => {
    expect(parseVaultKey(key.toString('hex'), 'x').equals(key)).toBe(true);
    expect(parseVaultKey(key.toString('hex').toUpperCase(), 'x').equals(key)).toBe(true);
  });

  it('accepts base64 and base64url, ignoring surrounding whitespace', () => {
    expect(parseVaultKey(key.toString('base64'), 'x').equals(key)).toBe(true);
    expect(parseVaultKey(key.toString('base64url'), 'x').equals(key)).toBe(true);
    expect(parseVaultKey(`  ${key.toString('base64')}\n`, 'x').equals(key)).toBe(true);
  });

  it('refuses keys of the wrong length, naming the source', () => {
    for (const text of [
      randomBytes(16).toString('hex'),
      randomBytes(31).toString('base64'),
      randomBytes(33).toString('base64'),
      '',
    ]) {
      const e = caught(() => parseVaultKey(text, 'ROLEGATE_SECRET_KEY'));
      expect(e.code).toBe('config.secret_key_invalid');
      expect(e.message).toContain('ROLEGATE_SECRET_KEY');
    }
  });
});

describe('loadVaultKey', () => {
  it('prefers ROLEGATE_SECRET_KEY (hex) and does not touch the key file', () => {
    const key = randomBytes(32);
    const file = join(dir, 'secret.key');
    expect(loadVaultKey(file, { ROLEGATE_SECRET_KEY: key.toString('hex') }).equals(key)).toBe(true);
    expect(() => statSync(file)).toThrow();
  });

  it('accepts ROLEGATE_SECRET_KEY as base64', () => {
    const key = randomBytes(32);
    expect(loadVaultKey(join(dir, 'secret.key'), { ROLEGATE_SECRET_KEY: key.toString('base64') }).equals(key)).toBe(
      true,
    );
  });

  it('refuses a ROLEGATE_SECRET_KEY of the wrong length', () => {
    const e = caught(() =>
      loadVaultKey(join(dir, 'secret.key'), { ROLEGATE_SECRET_KEY: randomBytes(24).toString('hex') }),
    );
    expect(e.code).toBe('config.secret_key_invalid');
    expect(e.message).toContain('ROLEGATE_SECRET_KEY');
  });

  it('creates the key file with mode 0600 on first call and returns the same key afterwards', () => {
    const file = join(dir, 'nested', 'secret.key');
    const first = loadVaultKey(file, {});
    expect(first).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64').equals(first)).toBe(true);
    const second = loadVaultKey(file, {});
    expect(second.equals(first)).toBe(true);
  });

  it('reads an existing key file with mode 0600', () => {
    const key = randomBytes(32);
    const file = join(dir, 'secret.key');
    writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    expect(loadVaultKey(file, {}).equals(key)).toBe(true);
  });

  it('refuses a key file readable by group or others', () => {
    const file = join(dir, 'secret.key');
    writeFileSync(file, randomBytes(32).toString('base64'));
    chmodSync(file, 0o644);
    const e = caught(() => loadVaultKey(file, {}));
    expect(e.code).toBe('config.secret_key_file_mode');
    expect(e.message).toContain('644');
    expect(e.message).toContain(file);
  });

  it('refuses a key file of the wrong length', () => {
    const file = join(dir, 'secret.key');
    writeFileSync(file, randomBytes(8).toString('hex'), { mode: 0o600 });
    chmodSync(file, 0o600);
    expect(caught(() => loadVaultKey(file, {})).code).toBe('config.secret_key_invalid');
  });
});
