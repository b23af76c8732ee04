import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/lib/secret-box.js';
import { createLoginStateStore } from '../../src/modules/federation/login-state.store.js';
import { testDialects } from '../harness/postgres.js';
import { useStore } from './store-context.js';

const NOW = Date.parse('2026-06-01T12:00:00.000Z');
const MINUTE = 60_000;

describe.each(testDialects())('sign-in state store on %s', (dialect) => {
  const store = useStore(dialect);
  const box = new SecretBox(randomBytes(32));

  it('hands a value out once, to the first taker, and never after it expired', async () => {
    const states = createLoginStateStore(store.db, box);
    expect(await states.put('oidc-login', 'state-1', 'verifier-1', NOW + 10 * MINUTE, NOW)).toBe(true);
    expect(await states.put('oidc-login', 'state-2', 'verifier-2', NOW + MINUTE, NOW)).toBe(true);
    // Two instances taking the same state at once: one gets it.
    const [first, second] = await Promise.all([
      states.take('oidc-login', 'state-1', NOW),
      states.take('oidc-login', 'state-1', NOW),
    ]);
    expect([first, second].sort()).toEqual(['verifier-1', undefined].sort());
    expect(await states.take('oidc-login', 'state-1', NOW)).toBeUndefined();
    expect(await states.take('oidc-login', 'state-2', NOW + 2 * MINUTE)).toBeUndefined();
    // Kinds are separate key spaces.
    await states.put('oidc-cli-code', 'same-key', 'a code', NOW + MINUTE, NOW);
    expect(await states.take('saml-request', 'same-key', NOW)).toBeUndefined();
    expect(await states.take('oidc-cli-code', 'same-key', NOW)).toBe('a code');
  });

  it('says when a key is held already (a replay), and lets an expired one be reused', async () => {
    const states = createLoginStateStore(store.db, box);
    expect(await states.put('saml-assertion', '_assertion-1', '', NOW + MINUTE, NOW)).toBe(true);
    expect(await states.put('saml-assertion', '_assertion-1', '', NOW + MINUTE, NOW + 1000)).toBe(false);
    expect(await states.put('saml-assertion', '_assertion-1', 'again', NOW + 5 * MINUTE, NOW + 2 * MINUTE)).toBe(true);
    expect(await states.take('saml-assertion', '_assertion-1', NOW + 2 * MINUTE)).toBe('again');
  });

  it('keeps neither key nor value readable in the database, and refuses a row moved to another key', async () => {
    const states = createLoginStateStore(store.db, box);
    await states.put('oidc-cli-code', 'the-one-time-code', 'eyJ.id-token.sig', NOW + MINUTE, NOW);
    await states.put('oidc-cli-code', 'another-code', 'eyJ.other-token.sig', NOW + MINUTE, NOW);
    const rows = await store.db.selectFrom('login_states').selectAll().execute();
    const raw = JSON.stringify(rows);
    expect(raw).not.toContain('the-one-time-code');
    expect(raw).not.toContain('id-token');
    // A sealed value copied onto another key's row does not open there.
    const keyHash = (key: string) => createHash('sha256').update(key).digest('hex');
    const sealedOne = rows.find((r) => r.key_hash === keyHash('the-one-time-code'))?.sealed;
    expect(sealedOne).toBeDefined();
    await store.db
      .updateTable('login_states')
      .set({ sealed: sealedOne ?? '' })
      .where('key_hash', '=', keyHash('another-code'))
      .execute();
    await expect(states.take('oidc-cli-code', 'another-code', NOW)).rejects.toThrow();
    expect(await states.take('oidc-cli-code', 'the-one-time-code', NOW)).toBe('eyJ.id-token.sig');
  });

  it('refuses new entries past its bound of live ones, and counts expired ones out', async () => {
    const states = createLoginStateStore(store.db, box, { maxLivePerKind: 3 });
    for (const key of ['a', 'b', 'c']) await states.put('oidc-login', key, key, NOW + MINUTE, NOW);
    await expect(states.put('oidc-login', 'd', 'd', NOW + MINUTE, NOW)).rejects.toMatchObject({
      code: 'auth.too_many_pending',
    });
    // Another kind has its own bound; once these expire, there is room again (and the sweep deletes them).
    expect(await states.put('saml-request', 'd', '', NOW + MINUTE, NOW)).toBe(true);
    expect(await states.put('oidc-login', 'd', 'd', NOW + 3 * MINUTE, NOW + 2 * MINUTE)).toBe(true);
    const left = await store.db.selectFrom('login_states').select('kind').where('kind', '=', 'oidc-login').execute();
    expect(left).toHaveLength(1);
  });
});
