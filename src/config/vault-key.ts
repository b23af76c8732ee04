import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { invalidInput } from '../errors/errors.js';

/** Parses a 32-byte key given as 64 hex characters or base64/base64url. */
export function parseVaultKey(text: string, source: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) {
    throw invalidInput('config.secret_key_invalid', `${source} must hold 32 bytes as 64 hex characters or base64`);
  }
  return key;
}

/**
 * The vault key: ROLEGATE_SECRET_KEY when set, else the key file, created on first start with mode 0600.
 * A key file readable by group or others is refused rather than silently used.
 */
export function loadVaultKey(keyFile: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const fromEnv = env.ROLEGATE_SECRET_KEY;
  if (fromEnv !== undefined && fromEnv !== '') return parseVaultKey(fromEnv, 'ROLEGATE_SECRET_KEY');
  let text: string;
  try {
    const mode = statSync(keyFile).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw invalidInput(
        'config.secret_key_file_mode',
        `vault key file ${keyFile} is accessible by group or others (mode ${mode.toString(8)}); run chmod 600 on it`,
      );
    }
    text = readFileSync(keyFile, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
    text = randomBytes(32).toString('base64');
    // 'wx' refuses to overwrite a key another process created meanwhile; losing a key loses every secret.
    writeFileSync(keyFile, `${text}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(keyFile, 0o600);
  }
  return parseVaultKey(text, `vault key file ${keyFile}`);
}
