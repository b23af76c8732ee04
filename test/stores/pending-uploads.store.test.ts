import { describe, expect, it } from 'vitest';
import { createPendingUploadStore, type PendingUpload } from '../../src/modules/data/pending-uploads.store.js';
import { testDialects } from '../harness/postgres.js';
import { useStore } from './store-context.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

const upload = (id: string, extra: Partial<PendingUpload> = {}): PendingUpload => ({
  bucket: 'b',
  uploadId: id,
  key: `sales/${id}.bin`,
  origin: 'api',
  connection: 'sales',
  userId: 'u1',
  sessionId: null,
  instanceId: 'ins-a',
  createdAt: at(0),
  heartbeatAt: at(0),
  ...extra,
});

/** What `ins-b` may sweep at second 100 (holders silent for 30 s are gone; gateway uploads live 60 s). */
const query = { instanceId: 'ins-b', staleBefore: at(70), gatewayBefore: at(40), othersGone: false, limit: 100 };

describe.each(testDialects())('pending uploads store on %s', (dialect) => {
  const store = useStore(dialect);
  const uploads = () => createPendingUploadStore(store.db);
  const ids = (list: PendingUpload[]) => list.map((u) => u.uploadId).sort();

  it('adds, lists and removes records; the same upload in another bucket is another record', async () => {
    const s = uploads();
    await s.add(upload('1', { sessionId: 'ses_1' }));
    await s.add(upload('1', { bucket: 'other', origin: 'gateway', instanceId: null }));
    await expect(s.add(upload('1'))).rejects.toThrow();
    expect(await s.list()).toEqual(
      expect.arrayContaining([
        upload('1', { sessionId: 'ses_1' }),
        upload('1', { bucket: 'other', origin: 'gateway', instanceId: null }),
      ]),
    );
    await s.remove('b', '1');
    await s.remove('b', 'missing');
    expect((await s.list()).map((u) => u.bucket)).toEqual(['other']);
  });

  it("notes a client's use of its upload, from any instance, never moving it back in time", async () => {
    const s = uploads();
    await s.add(upload('g', { origin: 'gateway', instanceId: null, heartbeatAt: at(0) }));
    await s.add(upload('own', { instanceId: 'ins-a', heartbeatAt: at(0) }));
    await s.touch('b', 'g', at(30));
    await s.touch('b', 'g', at(20));
    expect(await s.lastUsed('b', 'g')).toBe(at(30));
    // Rolegate's own streamed uploads have a holder's heartbeat instead, and unknown uploads nothing.
    await s.touch('b', 'own', at(30));
    expect((await s.list()).find((u) => u.uploadId === 'own')?.heartbeatAt).toBe(at(0));
    expect(await s.lastUsed('b', 'own')).toBeUndefined();
    expect(await s.lastUsed('b', 'missing')).toBeUndefined();
  });

  it('finds abandoned user-API uploads: unheld, held by a silent instance, or (start-up) by any other', async () => {
    const s = uploads();
    await s.add(upload('mine', { instanceId: 'ins-b', heartbeatAt: at(0) }));
    await s.add(upload('live', { instanceId: 'ins-a', heartbeatAt: at(90) }));
    await s.add(upload('silent', { instanceId: 'ins-c', heartbeatAt: at(60) }));
    await s.add(upload('released', { instanceId: null, heartbeatAt: at(95) }));
    expect(ids(await s.abandoned(query))).toEqual(['released', 'silent']);
    // A heartbeat keeps what an instance holds alive.
    await s.heartbeat('ins-c', at(99));
    expect(ids(await s.abandoned(query))).toEqual(['released']);
    // At start-up on a store nobody else shares, every other holder is dead — never the sweeper's own.
    expect(ids(await s.abandoned({ ...query, othersGone: true }))).toEqual(['live', 'released', 'silent']);
    await s.release('b', 'live');
    expect(ids(await s.abandoned(query))).toEqual(['live', 'released']);
  });

  it('finds gateway uploads only past the age bound, and not while another instance sweeps them', async () => {
    const s = uploads();
    const gw = (id: string, created: number, extra: Partial<PendingUpload> = {}) =>
      upload(id, { origin: 'gateway', instanceId: null, createdAt: at(created), heartbeatAt: at(created), ...extra });
    await s.add(gw('young', 50));
    await s.add(gw('old', 10));
    await s.add(gw('old-claimed', 10, { instanceId: 'ins-a', heartbeatAt: at(95) }));
    await s.add(gw('old-claim-died', 10, { instanceId: 'ins-a', heartbeatAt: at(20) }));
    expect(ids(await s.abandoned(query))).toEqual(['old', 'old-claim-died']);
    expect(ids(await s.abandoned({ ...query, othersGone: true }))).toEqual(['old', 'old-claim-died', 'old-claimed']);
    expect(ids(await s.abandoned({ ...query, limit: 1 }))).toHaveLength(1);
  });

  it('lets exactly one of two sweepers claim a record (compare-and-set on holder and heartbeat)', async () => {
    const s = uploads();
    await s.add(upload('x', { instanceId: null }));
    const [seen] = await s.abandoned(query);
    if (seen === undefined) throw new Error('not found');
    const claims = await Promise.all([s.claim(seen, 'ins-b', at(100)), s.claim(seen, 'ins-c', at(100))]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    const [after] = await s.list();
    expect(after?.instanceId).toBe(claims[0] ? 'ins-b' : 'ins-c');
    expect(after?.heartbeatAt).toBe(at(100));
    // A stale read no longer claims: the record changed since.
    expect(await s.claim(seen, 'ins-d', at(101))).toBe(false);
    // Held by a live sweeper, it is not abandoned for the others.
    expect(await s.abandoned({ ...query, instanceId: 'ins-d' })).toEqual([]);
  });
});
