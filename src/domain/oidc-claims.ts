/**
 * What an identity provider's verified ID token says about a user, in rolegate's words. Pure: no I/O.
 * Claim names are configurable because providers differ (Keycloak `preferred_username` and `groups`,
 * Entra `preferred_username` and `groups`/`roles`, Okta `groups`, AWS-style `https://aws.amazon.com/roles`).
 */
import { isRoleArn } from './role-arn.js';

const USERNAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;
const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface OidcClaimNames {
  readonly username: string;
  readonly groups: string;
  readonly roles: string;
}

export interface FederatedIdentity {
  readonly subject: string;
  readonly username: string;
  /** Valid rolegate group names only; others (e.g. Keycloak's `/a/b` paths) are left out, not an error. */
  readonly groups: readonly string[];
  /** IAM role ARNs only; anything else in the claim is ignored. */
  readonly roleArns: readonly string[];
}

/** Why a verified token still cannot sign anyone in. */
export type ClaimProblem = 'no_subject' | 'no_username' | 'invalid_username';

/** A claim that holds a list: a string array, or a single string for a list of one. */
function stringList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** Maps verified claims to a federated identity, or says which required claim is missing or unusable. */
export function federatedIdentityOf(
  claims: Readonly<Record<string, unknown>>,
  names: OidcClaimNames,
): { ok: true; identity: FederatedIdentity } | { ok: false; problem: ClaimProblem } {
  const subject = claims.sub;
  if (typeof subject !== 'string' || subject === '') return { ok: false, problem: 'no_subject' };
  const raw = claims[names.username];
  if (typeof raw !== 'string' || raw.trim() === '') return { ok: false, problem: 'no_username' };
  const username = raw.trim().toLowerCase();
  if (!USERNAME.test(username)) return { ok: false, problem: 'invalid_username' };
  const groups = [...new Set(stringList(claims[names.groups]).filter((g) => GROUP_NAME.test(g)))].sort();
  const roleArns = [...new Set(stringList(claims[names.roles]).map((r) => r.trim()))].filter(isRoleArn);
  return { ok: true, identity: { subject, username, groups, roleArns } };
}
