import { decideSigning } from '../../domain/access.js';
import type { Connection, Principal } from '../../domain/model.js';
import { connectionScope } from '../../domain/role-session-plan.js';
import { resolveObjectKey } from '../../domain/scope.js';
import {
  DEFAULT_PRESIGN_SECONDS,
  endpointBasePath,
  endpointHosts,
  type PresignMethod,
  planSigning,
  presignExpiry,
  rfc3986,
  type S3Operation,
  type SigningRequest,
} from '../../domain/signing.js';
import { permissionDenied } from '../../errors/errors.js';
import type { Clock } from '../../lib/clock.js';
import type { ConnectionsService } from '../connections/connections.service.js';
import type { CredentialEngine } from '../credentials/credential-engine.js';
import { presignPlannedRequest, type SignedHeaders, signPlannedRequest } from './s3-signer.js';

/** What every signing outcome tells the audit about the role session and the object (never a secret). */
export interface SigningFacts {
  readonly connection: string;
  readonly roleArn?: string | undefined;
  readonly sessionName?: string | undefined;
  /** The public half of the role session's key. */
  readonly accessKeyId: string;
  readonly bucket: string;
  readonly key?: string | undefined;
  readonly method: string;
  readonly operation: S3Operation;
  /** The signature may serve repeated reads of the same URI (see {@link SignedRequest.reusable}). */
  readonly reusable?: boolean | undefined;
  /** DeleteObjects: how many objects it names (`key` is the prefix they share). */
  readonly objects?: number | undefined;
}

/** A signed request, as the Iceberg S3 signer protocol answers it. */
export interface SignedRequest {
  /** The URI to send: the canonical form of what was checked. */
  readonly uri: string;
  /** Headers to add to the request (signature, date, session token, payload hash when absent). */
  readonly headers: SignedHeaders;
  /** The client may keep this answer for further reads of the same URI (the transport says `Cache-Control: private`). */
  readonly reusable: boolean;
  readonly facts: SigningFacts;
}

export interface PresignRequest {
  /** Relative to the connection's path (or the user's home), as in the data API. */
  readonly key: string;
  readonly method?: PresignMethod | undefined;
  readonly expiresSeconds?: number | undefined;
}

export interface PresignedUrl {
  readonly url: string;
  readonly method: PresignMethod;
  readonly expiresAt: string;
  readonly expiresSeconds: number;
  readonly bucket: string;
  readonly key: string;
  readonly facts: SigningFacts;
}

export interface SigningServiceDeps {
  readonly connections: Pick<ConnectionsService, 'resolveForUse'>;
  readonly engine: Pick<CredentialEngine, 'obtain'>;
  readonly clock: Clock;
  /** Object reads get signatures their client may reuse for the same URI (config `signing.reusableReads`). */
  readonly reusableReads: boolean;
}

export type SigningService = ReturnType<typeof createSigningService>;

/** The URI of an object of a connection, as an S3 client of that connection would address it. */
function objectUri(connection: Connection, fullKey: string): string {
  const t = connection.target;
  const { protocol, hosts } = endpointHosts(t);
  const host = hosts[0] ?? '';
  const base = endpointBasePath(t);
  const keyPath = fullKey.split('/').map(rfc3986).join('/');
  // Path-style when asked for or when the endpoint is an address (no bucket subdomain possible).
  const pathStyle = t.forcePathStyle || /^[\d.:[\]]+$/.test(host.replace(/:\d+$/, ''));
  return pathStyle
    ? `${protocol}//${host}${base}/${rfc3986(t.bucket)}/${keyPath}`
    : `${protocol}//${t.bucket}.${host}${base}/${keyPath}`;
}

/**
 * The sign path: authenticate (done by the transport) → resolve the connection → decide (usable, signing allowed,
 * the request in scope) → obtain the role session from the credential engine → sign. The role session never
 * leaves this service: callers get signed headers or a presigned URL.
 */
export function createSigningService(deps: SigningServiceDeps) {
  const { clock } = deps;
  const options = { reusableReads: deps.reusableReads };

  async function admitted(actor: Principal, connectionName: string) {
    const record = await deps.connections.resolveForUse(actor, connectionName);
    const decision = decideSigning(actor, record.connection);
    if (!decision.allowed) {
      throw permissionDenied(decision.code, decision.reason, { details: { connection: connectionName } });
    }
    return { record, scope: connectionScope(record.connection, actor) };
  }

  return {
    /**
     * Checks one S3 request (Iceberg S3 signer protocol) against the caller's scope on the connection and signs
     * it with their role session.
     */
    async sign(actor: Principal, connectionName: string, request: SigningRequest): Promise<SignedRequest> {
      const { record, scope } = await admitted(actor, connectionName);
      const { connection } = record;
      const plan = planSigning(request, connection.target, scope, options);
      const session = await deps.engine.obtain(actor, connection, record.version, scope);
      const region = connection.target.useBucketRegion && request.region ? request.region : connection.target.region;
      const headers = signPlannedRequest(plan, session.credentials, region, new Date(clock.now()));
      return {
        uri: plan.uri,
        headers,
        reusable: plan.reusable,
        facts: {
          connection: connectionName,
          roleArn: session.roleArn,
          sessionName: session.sessionName,
          accessKeyId: session.credentials.accessKeyId,
          bucket: plan.bucket,
          key: plan.key,
          method: plan.method,
          operation: plan.operation,
          reusable: plan.reusable,
          objects: plan.objects,
        },
      };
    },

    /**
     * A presigned GET or PUT URL for one object, valid 1–3600 s and never beyond the role session's expiry. The
     * same checks as {@link sign} apply (PUT needs a writable scope).
     */
    async presign(actor: Principal, connectionName: string, request: PresignRequest): Promise<PresignedUrl> {
      const { record, scope } = await admitted(actor, connectionName);
      const { connection } = record;
      const method = request.method ?? 'GET';
      const fullKey = resolveObjectKey(scope, request.key);
      const plan = planSigning(
        { method, uri: objectUri(connection, fullKey), headers: {}, region: connection.target.region },
        connection.target,
        scope,
      );
      const asked = request.expiresSeconds ?? DEFAULT_PRESIGN_SECONDS;
      // Bounds first, so a bad expiry costs no role session.
      presignExpiry(asked, clock.now(), undefined);
      const session = await deps.engine.obtain(actor, connection, record.version, scope);
      const now = clock.now();
      const expiresSeconds = presignExpiry(asked, now, session.credentials.expiration);
      const url = presignPlannedRequest(
        plan,
        session.credentials,
        connection.target.region,
        new Date(now),
        expiresSeconds,
      );
      return {
        url,
        method,
        expiresSeconds,
        expiresAt: new Date(Math.floor(now / 1000) * 1000 + expiresSeconds * 1000).toISOString(),
        bucket: plan.bucket,
        key: fullKey,
        facts: {
          connection: connectionName,
          roleArn: session.roleArn,
          sessionName: session.sessionName,
          accessKeyId: session.credentials.accessKeyId,
          bucket: plan.bucket,
          key: fullKey,
          method,
          operation: method === 'GET' ? 'GetObject' : 'PutObject',
        },
      };
    },
  };
}
