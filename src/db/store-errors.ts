import { type RolegateError, upstreamUnavailable } from '../errors/errors.js';

/** Socket failures node reports while reaching the database. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);
/** PostgreSQL SQLSTATEs of a server that is going away or not accepting connections yet (class 08 aside). */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** What node-postgres says when a connection died or could not be made in time (its errors carry no code). */
const PG_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect$/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
];

function isConnectivityError(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 3) return false;
  const { code, message, cause } = error as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.has(code) || code.startsWith('08'))) {
    return true;
  }
  if (typeof message === 'string' && PG_MESSAGES.some((m) => m.test(message))) return true;
  return isConnectivityError(cause, depth + 1);
}

/**
 * A database that cannot be reached (down, restarting, connection cut, no connection within the pool's timeout) as
 * the typed, retryable `store.unavailable`; undefined for any other error. The message names no host or credential.
 */
export function storeUnavailable(error: unknown): RolegateError | undefined {
  if (!isConnectivityError(error)) return undefined;
  // The cause is logged: keep its message and code only. node-postgres hangs the client object (connection
  // password included) on some of its errors, and a logger copies an error's own properties.
  const { message, code } = error as { message?: unknown; code?: unknown };
  const cause = Object.assign(new Error(typeof message === 'string' ? message : 'database unreachable'), {
    ...(typeof code === 'string' ? { code } : {}),
  });
  return upstreamUnavailable('store.unavailable', 'the database is unavailable; nothing was changed, try again', {
    cause,
  });
}
