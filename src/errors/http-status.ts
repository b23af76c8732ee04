import type { ErrorKind } from './errors.js';

/** The one mapping from error kind to HTTP status. Exhaustive: adding a kind fails to compile here. */
export function httpStatusOf(kind: ErrorKind): number {
  switch (kind) {
    case 'InvalidInput':
      return 400;
    case 'Unauthenticated':
      return 401;
    case 'PermissionDenied':
      return 403;
    case 'NotFound':
      return 404;
    case 'Conflict':
      return 409;
    case 'PayloadTooLarge':
      return 413;
    case 'UpstreamRejected':
      return 502;
    case 'UpstreamUnavailable':
      return 503;
    case 'Internal':
      return 500;
  }
}
