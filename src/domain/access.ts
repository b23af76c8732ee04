/**
 * Access decisions: pure functions returning a {@link Decision}, so the same code answers real requests
 * and `explain`. Admins get no bypass: managing a connection does not admit anyone to its data.
 */
import { matchesGlob } from '../lib/glob.js';
import type { AccessRule, Connection, Principal } from './model.js';
import { roleArnProblem } from './role-arn.js';

/** Allowed, or denied with a stable code and a human reason that names the rule (never a secret). */
export type Decision = { allowed: true } | { allowed: false; code: string; reason: string };

const ALLOWED: Decision = Object.freeze({ allowed: true });
const NOBODY: AccessRule = Object.freeze({ kind: 'nobody' });

function deny(code: string, reason: string): Decision {
  return { allowed: false, code, reason };
}

function quoted(s: string): string {
  return JSON.stringify(s);
}

/** Whether `rule` admits `principal`: everyone, nobody, or any shared group. The user's role is not consulted. */
export function admits(rule: AccessRule, principal: Principal): boolean {
  switch (rule.kind) {
    case 'everyone':
      return true;
    case 'nobody':
      return false;
    case 'groups':
      return rule.groups.some((g) => principal.groups.includes(g));
  }
}

/** Whether `principal` may use `connection` at all (`connection.not_usable`). */
export function decideUse(principal: Principal, connection: Connection): Decision {
  if (admits(connection.usableBy, principal)) return ALLOWED;
  return deny(
    'connection.not_usable',
    `Connection ${quoted(connection.name)} is not usable by user ${quoted(principal.username)}.`,
  );
}

/**
 * Whether `principal` may receive the credential details of `connection` (the vend path); requires use first.
 * Denied with `credentials.details_not_readable` otherwise: data must then go through rolegate.
 */
export function decideDetails(principal: Principal, connection: Connection): Decision {
  const use = decideUse(principal, connection);
  if (!use.allowed) return use;
  if (admits(connection.detailsReadableBy, principal)) return ALLOWED;
  return deny(
    'credentials.details_not_readable',
    `Credential details of connection ${quoted(connection.name)} are not readable by user ` +
      `${quoted(principal.username)}; data must go through rolegate (the data API or the S3 gateway).`,
  );
}

/**
 * Whether rolegate may sign `principal`'s S3 requests for `connection` with their role session (remote signing,
 * presigned URLs); requires use first. Denied with `signing.not_allowed` otherwise. Independent of
 * detailsReadableBy: signing never hands the role session out.
 */
export function decideSigning(principal: Principal, connection: Connection): Decision {
  const use = decideUse(principal, connection);
  if (!use.allowed) return use;
  if (admits(connection.signingAllowedBy ?? NOBODY, principal)) return ALLOWED;
  return deny(
    'signing.not_allowed',
    `Connection ${quoted(connection.name)} does not sign requests for user ${quoted(principal.username)} ` +
      '(signingAllowedBy); data must go through rolegate or credentials must be readable.',
  );
}

/**
 * Whether the resolved `roleArn` may be assumed for `connection`: it must be a role ARN (`role.invalid`)
 * and match one of `allowedRoles` when any are set (`role.not_allowed`). The ARN is not quoted in the
 * reason because it may come from an admin property.
 */
export function decideRole(roleArn: string, connection: Connection): Decision {
  const problem = roleArnProblem(roleArn);
  if (problem !== null) {
    return deny(
      'role.invalid',
      `The role resolved for connection ${quoted(connection.name)} is not a valid IAM role ARN: ${problem}.`,
    );
  }
  if (connection.allowedRoles.length === 0 || connection.allowedRoles.some((p) => matchesGlob(p, roleArn))) {
    return ALLOWED;
  }
  return deny(
    'role.not_allowed',
    `The role resolved for connection ${quoted(connection.name)} is not among the connection's allowed roles.`,
  );
}

/** Whether `connection` accepts writes at all (`connection.read_only`). */
export function decideWrite(connection: Connection): Decision {
  if (!connection.readOnly) return ALLOWED;
  return deny('connection.read_only', `Connection ${quoted(connection.name)} is read-only.`);
}
