/**
 * Entitled roles: the roles a user may pick for a rolegate session. They come from the identity provider
 * (stored at each login) and from admin properties whose value is a role ARN. Pure: no I/O.
 */
import { isRoleArn } from './role-arn.js';

/** Where an entitlement comes from: an identity provider's login, or an admin property (by name, never value). */
export type EntitlementSource =
  | { readonly kind: 'idp'; readonly provider: string }
  | { readonly kind: 'property'; readonly property: string };

export interface EntitledRole {
  readonly roleArn: string;
  /** Every source that grants the role, IdP first, then properties by name. */
  readonly sources: readonly EntitlementSource[];
}

/** A role the identity provider granted at the user's last login. */
export interface IdpRoleGrant {
  readonly roleArn: string;
  readonly provider: string;
}

/**
 * The user's entitled roles, each once, in a stable order: IdP roles as granted, then property roles by
 * property name. The first one is a new session's default role.
 */
export function entitledRoles(
  adminProperties: Readonly<Record<string, string>>,
  idpRoles: readonly IdpRoleGrant[],
): EntitledRole[] {
  const byArn = new Map<string, EntitlementSource[]>();
  const add = (roleArn: string, source: EntitlementSource) => {
    const sources = byArn.get(roleArn);
    if (sources === undefined) byArn.set(roleArn, [source]);
    else sources.push(source);
  };
  for (const grant of idpRoles) {
    if (isRoleArn(grant.roleArn)) add(grant.roleArn, { kind: 'idp', provider: grant.provider });
  }
  for (const property of Object.keys(adminProperties).sort()) {
    const value = adminProperties[property]?.trim();
    if (value !== undefined && isRoleArn(value)) add(value, { kind: 'property', property });
  }
  return [...byArn].map(([roleArn, sources]) => ({ roleArn, sources }));
}

/** Whether `roleArn` is one of the user's entitled roles (exact match: no patterns, no case folding). */
export function isEntitled(roles: readonly EntitledRole[], roleArn: string): boolean {
  return roles.some((r) => r.roleArn === roleArn);
}
