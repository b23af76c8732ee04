import { decideDetails, decideWrite } from '../../domain/access.js';
import type { GlueScope, Principal, RoleSession, Scope } from '../../domain/model.js';
import {
  boundedDuration,
  checkNarrowingSupported,
  type NarrowingRequest,
  narrowScope,
} from '../../domain/narrowing.js';
import { connectionScope } from '../../domain/role-session-plan.js';
import { permissionDenied } from '../../errors/errors.js';
import type { ConnectionsService } from '../connections/connections.service.js';
import type { ConnectionRecord } from '../connections/connections.store.js';
import type { CredentialEngine } from './credential-engine.js';

/** Temporary credentials as handed to a caller admitted by detailsReadableBy. */
export interface IssuedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  readonly expiration?: string | undefined;
  readonly region: string;
  readonly endpoint?: string | undefined;
  readonly forcePathStyle: boolean;
  readonly bucket: string;
  readonly prefix: string;
  readonly readOnly: boolean;
  readonly roleArn?: string | undefined;
  readonly sessionName?: string | undefined;
}

export interface CredentialsServiceDeps {
  readonly connections: Pick<ConnectionsService, 'resolveForUse'>;
  readonly engine: Pick<CredentialEngine, 'obtain'>;
  /** Shortest session a caller may ask for (STS's minimum, 900 s, unless a test backend allows less). */
  readonly minSessionSeconds?: number;
}

export type CredentialsService = ReturnType<typeof createCredentialsService>;

/** The decide → obtain part of the pipeline, shared by the credentials API and the data API. */
export function createCredentialsService(deps: CredentialsServiceDeps) {
  return {
    /**
     * Vends the role session itself (fast path). Only for users admitted by detailsReadableBy.
     * `narrowing` tightens the session policy and lifetime, never beyond the connection's.
     */
    async issue(
      actor: Principal,
      connectionName: string,
      narrowing: NarrowingRequest = {},
    ): Promise<IssuedCredentials> {
      const { connection, version } = await deps.connections.resolveForUse(actor, connectionName);
      const details = decideDetails(actor, connection);
      if (!details.allowed) {
        throw permissionDenied(details.code, details.reason, { details: { connection: connectionName } });
      }
      checkNarrowingSupported(connection, narrowing);
      const scope = narrowScope(connectionScope(connection, actor), narrowing);
      const durationSeconds =
        connection.mode === 'assume-role'
          ? boundedDuration(connection, narrowing.durationSeconds, deps.minSessionSeconds ?? 900)
          : undefined;
      const session = await deps.engine.obtain(actor, connection, version, scope, { durationSeconds });
      const c = session.credentials;
      return {
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        sessionToken: c.sessionToken,
        expiration: c.expiration?.toISOString(),
        region: connection.target.region,
        endpoint: connection.target.endpoint,
        forcePathStyle: connection.target.forcePathStyle,
        bucket: connection.target.bucket,
        prefix: scope.prefix,
        readOnly: scope.access === 'read',
        roleArn: session.roleArn,
        sessionName: session.sessionName,
      };
    },

    /** A role session for rolegate to act with on the user's behalf (slow path). */
    async sessionForData(
      actor: Principal,
      connectionName: string,
      intent: 'read' | 'write',
      /** Also grant the bound Glue database (catalog explorer and datasets kept in Glue). */
      options: { glue?: GlueScope | undefined } = {},
    ): Promise<{ record: ConnectionRecord; session: RoleSession; scope: Scope }> {
      const record = await deps.connections.resolveForUse(actor, connectionName);
      if (intent === 'write') {
        const write = decideWrite(record.connection);
        if (!write.allowed)
          throw permissionDenied(write.code, write.reason, { details: { connection: connectionName } });
      }
      const base = connectionScope(record.connection, actor);
      const scope = options.glue === undefined ? base : { ...base, glue: options.glue };
      const session = await deps.engine.obtain(actor, record.connection, record.version, scope);
      return { record, session, scope };
    },
  };
}
