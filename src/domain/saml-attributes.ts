/**
 * What a verified SAML assertion says about a user, in rolegate's words. Pure: no I/O. The AWS role attribute
 * (`https://aws.amazon.com/SAML/Attributes/Role`) carries "role-arn,provider-arn" pairs, in either order.
 */
import type { ClaimProblem, FederatedIdentity } from './oidc-claims.js';
import { isRoleArn } from './role-arn.js';

const USERNAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;
const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SAML_PROVIDER_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{0,12}:saml-provider\/[\w+=,.@-]{1,128}$/;

export interface SamlAttributeNames {
  /** An attribute name, or `nameID` for the subject's NameID. */
  readonly username: string;
  readonly groups: string;
  readonly roles: string;
}

/** A verified assertion's subject and attributes (each a string or a list of strings). */
export interface SamlAssertionFacts {
  readonly nameID: string | undefined;
  readonly attributes: Readonly<Record<string, unknown>>;
}

function stringList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/**
 * The role ARN of one value of the AWS role attribute: a "role-arn,provider-arn" pair in either order, or a
 * bare role ARN; anything else is undefined.
 */
export function roleArnOfAwsRoleValue(value: string): string | undefined {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length === 1) return isRoleArn(parts[0] ?? '') ? parts[0] : undefined;
  if (parts.length !== 2) return undefined;
  const [a = '', b = ''] = parts;
  if (isRoleArn(a) && SAML_PROVIDER_ARN.test(b)) return a;
  if (isRoleArn(b) && SAML_PROVIDER_ARN.test(a)) return b;
  return undefined;
}

/** Maps a verified assertion to a federated identity (subject: the NameID), or says what is missing. */
export function federatedIdentityOfAssertion(
  facts: SamlAssertionFacts,
  names: SamlAttributeNames,
): { ok: true; identity: FederatedIdentity } | { ok: false; problem: ClaimProblem } {
  const subject = facts.nameID;
  if (subject === undefined || subject === '') return { ok: false, problem: 'no_subject' };
  const raw = names.username === 'nameID' ? subject : stringList(facts.attributes[names.username])[0];
  if (raw === undefined || raw.trim() === '') return { ok: false, problem: 'no_username' };
  const username = raw.trim().toLowerCase();
  if (!USERNAME.test(username)) return { ok: false, problem: 'invalid_username' };
  const groups = [...new Set(stringList(facts.attributes[names.groups]).filter((g) => GROUP_NAME.test(g)))].sort();
  const roleArns = [
    ...new Set(
      stringList(facts.attributes[names.roles])
        .map(roleArnOfAwsRoleValue)
        .filter((r): r is string => r !== undefined),
    ),
  ];
  return { ok: true, identity: { subject, username, groups, roleArns } };
}
