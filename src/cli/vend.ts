import type { VendedCredentials } from '../domain/credential-formats.js';
import type { NarrowingRequest } from '../domain/narrowing.js';
import type { CredentialsResponse } from '../modules/credentials/credentials.routes.js';
import { ApiError, type RolegateClient } from './api-client.js';

/**
 * The slow-path equivalent of a connection: the caller's gateway key (created on first use) and the
 * rolegate S3 gateway's endpoint, as credentials any S3 client can use. The bucket is the connection name.
 */
export interface GatewayFallback {
  gatewayCredentials(connection: string): Promise<VendedCredentials>;
}

/** How credentials for a connection were obtained. */
export interface Vended {
  readonly credentials: VendedCredentials;
  readonly via: 'direct' | 'gateway';
  /** One line for stderr when the gateway stands in (callers print it except for `credential_process`). */
  readonly note?: string | undefined;
  /** The role session's name, for direct credentials from assume-role connections. */
  readonly sessionName?: string | undefined;
}

/** The refusal that means "use the slow path": the connection is usable but its details are not readable. */
export const DETAILS_NOT_READABLE = 'credentials.details_not_readable';

export function fromCredentialsResponse(c: CredentialsResponse): VendedCredentials {
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
    region: c.region,
    endpoint: c.endpoint,
    forcePathStyle: c.forcePathStyle,
    bucket: c.bucket,
    prefix: c.prefix,
  };
}

/** The note printed when the gateway stands in for a connection. */
export function gatewayNote(connection: string, endpoint: string | undefined): string {
  return (
    `rolegate: connection "${connection}" does not hand out its credentials to you; ` +
    `using the rolegate S3 gateway${endpoint === undefined ? '' : ` at ${endpoint}`} (bucket "${connection}") instead`
  );
}

/**
 * Credentials for `connection`: the role session itself when the caller may read its details, otherwise
 * (and only then) the gateway equivalent. Any other refusal is passed on.
 */
export async function vend(
  client: RolegateClient,
  gateway: GatewayFallback,
  connection: string,
  narrowing: NarrowingRequest = {},
): Promise<Vended> {
  try {
    const c = await client.credentials(connection, narrowing);
    return { credentials: fromCredentialsResponse(c), via: 'direct', sessionName: c.roleSessionName };
  } catch (e) {
    if (!(e instanceof ApiError) || e.code !== DETAILS_NOT_READABLE) throw e;
  }
  const credentials = await gateway.gatewayCredentials(connection);
  const narrowed = narrowing.prefix !== undefined || narrowing.readOnly === true;
  const note =
    gatewayNote(connection, credentials.endpoint) +
    (narrowed ? ' (--prefix and --read-only do not apply: the gateway enforces the connection itself)' : '');
  return { credentials, via: 'gateway', note };
}
