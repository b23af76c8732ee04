import { hash } from 'node:crypto';
import type { Db } from '../../db/connect.js';
import { upstreamUnavailable } from '../../errors/errors.js';
import type { SecretBox } from '../../lib/secret-box.js';

/** What a sign-in keeps between two requests, each under its own key space. */
export type LoginStateKind = 'oidc-login' | 'oidc-cli-code' | 'oidc-device' | 'saml-request' | 'saml-assertion';

/**
 * Single-use sign-in state in the shared store: a login that one instance started, any instance can finish, and
 * what one instance consumed (a state, a code, an assertion id) no instance accepts again. Keys are stored as
 * SHA-256 hashes and values sealed with the vault key (a pending login holds its PKCE verifier, a CLI code its ID
 * token), each bound to its kind and key.
 */
export interface LoginStateStore {
  /**
   * Keeps `value` under (kind, key) until `expiresAt` (epoch ms). False when the key is held already and has not
   * expired: a replay. Throws `auth.too_many_pending` past `maxLivePerKind` live entries of the kind.
   */
  put(kind: LoginStateKind, key: string, value: string, expiresAt: number, now: number): Promise<boolean>;
  /** The value, taken once: the first caller gets it and the entry is gone; later or expired, undefined. */
  take(kind: LoginStateKind, key: string, now: number): Promise<string | undefined>;
}

/** Expired entries of a kind are deleted at most this often, by whichever instance writes one next. */
const SWEEP_EVERY_MS = 60_000;
const DEFAULT_MAX_LIVE_PER_KIND = 100_000;

const keyHashOf = (key: string) => hash('sha256', key, 'hex');
const aad = (kind: LoginStateKind, keyHash: string) => `login-state:${kind}:${keyHash}`;
const iso = (ms: number) => new Date(ms).toISOString();

export function createLoginStateStore(
  db: Db,
  box: SecretBox,
  options: { maxLivePerKind?: number } = {},
): LoginStateStore {
  const maxLive = options.maxLivePerKind ?? DEFAULT_MAX_LIVE_PER_KIND;
  const sweptAt = new Map<LoginStateKind, number>();

  async function sweep(kind: LoginStateKind, now: number): Promise<void> {
    if (now - (sweptAt.get(kind) ?? Number.NEGATIVE_INFINITY) < SWEEP_EVERY_MS) return;
    sweptAt.set(kind, now);
    await db.deleteFrom('login_states').where('kind', '=', kind).where('expires_at', '<=', iso(now)).execute();
  }

  return {
    async put(kind, key, value, expiresAt, now) {
      await sweep(kind, now);
      // Unauthenticated callers start logins: a bound keeps them from filling the store (and nobody's login
      // already pending is pushed out, as an evicting cache would).
      const live = await db
        .selectFrom('login_states')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('kind', '=', kind)
        .where('expires_at', '>', iso(now))
        .executeTakeFirstOrThrow();
      if (Number(live.n) >= maxLive) {
        throw upstreamUnavailable('auth.too_many_pending', 'too many sign-ins are in progress: try again later');
      }
      const keyHash = keyHashOf(key);
      const row = { kind, key_hash: keyHash, sealed: box.seal(value, aad(kind, keyHash)), expires_at: iso(expiresAt) };
      // An expired entry under the same key gives way; a live one stays, and the caller learns it was there.
      const result = await db
        .insertInto('login_states')
        .values(row)
        .onConflict((oc) =>
          oc
            .columns(['kind', 'key_hash'])
            .doUpdateSet({ sealed: row.sealed, expires_at: row.expires_at })
            .where('login_states.expires_at', '<=', iso(now)),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    },

    async take(kind, key, now) {
      const keyHash = keyHashOf(key);
      // Deleting is taking: of two instances taking the same key at once, one gets the row and the other none.
      const row = await db
        .deleteFrom('login_states')
        .where('kind', '=', kind)
        .where('key_hash', '=', keyHash)
        .returning(['sealed', 'expires_at'])
        .executeTakeFirst();
      if (row === undefined || Date.parse(row.expires_at) <= now) return undefined;
      return box.open(row.sealed, aad(kind, keyHash));
    },
  };
}
