import { hash } from 'node:crypto';
import { type Db, dialectOf } from '../../db/connect.js';
import { type StsBudgetLedger, type StsBudgetSettings, takeToken } from '../credentials/sts-budget.js';

/**
 * The STS budget's buckets in the store every instance shares: together the instances stay within the account's
 * quota, however the load spreads over them (each with its own buckets would allow N times the rate). One
 * transaction per STS call, which the role-session cache makes rare; the row is locked while its tokens change.
 */
export function sharedStsLedger(db: Db, settings: StsBudgetSettings): StsBudgetLedger {
  const locks = dialectOf(db) === 'postgres';
  return {
    async reserve(identity, now) {
      // The access key id is no secret, but the table need not name the master identity either.
      const key = hash('sha256', identity, 'hex');
      return db.transaction().execute(async (tx) => {
        await tx
          .insertInto('sts_budgets')
          .values({ identity_hash: key, tokens: settings.burst, updated_ms: now })
          .onConflict((oc) => oc.column('identity_hash').doNothing())
          .execute();
        const query = tx.selectFrom('sts_budgets').select(['tokens', 'updated_ms']).where('identity_hash', '=', key);
        // SQLite has one writer at a time already; PostgreSQL locks the row until the transaction ends.
        const row = await (locks ? query.forUpdate() : query).executeTakeFirstOrThrow();
        const taken = takeToken(settings, { tokens: Number(row.tokens), updatedAt: Number(row.updated_ms) }, now);
        if (taken === undefined) return undefined;
        await tx
          .updateTable('sts_budgets')
          .set({ tokens: taken.tokens, updated_ms: taken.updatedAt })
          .where('identity_hash', '=', key)
          .execute();
        return taken.waitMs;
      });
    },
  };
}
