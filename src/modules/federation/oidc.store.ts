import type { Db } from '../../db/connect.js';
import type { SecretBox } from '../../lib/secret-box.js';

/** Links of identity-provider subjects to users, and the sealed ID tokens of direct-mode sessions. */
export interface OidcStore {
  userOfSubject(issuer: string, subject: string): Promise<string | undefined>;
  linkSubject(issuer: string, subject: string, userId: string, now: string): Promise<void>;
  /** Keeps a session's ID token, sealed with the vault key and bound to the session id. */
  putSessionIdToken(sessionId: string, idToken: string, expiresAt: string): Promise<void>;
  /** The session's ID token, or undefined when it has none (brokered login, API token) or it expired. */
  sessionIdToken(sessionId: string, now: number): Promise<string | undefined>;
}

const aad = (sessionId: string) => `session-web-identity:${sessionId}`;

export function createOidcStore(db: Db, box: SecretBox): OidcStore {
  return {
    async userOfSubject(issuer, subject) {
      const row = await db
        .selectFrom('oidc_identities')
        .select('user_id')
        .where('issuer', '=', issuer)
        .where('subject', '=', subject)
        .executeTakeFirst();
      return row?.user_id;
    },
    async linkSubject(issuer, subject, userId, now) {
      await db.insertInto('oidc_identities').values({ issuer, subject, user_id: userId, created_at: now }).execute();
    },
    async putSessionIdToken(sessionId, idToken, expiresAt) {
      const sealed = box.seal(idToken, aad(sessionId));
      await db
        .insertInto('session_web_identities')
        .values({ session_id: sessionId, sealed_token: sealed, expires_at: expiresAt })
        .onConflict((oc) => oc.column('session_id').doUpdateSet({ sealed_token: sealed, expires_at: expiresAt }))
        .execute();
    },
    async sessionIdToken(sessionId, now) {
      const row = await db
        .selectFrom('session_web_identities')
        .select(['sealed_token', 'expires_at'])
        .where('session_id', '=', sessionId)
        .executeTakeFirst();
      if (row === undefined || Date.parse(row.expires_at) <= now) return undefined;
      return box.open(row.sealed_token, aad(sessionId));
    },
  };
}
