/**
 * STS RoleSessionName: 2-64 characters of `[\w+=,.@-]`. The name shows up in CloudTrail and in the
 * assumed-role ARN, so it is derived deterministically from the rendered template.
 */
import { createHash } from 'node:crypto';
import { memoized } from '../lib/memoized.js';

/** STS limits on RoleSessionName. */
export const MIN_SESSION_NAME_CHARS = 2;
export const MAX_SESSION_NAME_CHARS = 64;

const HASH_CHARS = 8;
const DISALLOWED = /[^\w+=,.@-]/;

/**
 * Turns any string into a valid RoleSessionName, deterministically.
 *
 * Each character outside `[\w+=,.@-]` (counted by code point, so an emoji is one) becomes `-`; a name
 * shorter than 2 is padded with `-`. A name longer than 64 is cut and suffixed with `-` and the first
 * 8 hex digits of sha256(raw), so long names that differ only past the cut stay distinct.
 */
export const toSessionName: (raw: string) => string = memoized(toSessionNameUncached);

function toSessionNameUncached(raw: string): string {
  let name = '';
  for (const ch of raw) name += DISALLOWED.test(ch) ? '-' : ch;
  if (name.length < MIN_SESSION_NAME_CHARS) return name.padEnd(MIN_SESSION_NAME_CHARS, '-');
  if (name.length <= MAX_SESSION_NAME_CHARS) return name;
  const hash = createHash('sha256').update(raw, 'utf8').digest('hex').slice(0, HASH_CHARS);
  return `${name.slice(0, MAX_SESSION_NAME_CHARS - HASH_CHARS - 1)}-${hash}`;
}
