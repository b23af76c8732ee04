/**
 * IAM role ARNs as accepted by AWS STS and by Ceph RGW (which leaves the account empty).
 */
import { invalidInput } from '../errors/errors.js';
import { memoized } from '../lib/memoized.js';

/** AWS partitions rolegate talks to. */
export type AwsPartition = 'aws' | 'aws-cn' | 'aws-us-gov';

/** The parts of a role ARN. `path` follows IAM: `/` when absent, otherwise `/a/b/`. */
export interface RoleArn {
  readonly partition: AwsPartition;
  /** 12 digits, or '' for Ceph RGW. */
  readonly account: string;
  readonly path: string;
  readonly name: string;
}

/** IAM's limit on a role ARN's length. */
export const MAX_ROLE_ARN_CHARS = 2048;

const PARTITIONS: readonly string[] = ['aws', 'aws-cn', 'aws-us-gov'];
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const PATH_SEGMENT = /^[\w+=,.@-]+$/;
const ACCOUNT = /^(\d{12})?$/;

type Check = { readonly ok: true; readonly arn: RoleArn } | { readonly ok: false; readonly problem: string };

function isPartition(s: string): s is AwsPartition {
  return PARTITIONS.includes(s);
}

/** Every credential request checks its resolved role ARN, which is nearly always one seen before. */
const check = memoized(checkUncached);

function checkUncached(arn: string): Check {
  const fail = (problem: string): Check => ({ ok: false, problem });
  if (arn.length > MAX_ROLE_ARN_CHARS) return fail(`it is longer than ${MAX_ROLE_ARN_CHARS} characters`);
  const [prefix, partition, service, region, account, ...rest] = arn.split(':');
  if (prefix !== 'arn' || rest.length === 0) return fail('it must look like arn:aws:iam::ACCOUNT:role/NAME');
  if (partition === undefined || !isPartition(partition)) {
    return fail('the partition must be aws, aws-cn or aws-us-gov');
  }
  if (service !== 'iam') return fail('the service must be iam');
  if (region !== '') return fail('IAM ARNs have no region');
  if (account === undefined || !ACCOUNT.test(account)) return fail('the account must be 12 digits or empty');
  const resource = rest.join(':');
  if (!resource.startsWith('role/')) return fail('the resource must start with role/');
  const segments = resource.slice('role/'.length).split('/');
  const name = segments.pop() ?? '';
  if (!ROLE_NAME.test(name)) return fail('the role name must be 1-64 characters of letters, digits and +=,.@_-');
  if (!segments.every((s) => PATH_SEGMENT.test(s))) {
    return fail('each role path segment must be non-empty letters, digits and +=,.@_-');
  }
  const path = segments.length === 0 ? '/' : `/${segments.join('/')}/`;
  return { ok: true, arn: { partition, account, path, name } };
}

/**
 * Why `arn` is not a role ARN, in words that do not quote it, or `null` when it is one.
 * For callers whose ARN may come from an admin property and so must not be echoed.
 */
export function roleArnProblem(arn: string): string | null {
  const result = check(arn);
  return result.ok ? null : result.problem;
}

/**
 * Parses `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`; ACCOUNT may be empty (Ceph RGW).
 *
 * @throws RolegateError `role_arn.invalid` naming what is wrong; the ARN is quoted truncated to 200 chars.
 */
export function parseRoleArn(arn: string): RoleArn {
  const result = check(arn);
  if (result.ok) return result.arn;
  const shown = arn.length > 200 ? `${arn.slice(0, 200)}…` : arn;
  throw invalidInput('role_arn.invalid', `Invalid role ARN ${JSON.stringify(shown)}: ${result.problem}`);
}

/** Whether `s` is a role ARN {@link parseRoleArn} accepts. */
export function isRoleArn(s: string): boolean {
  return check(s).ok;
}
