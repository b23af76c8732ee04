/**
 * Revoking role sessions before they expire. A role session cannot be cancelled at STS; instead the role
 * gets an inline policy that denies S3 to exactly the revoked sessions, identified by `aws:userid`
 * (`<RoleId>:<RoleSessionName>`). Measured on Ceph RGW 16 (FEDERATION-AND-REVOCATION.md, part B): the deny
 * applies to live sessions at once, covers every bucket, and leaves other sessions of the role alone; AWS
 * IAM evaluates the same key the same way. The match is on the session *name*, so a revoked name must never
 * be issued again: the session name carries a generation that revocation bumps.
 */
import { invalidInput } from '../errors/errors.js';
import { toSessionName } from './session-name.js';

/** The inline role policy rolegate owns; other inline policies of the role are never touched. */
export const REVOCATION_POLICY_NAME = 'rolegate-revoked-sessions';

/** AWS IAM's limit on the inline policies of one role (characters, whitespace excluded). */
export const MAX_ROLE_POLICY_CHARS = 10_240;

/** One revoked role session, as `aws:userid` sees it. */
export interface RevokedSession {
  /** The role's unique id (RoleId from IAM GetRole; a UUID on Ceph RGW, `AROA…` on AWS). */
  readonly roleId: string;
  readonly sessionName: string;
}

/**
 * The session name of generation `generation` of a rendered name template: generation 0 is the name
 * itself (`rg-s3-sales-for-alice`), later ones end in `-r<N>`. Always a valid RoleSessionName; names cut
 * for length keep a hash of the full name, so generations stay distinct.
 */
export function sessionNameForGeneration(rendered: string, generation: number): string {
  return toSessionName(generation > 0 ? `${rendered}-r${generation}` : rendered);
}

/**
 * The inline role policy that denies every S3 action to `sessions`, or `null` when there is nothing to deny
 * (the policy should then be deleted).
 *
 * @throws RolegateError `revocation.policy_too_large` when the list no longer fits IAM's limit.
 */
export function buildRevocationPolicy(sessions: readonly RevokedSession[]): string | null {
  const userIds = [...new Set(sessions.map((s) => `${s.roleId}:${s.sessionName}`))].sort();
  if (userIds.length === 0) return null;
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'RolegateRevokedSessions',
        Effect: 'Deny',
        Action: 's3:*',
        Resource: '*',
        Condition: { StringEquals: { 'aws:userid': userIds } },
      },
    ],
  });
  if (policy.length > MAX_ROLE_POLICY_CHARS) {
    throw invalidInput(
      'revocation.policy_too_large',
      `Too many unexpired revoked sessions on one role (${userIds.length}) to deny them in an inline policy; ` +
        'wait for older ones to expire or rotate the role',
    );
  }
  return policy;
}
