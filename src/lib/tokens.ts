import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** API tokens look like `rg_<43 base64url chars>`: recognisable in leaks, 256 bits of entropy. */
export const API_TOKEN_PREFIX = 'rg_';

export function generateApiToken(): string {
  return API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** Tokens are stored as SHA-256 hashes: high-entropy input needs no slow hash, and lookup stays O(1). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function looksLikeApiToken(value: string): boolean {
  return /^rg_[A-Za-z0-9_-]{43}$/.test(value);
}

/** Constant-time string comparison for secrets of possibly different lengths. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}
