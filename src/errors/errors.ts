/**
 * Every failure rolegate reports is a RolegateError: a stable machine code, a message safe to show
 * to the caller (never a secret), an optional cause, and whether retrying may help.
 * Kinds are named by meaning; transports map them (HTTP status, S3 XML) in one place each.
 */
export type ErrorKind =
  | 'InvalidInput'
  | 'Unauthenticated'
  | 'PermissionDenied'
  | 'NotFound'
  | 'Conflict'
  | 'PayloadTooLarge'
  | 'UpstreamUnavailable'
  | 'UpstreamRejected'
  | 'Internal';

export interface RolegateErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  /** Extra, non-secret facts for callers (e.g. which property is missing). */
  details?: Readonly<Record<string, string | number | boolean>>;
}

export class RolegateError extends Error {
  override readonly name = 'RolegateError';
  readonly kind: ErrorKind;
  /** Stable, dotted, lower-case code, e.g. `connection.property_missing`. */
  readonly code: string;
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, string | number | boolean>>;

  constructor(kind: ErrorKind, code: string, message: string, options: RolegateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }
}

type Factory = (code: string, message: string, options?: RolegateErrorOptions) => RolegateError;
const kind =
  (k: ErrorKind): Factory =>
  (code, message, options) =>
    new RolegateError(k, code, message, options);

export const invalidInput = kind('InvalidInput');
export const unauthenticated = kind('Unauthenticated');
export const permissionDenied = kind('PermissionDenied');
export const notFound = kind('NotFound');
export const conflict = kind('Conflict');
export const payloadTooLarge = kind('PayloadTooLarge');
export const upstreamUnavailable: Factory = (code, message, options) =>
  new RolegateError('UpstreamUnavailable', code, message, { retryable: true, ...options });
export const upstreamRejected = kind('UpstreamRejected');
export const internal = kind('Internal');

export function isRolegateError(e: unknown): e is RolegateError {
  return e instanceof RolegateError;
}
