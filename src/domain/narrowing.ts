/**
 * Per-request narrowing of vended credentials: a sub-prefix, read-only access and a shorter lifetime.
 * The result is never wider than the connection: the prefix is appended to the connection's path (after the
 * same checks as any path in a bucket), access can only drop to read, and the lifetime only shrink.
 */
import { invalidInput, RolegateError } from '../errors/errors.js';
import type { Connection, Scope } from './model.js';
import { normalizePathInBucket } from './scope.js';

/** What a caller may ask for on top of the connection's own scope. */
export interface NarrowingRequest {
  /** A folder relative to the connection's path, e.g. `2024/` (the trailing `/` is added when missing). */
  readonly prefix?: string | undefined;
  readonly readOnly?: boolean | undefined;
  readonly durationSeconds?: number | undefined;
}

/** Whether the request asks for anything at all. */
export function isNarrowing(request: NarrowingRequest): boolean {
  return request.prefix !== undefined || request.readOnly === true || request.durationSeconds !== undefined;
}

/**
 * The scope of `base` narrowed by `request`: `base.prefix + prefix`, read-only when asked.
 *
 * @throws RolegateError `scope.invalid_prefix` when the prefix is not a plain relative folder (`..`, `//`,
 *   control characters, backslashes, or `*`, `?`, `${` that a session policy would read as patterns).
 */
export function narrowScope(base: Scope, request: NarrowingRequest): Scope {
  let prefix = base.prefix;
  if (request.prefix !== undefined && request.prefix !== '' && request.prefix !== '/') {
    if (request.prefix.startsWith('/')) {
      throw invalidInput('scope.invalid_prefix', 'Invalid prefix: it is relative to the connection path, drop the "/"');
    }
    if (/[*?]/.test(request.prefix) || request.prefix.includes('${')) {
      throw invalidInput('scope.invalid_prefix', 'Invalid prefix: "*", "?" and "${" would widen a session policy');
    }
    let relative: string;
    try {
      relative = normalizePathInBucket(request.prefix);
    } catch (e) {
      if (e instanceof RolegateError)
        throw invalidInput('scope.invalid_prefix', e.message.replace('Invalid path in bucket', 'Invalid prefix'));
      throw e;
    }
    prefix = base.prefix + relative;
  }
  return { bucket: base.bucket, prefix, access: request.readOnly === true ? 'read' : base.access };
}

/**
 * The session lifetime for a request: the connection's own when none is asked, otherwise the asked one
 * when it lies in `[minSeconds, connection's]`.
 *
 * @throws RolegateError `credentials.duration_out_of_range` outside those bounds.
 */
export function boundedDuration(connection: Connection, requested: number | undefined, minSeconds: number): number {
  const max = connection.assumeRole?.durationSeconds ?? 0;
  if (requested === undefined) return max;
  if (!Number.isInteger(requested) || requested < minSeconds || requested > max) {
    throw invalidInput(
      'credentials.duration_out_of_range',
      `durationSeconds must be a whole number from ${minSeconds} to ${max} (the connection's) for connection ` +
        `${JSON.stringify(connection.name)}`,
      { details: { connection: connection.name, min: minSeconds, max } },
    );
  }
  return requested;
}

/**
 * Refuses narrowing on connections whose credentials cannot carry it: static keys have no session policy
 * and no lifetime, so a "narrowed" request would silently hand out the full key.
 *
 * @throws RolegateError `credentials.narrowing_unsupported`.
 */
export function checkNarrowingSupported(connection: Connection, request: NarrowingRequest): void {
  if (connection.mode === 'assume-role' || !isNarrowing(request)) return;
  throw invalidInput(
    'credentials.narrowing_unsupported',
    `Connection ${JSON.stringify(connection.name)} hands out static keys (mode ${connection.mode}), which cannot ` +
      'be narrowed by prefix, read-only or duration; ask without them',
    { details: { connection: connection.name } },
  );
}
