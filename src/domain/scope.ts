/**
 * S3 path containment. Keys are normalised here, once, at the edge of `resolve target`; everything after
 * sees canonical full keys. S3 keys are opaque bytes, but proxies, SDKs and other S3 implementations do not
 * all treat `..`, `//`, `\` or percent-escapes the same way, so anything that could be read as a way out of
 * the scope is refused rather than interpreted.
 */
import { internal, invalidInput } from '../errors/errors.js';
import type { Scope } from './model.js';

/** S3's limit on an object key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

// U+0000-U+001F and U+007F.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Encoded `/`, `.` and `\`: we never decode keys, so these can only be an attempt to confuse a later layer. */
const ENCODED_SEPARATOR = /%(2f|2e|5c)/i;
/** A lone UTF-16 surrogate cannot be encoded as UTF-8, which S3 keys must be. */
const LONE_SURROGATE = /\p{Cs}/u;

function badPath(reason: string): never {
  throw invalidInput('path.invalid', `Invalid path in bucket: ${reason}`);
}

/**
 * Canonicalises a connection's or mount's path in a bucket: '' (whole bucket) or `a/b/`.
 *
 * '' and '/' mean the whole bucket; one leading '/' is dropped and a trailing '/' added. The result is NFC.
 * @throws RolegateError `path.invalid` on empty, `.` or `..` segments, control characters or backslashes.
 */
export function normalizePathInBucket(path: string): string {
  if (path === '' || path === '/') return '';
  let p = path.normalize('NFC');
  if (p.startsWith('/')) p = p.slice(1);
  if (p.endsWith('/')) p = p.slice(0, -1);
  if (CONTROL.test(p)) badPath('it contains a control character');
  if (LONE_SURROGATE.test(p)) badPath('it is not valid Unicode');
  if (p.includes('\\')) badPath('it contains a backslash');
  for (const segment of p.split('/')) {
    if (segment === '') badPath('it contains an empty segment ("//")');
    if (segment === '.' || segment === '..') badPath('it contains a "." or ".." segment');
  }
  const normalized = `${p}/`;
  if (Buffer.byteLength(normalized, 'utf8') >= MAX_KEY_BYTES) badPath(`it is longer than ${MAX_KEY_BYTES} bytes`);
  return normalized;
}

/** Why a relative key or prefix is unsafe, or null. `''` is checked by the callers. */
function keyProblem(key: string): string | null {
  if (key.startsWith('/')) return 'it is absolute (starts with "/")';
  if (CONTROL.test(key)) return 'it contains a control character';
  if (LONE_SURROGATE.test(key)) return 'it is not valid Unicode';
  if (key.includes('\\')) return 'it contains a backslash';
  if (ENCODED_SEPARATOR.test(key)) return 'it contains a percent-encoded "/", "." or "\\"';
  const segments = key.split('/');
  // A trailing '/' is a folder marker (or a folder-style listing prefix), not an empty segment.
  if (key.endsWith('/')) segments.pop();
  for (const segment of segments) {
    if (segment === '') return 'it contains an empty segment ("//")';
    if (segment === '.' || segment === '..') return 'it contains a "." or ".." segment';
  }
  return null;
}

function resolve(scope: Scope, relative: string, allowEmpty: boolean): string {
  const key = relative.normalize('NFC');
  const problem = key === '' ? (allowEmpty ? null : 'it is empty') : keyProblem(key);
  if (problem !== null) throw invalidInput('key.invalid', `Invalid key: ${problem}`);
  const full = scope.prefix + key;
  if (Buffer.byteLength(full, 'utf8') > MAX_KEY_BYTES) {
    throw invalidInput('key.invalid', `Invalid key: the full key is longer than ${MAX_KEY_BYTES} UTF-8 bytes`);
  }
  return full;
}

/**
 * The full S3 key for a key relative to the scope's prefix, NFC-normalised.
 * Keys ending in '/' (folder markers) are allowed.
 *
 * @throws RolegateError `key.invalid` for empty or absolute keys, `.`/`..`/empty segments, backslashes,
 *   control characters, percent-encoded `/`, `.` or `\`, or a full key over 1024 UTF-8 bytes.
 */
export function resolveObjectKey(scope: Scope, relativeKey: string): string {
  return resolve(scope, relativeKey, false);
}

/**
 * The full S3 listing prefix for a prefix relative to the scope; '' lists the whole scope.
 *
 * @throws RolegateError `key.invalid` on the same grounds as {@link resolveObjectKey}, except emptiness.
 */
export function resolveListPrefix(scope: Scope, relativePrefix: string): string {
  return resolve(scope, relativePrefix, true);
}

/**
 * Whether a full key lies inside the scope's prefix ('' = whole bucket). This is containment only,
 * not validation: S3 may return keys {@link resolveObjectKey} would refuse.
 */
export function isKeyInScope(scope: Scope, fullKey: string): boolean {
  // A prefix without its trailing '/' would let `sales` reach `sales-archive/`: fail closed.
  if (scope.prefix !== '' && !scope.prefix.endsWith('/')) return false;
  return fullKey.startsWith(scope.prefix);
}

/**
 * A full key relative to the scope's prefix.
 *
 * @throws RolegateError `scope.key_outside` (Internal): callers must only pass keys already known to be in scope.
 */
export function relativeKey(scope: Scope, fullKey: string): string {
  if (!isKeyInScope(scope, fullKey)) {
    throw internal('scope.key_outside', `A key outside the scope ${JSON.stringify(scope.prefix)} reached relativeKey`);
  }
  return fullKey.slice(scope.prefix.length);
}
