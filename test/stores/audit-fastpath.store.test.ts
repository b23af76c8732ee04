import { describe, expect, it } from 'vitest';
import { chain, GENESIS_HASH } from '../../src/domain/audit-event.js';
import { createAuditStore } from '../../src/modules/audit/audit.store.js';
import { createFastpathStore } from '../../src/modules/fastpath/fastpath.store.js';
import { createIdentityStore } from '../../src/modules/identity/identity.store.js';
import { testDialects } from '../harness/postgres.js';
import { useStore } from './store-context.js';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-02T00:00:00.000Z';
const T2 = '2026-01-03T00:00:00.000Z';

describe.each(testDialects())('audit and fast-path stores on %s', (dialect) => {
  const store = useStore(dialect);

  it('appends chained events, reports the head, searches, pages and cuts', async () => {
    const s = createAuditStore(store.db);
    expect(await s.head()).toEqual({ seq: 0, hash: GENESIS_HASH });
    let prev = await s.head();
    const times = [T0, T1, T2];
    for (const [i, time] of times.entries()) {
      const e = chain(prev, {
        id: `e${i}`,
        time,
        actor: i === 1 ? 'bob' : 'alice',
        action: 'object.get',
        connection: 's3-sales',
        outcome: 'allowed',
        key: i === 2 ? 'data/100%_x.csv' : 'data/a.csv',
      });
      await s.append([e]);
      prev = e;
    }
    expect(await s.head()).toEqual({ seq: 3, hash: prev.hash });
    expect((await s.search({ actor: 'alice', limit: 10 })).map((e) => e.seq)).toEqual([3, 1]);
    expect((await s.search({ keyPrefix: 'data/100%_', limit: 10 })).map((e) => e.id)).toEqual(['e2']);
    expect((await s.search({ since: T1, until: T2, limit: 10 })).map((e) => e.id)).toEqual(['e1']);
    expect((await s.search({ beforeSeq: 3, limit: 1 })).map((e) => e.seq)).toEqual([2]);
    const page = await s.page(1, 10);
    expect(page.map((e) => e.seq)).toEqual([2, 3]);
    expect(page[1]).toEqual(prev);
    expect(await s.cut({ seq: 2, hash: 'h2', archivedTo: 'archive/1.jsonl' }, T2)).toBe(2);
    expect(await s.anchor()).toEqual({ seq: 2, hash: 'h2', archivedTo: 'archive/1.jsonl' });
    expect(await s.cut({ seq: 3, hash: 'h3' }, T2)).toBe(1);
    expect(await s.head()).toEqual({ seq: 3, hash: 'h3' });
  });

  it('rejects a second event with the same seq (the chain cannot fork)', async () => {
    const s = createAuditStore(store.db);
    const e = chain(await s.head(), { id: 'a', time: T0, action: 'x', outcome: 'allowed' });
    await s.append([e]);
    await expect(s.append([{ ...e, id: 'b' }])).rejects.toThrow();
  });

  it('keeps exec tokens by hash, lists, deletes per connection and when expired', async () => {
    await createIdentityStore(store.db).createUser({ id: 'u1', username: 'alice', role: 'analyst', createdAt: T0 });
    const s = createFastpathStore(store.db);
    const token = {
      id: 'x1',
      userId: 'u1',
      connection: 's3-sales',
      name: 'spark',
      prefix: 'a/',
      readOnly: true,
      durationSeconds: 900,
      createdAt: T0,
      expiresAt: T1,
    };
    await s.createExecToken(token, 'h1');
    await s.createExecToken({ ...token, id: 'x2', prefix: null, readOnly: false, expiresAt: T2 }, 'h2');
    await s.createExecToken({ ...token, id: 'x3', connection: 'other', durationSeconds: null }, 'h3');
    expect(await s.findExecTokenByHash('h1')).toEqual(token);
    expect((await s.findExecToken('x2'))?.readOnly).toBe(false);
    expect((await s.findExecToken('x3'))?.durationSeconds).toBeNull();
    expect((await s.listExecTokens('u1')).map((t) => t.id).sort()).toEqual(['x1', 'x2', 'x3']);
    expect(await s.deleteExpiredExecTokens(T1)).toBe(2);
    expect(await s.deleteExecTokensOf('u1', 's3-sales')).toBe(1);
    expect(await s.deleteExecToken('x2')).toBe(false);
  });

  it('bumps generations, records issued sessions keeping the later expiry, and revocations', async () => {
    await createIdentityStore(store.db).createUser({ id: 'u1', username: 'alice', role: 'analyst', createdAt: T0 });
    const s = createFastpathStore(store.db);
    expect(await s.generation('u1', 'c')).toBe(0);
    expect(await s.bumpGeneration('u1', 'c', T0)).toBe(1);
    expect(await s.bumpGeneration('u1', 'c', T0)).toBe(2);
    expect(await s.generation('u1', 'c')).toBe(2);
    const issued = { userId: 'u1', connection: 'c', roleArn: 'arn:r', sessionName: 'n', expiresAt: T1 };
    await s.recordIssued(issued);
    await s.recordIssued({ ...issued, expiresAt: T2 });
    await s.recordIssued({ ...issued, expiresAt: T0 });
    await s.recordIssued({ ...issued, sessionName: 'old', expiresAt: T0 });
    expect(await s.issuedSessions('u1', 'c', T0)).toEqual([{ ...issued, expiresAt: T2 }]);
    expect(await s.deleteExpiredIssued(T0)).toBe(1);
    const revocation = {
      id: 'r1',
      userId: 'u1',
      username: 'alice',
      connection: 'c',
      roleArn: 'arn:r',
      roleId: 'AROA1',
      sessionName: 'n',
      revokedBy: 'admin',
      revokedAt: T0,
      denyUntil: T2,
    };
    await s.addRevocations([]);
    await s.addRevocations([revocation, { ...revocation, id: 'r2', revokedAt: T1, denyUntil: T1 }]);
    expect((await s.activeRevocations('arn:r', T1)).map((r) => r.id)).toEqual(['r1']);
    expect((await s.listRevocations('c')).map((r) => r.id)).toEqual(['r2', 'r1']);
  });
});
