import { describe, expect, it } from 'vitest';
import { sharedStsLedger } from '../../src/modules/cluster/sts-budget.store.js';
import { testDialects } from '../harness/postgres.js';
import { useStore } from './store-context.js';

const settings = { perSecond: 2, burst: 3, maxWaitMs: 1_000 };
const T0 = 1_800_000_000_000;

describe.each(testDialects())('shared STS budget on %s', (dialect) => {
  const store = useStore(dialect);

  it('is one bucket for every instance: a burst, then calls spaced at the rate, then refusals', async () => {
    // Two instances, each with its own ledger on the one store.
    const a = sharedStsLedger(store.db, settings);
    const b = sharedStsLedger(store.db, settings);
    const waits = [
      await a.reserve('AKIAMASTER', T0),
      await b.reserve('AKIAMASTER', T0),
      await a.reserve('AKIAMASTER', T0),
      // The burst is spent: each next call waits half a second more, up to the bound.
      await b.reserve('AKIAMASTER', T0),
      await a.reserve('AKIAMASTER', T0),
      await b.reserve('AKIAMASTER', T0),
    ];
    expect(waits).toEqual([0, 0, 0, 500, 1000, undefined]);
    // Another master identity has its own bucket; time refills this one.
    expect(await b.reserve('AKIAOTHER', T0)).toBe(0);
    // 1.5 s later, three tokens came back to the two owed: one is free, the next waits again.
    expect(await a.reserve('AKIAMASTER', T0 + 1_500)).toBe(0);
    expect(await b.reserve('AKIAMASTER', T0 + 1_500)).toBe(500);
    // The master's access key id is not stored as such.
    const rows = await store.db.selectFrom('sts_budgets').selectAll().execute();
    expect(rows).toHaveLength(2);
    expect(JSON.stringify(rows)).not.toContain('AKIA');
  });

  it('hands out each token once to concurrent callers', async () => {
    const ledgers = [sharedStsLedger(store.db, settings), sharedStsLedger(store.db, settings)];
    const waits = await Promise.all(Array.from({ length: 8 }, (_, i) => ledgers[i % 2]?.reserve('AKIACONCURRENT', T0)));
    // Three at once, then 500 and 1000 ms; three refused: no token taken twice, none lost.
    expect(waits.filter((w) => w === 0)).toHaveLength(3);
    expect(waits.filter((w) => w !== undefined && w > 0).sort()).toEqual([1000, 500]);
    expect(waits.filter((w) => w === undefined)).toHaveLength(3);
  });
});
