import { RolegateError } from '../errors/errors.js';
import { decideDetails, decideRole, decideSigning, decideUse, decideWrite } from './access.js';
import type { Connection, Principal } from './model.js';
import { connectionScope, planRoleSession, type RoleSessionPlan, sessionPolicyOf } from './role-session-plan.js';
import { resolveObjectKey } from './scope.js';
import { referencedProperties } from './templates.js';

export interface ExplainStep {
  readonly rule: string;
  readonly outcome: 'pass' | 'fail' | 'not-checked';
  readonly detail: string;
}

export interface Explanation {
  readonly user: string;
  readonly connection: string;
  readonly allowed: boolean;
  /** The first rule that denies, as the real request would report it. */
  readonly denial?: { readonly code: string; readonly reason: string } | undefined;
  readonly steps: readonly ExplainStep[];
  /** Names only: values of admin properties are never shown. */
  readonly propertiesUsed: readonly string[];
  readonly roleArn?: string | undefined;
  readonly sessionName?: string | undefined;
  readonly sessionPolicy?: unknown;
  readonly key?: string | undefined;
  /**
   * `fast` when credential details are readable (the user may hold the role session), else `slow`. Whether
   * rolegate also signs the user's requests is the `signing allowed by` step.
   */
  readonly path: 'fast' | 'slow' | 'none';
}

/**
 * The whole access decision for (principal, connection[, key, write]) without touching S3 or STS, built from
 * the same functions the real pipeline runs, so that what explain says is what a request gets.
 */
export function explainAccess(
  principal: Principal,
  connection: Connection,
  options: { key?: string | undefined; write?: boolean | undefined } = {},
): Explanation {
  const steps: ExplainStep[] = [];
  const propertiesUsed = [
    ...new Set([
      ...(connection.assumeRole ? referencedProperties(connection.assumeRole.roleArn) : []),
      ...referencedProperties(connection.sessionNameTemplate),
    ]),
  ];
  const base = { user: principal.username, connection: connection.name, propertiesUsed, key: options.key };
  const deny = (rule: string, code: string, reason: string, extra: Partial<Explanation> = {}): Explanation => {
    steps.push({ rule, outcome: 'fail', detail: reason });
    return { ...base, ...extra, allowed: false, denial: { code, reason }, steps, path: 'none' };
  };

  const use = decideUse(principal, connection);
  if (!use.allowed) return deny('usable by', use.code, use.reason);
  steps.push({
    rule: 'usable by',
    outcome: 'pass',
    detail: `user "${principal.username}" may use connection "${connection.name}"`,
  });

  if (options.write === true) {
    const write = decideWrite(connection);
    if (!write.allowed) return deny('writable', write.code, write.reason);
    steps.push({ rule: 'writable', outcome: 'pass', detail: 'the connection allows writes' });
  }

  const scope = connectionScope(connection, principal);
  let fullKey: string | undefined;
  if (options.key !== undefined) {
    try {
      fullKey = resolveObjectKey(scope, options.key);
      steps.push({ rule: 'key in scope', outcome: 'pass', detail: `s3://${scope.bucket}/${fullKey}` });
    } catch (e) {
      if (e instanceof RolegateError) return deny('key in scope', e.code, e.message);
      throw e;
    }
  }

  let plan: RoleSessionPlan;
  let sessionPolicy: unknown;
  try {
    plan = planRoleSession(principal, connection, scope);
    if (plan.assume !== undefined) sessionPolicy = JSON.parse(sessionPolicyOf(plan));
  } catch (e) {
    if (e instanceof RolegateError) return deny('role', e.code, e.message);
    throw e;
  }
  if (plan.assume !== undefined) {
    const role = decideRole(plan.assume.roleArn, connection);
    steps.push({
      rule: 'role',
      outcome: role.allowed ? 'pass' : 'fail',
      detail: `resolved role ${plan.assume.roleArn} is allowed; session name ${plan.assume.sessionName}`,
    });
  } else {
    steps.push({ rule: 'role', outcome: 'not-checked', detail: `credentials mode ${connection.mode} uses no role` });
  }

  const details = decideDetails(principal, connection);
  steps.push({
    rule: 'details readable by',
    outcome: details.allowed ? 'pass' : 'fail',
    detail: details.allowed ? 'the user may receive the role session (fast path)' : details.reason,
  });
  // Remote signing is a path of its own: requests signed by rolegate, data straight to S3.
  const signing = decideSigning(principal, connection);
  steps.push({
    rule: 'signing allowed by',
    outcome: signing.allowed ? 'pass' : 'fail',
    detail: signing.allowed
      ? 'rolegate signs requests and presigns URLs for the user (remote signing)'
      : signing.reason,
  });
  return {
    ...base,
    allowed: true,
    steps,
    roleArn: plan.assume?.roleArn,
    sessionName: plan.assume?.sessionName,
    sessionPolicy,
    path: details.allowed ? 'fast' : 'slow',
  };
}
