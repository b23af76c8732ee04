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
  /** Direct SAML: keeps a session's SAML response (base64) and its role → provider ARNs, sealed like ID tokens. */
  putSessionSamlAssertion(sessionId: string, assertion: SessionSamlAssertion, expiresAt: string): Promise<void>;
  /** The session's SAML response, or undefined when it has none (OIDC, brokered, API token) or it expired. */
  sessionSamlAssertion(sessionId: string, now: number): Promise<SessionSamlAssertion | undefined>;
}

/** What direct SAML needs of a login: the IdP's base64 response and, per entitled role, its provider ARN. */
export interface SessionSamlAssertion {
  readonly samlResponse: string;
  readonly providerArns: Readonly<Record<string, string>>;
}

const aad = (sessionId: string) => `session-web-identity:${sessionId}`;
/** Another associated data than ID tokens': a sealed SAML response never opens as an ID token, nor the reverse. */
const samlAad = (sessionId: string) => `session-saml:${sessionId}`;

export function createOidcStore(db: Db, box: SecretBox): OidcStore {
  async function put(sessionId: string, sealed: string, expiresAt: string) {
    await db
      .insertInto('session_web_identities')
      .values({ session_id: sessionId, sealed_token: sealed, expires_at: expiresAt })
      .onConflict((oc) => oc.column('session_id').doUpdateSet({ sealed_token: sealed, expires_at: expiresAt }))
      .execute();
  }
  async function sealedOf(sessionId: string, now: number) {
    const row = await db
      .selectFrom('session_web_identities')
      .select(['sealed_token', 'expires_at'])
      .where('session_id', '=', sessionId)
      .executeTakeFirst();
    return row === undefined || Date.parse(row.expires_at) <= now ? undefined : row.sealed_token;
  }
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
      await put(sessionId, box.seal(idToken, aad(sessionId)), expiresAt);
    },
    async sessionIdToken(sessionId, now) {
      const sealed = await sealedOf(sessionId, now);
      return sealed === undefined ? undefined : box.open(sealed, aad(sessionId));
    },
    async putSessionSamlAssertion(sessionId, assertion, expiresAt) {
      await put(sessionId, box.seal(JSON.stringify(assertion), samlAad(sessionId)), expiresAt);
    },
    async sessionSamlAssertion(sessionId, now) {
      const sealed = await sealedOf(sessionId, now);
      if (sealed === undefined) return undefined;
      let opened: string;
      try {
        opened = box.open(sealed, samlAad(sessionId));
      } catch {
        return undefined; // an OIDC session's ID token: not a SAML assertion
      }
      return JSON.parse(opened) as SessionSamlAssertion;
    },
  };
}
