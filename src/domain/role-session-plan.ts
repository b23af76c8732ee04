import { permissionDenied } from '../errors/errors.js';
import { decideRole } from './access.js';
import type { Connection, Principal, Scope } from './model.js';
import { sessionNameForGeneration } from './revocation.js';
import { type AwsPartition, parseRoleArn } from './role-arn.js';
import { buildSessionPolicy } from './session-policy.js';
import { renderTemplate } from './templates.js';

/** Everything needed to obtain a role session, decided before any STS call. */
export interface RoleSessionPlan {
  readonly scope: Scope;
  /** Present for assume-role connections. */
  readonly assume?: {
    readonly roleArn: string;
    readonly sessionName: string;
    /** Partition of the role, for the S3 ARNs of the session policy (aws-cn, aws-us-gov). */
    readonly partition: AwsPartition;
    /** Account of the role ('' on backends without accounts), for Glue ARNs in the session policy. */
    readonly account: string;
    readonly durationSeconds: number;
    readonly externalId?: string | undefined;
  };
}

/**
 * The connection's full scope for this principal: its bucket + path, read-only when the connection is.
 * With home directories it is the principal's own home, `<path>home/<username>/` (usernames are key-safe).
 */
export function connectionScope(connection: Connection, principal?: Pick<Principal, 'username'>): Scope {
  const home = connection.homeDirectories === true;
  if (home && principal === undefined) {
    throw permissionDenied('scope.home_requires_user', `connection "${connection.name}" has home directories only`);
  }
  return {
    bucket: connection.target.bucket,
    prefix: home ? `${connection.target.pathInBucket}home/${principal?.username}/` : connection.target.pathInBucket,
    access: connection.readOnly ? 'read' : 'read-write',
  };
}

/**
 * The scope-down session policy of a plan. Kept apart from planning because building it is the costly
 * part, needed only when a session is actually issued (not on every cache hit).
 */
export function sessionPolicyOf(plan: RoleSessionPlan): string {
  return buildSessionPolicy(plan.scope, plan.assume?.partition, plan.assume?.account);
}

/** Per-session choices made before planning: the session-name generation and a shorter lifetime. */
export interface RoleSessionOptions {
  /** Bumped by each revocation of this user's sessions on this connection, so a revoked name is never reused. */
  readonly generation?: number | undefined;
  /** Already bounded by the connection's duration (see `boundedDuration`); default the connection's. */
  readonly durationSeconds?: number | undefined;
}

/**
 * Resolves the role ARN and session name templates for `principal`, checks the role against the
 * connection's allowed roles and records what the scope-down policy needs. Pure: throws typed errors, does no I/O.
 */
export function planRoleSession(
  principal: Principal,
  connection: Connection,
  scope: Scope,
  options: RoleSessionOptions = {},
): RoleSessionPlan {
  if (connection.mode !== 'assume-role' || connection.assumeRole === undefined) return { scope };
  const ctx = {
    user: principal.username,
    connection: connection.name,
    adminProperties: principal.adminProperties,
    sessionRole: principal.session?.roleArn,
  };
  const roleArn = renderTemplate(connection.assumeRole.roleArn, ctx, connection.name).trim();
  const role = decideRole(roleArn, connection);
  if (!role.allowed) {
    throw permissionDenied(role.code, role.reason, { details: { connection: connection.name } });
  }
  const sessionName = sessionNameForGeneration(
    renderTemplate(connection.sessionNameTemplate, ctx, connection.name),
    options.generation ?? 0,
  );
  return {
    scope,
    assume: {
      roleArn,
      sessionName,
      partition: parseRoleArn(roleArn).partition,
      account: parseRoleArn(roleArn).account,
      durationSeconds: options.durationSeconds ?? connection.assumeRole.durationSeconds,
      externalId: connection.assumeRole.externalId,
    },
  };
}
