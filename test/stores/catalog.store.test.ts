import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/domain/dataset.js';
import { createCatalogStore, type DatasetWrite } from '../../src/modules/catalog/catalog.store.js';
import { testDialects } from '../harness/postgres.js';
import { useStore } from './store-context.js';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-02T00:00:00.000Z';

const dataset = (id: string, name: string, connection = 's3-sales'): Dataset => ({
  id,
  project: 'p',
  name,
  connection,
  location: `datasets/${name}/`,
  format: 'csv',
  columns: [],
  partitionColumns: ['day'],
  description: '',
  owner: 'alice',
  catalog: 'internal',
  manifest: { version: 0, files: [] },
  createdAt: T0,
  updatedAt: T0,
});

const write = (id: string, datasetId: string, state: DatasetWrite['state'], updatedAt = T0): DatasetWrite => ({
  id,
  datasetId,
  userId: 'u1',
  username: 'alice',
  mode: 'append',
  partition: { day: '2026-01-01' },
  state,
  cleaned: false,
  createdAt: T0,
  updatedAt,
});

describe.each(testDialects())('catalog store on %s', (dialect) => {
  const store = useStore(dialect);

  it('creates, finds, filters and deletes datasets; a duplicate name is a conflict', async () => {
    const s = createCatalogStore(store.db);
    await s.createDataset(dataset('d1', 'orders'));
    await s.createDataset(dataset('d2', 'events', 'other'));
    await expect(s.createDataset(dataset('d3', 'orders'))).rejects.toMatchObject({ code: 'dataset.exists' });
    expect(await s.findDataset('p', 'orders')).toEqual(dataset('d1', 'orders'));
    expect((await s.listDatasets()).map((d) => d.name)).toEqual(['events', 'orders']);
    expect((await s.listDatasets({ connection: 'other' })).map((d) => d.name)).toEqual(['events']);
    await s.setColumns('d1', [{ name: 'a', type: 'string' }], T1);
    expect((await s.findDataset('p', 'orders'))?.columns).toEqual([{ name: 'a', type: 'string' }]);
    expect(await s.deleteDataset('d2')).toBe(true);
    expect(await s.deleteDataset('d2')).toBe(false);
  });

  it('moves writes through their states, switches manifests at most once per version, keeps staged files', async () => {
    const s = createCatalogStore(store.db);
    await s.createDataset(dataset('d1', 'orders'));
    await s.createWrite(write('w1', 'd1', 'open'));
    await s.createWrite(write('w2', 'd1', 'failed'));
    await s.createWrite(write('w3', 'd1', 'open', T1));
    expect(await s.findWrite('w1')).toEqual(write('w1', 'd1', 'open'));
    // 5 GiB: beyond a 32-bit integer.
    const big = { name: 'f.csv', size: 5 * 1024 ** 3, rows: 3e9, columns: [], endsWithNewline: true };
    await s.putStagedFile('w1', { ...big, size: 1 }, T0);
    await s.putStagedFile('w1', { ...big, headerBytes: 12 }, T0);
    expect(await s.stagedFiles('w1')).toEqual([{ ...big, headerBytes: 12 }]);
    expect(await s.transitionWrite('w1', ['open'], 'committing', T0)).toBe(true);
    expect(await s.transitionWrite('w1', ['open'], 'committing', T0)).toBe(false);
    const manifest = { version: 1, files: [{ key: 'f.csv', size: 1, rows: 1, partition: {} }] };
    await s.switchManifest('d1', 0, manifest, [{ name: 'a', type: 'string' }], 'w1', T1);
    await expect(s.switchManifest('d1', 0, manifest, [], 'w1', T1)).rejects.toMatchObject({
      code: 'dataset.version_conflict',
    });
    expect((await s.findDataset('p', 'orders'))?.manifest).toEqual(manifest);
    expect((await s.findWrite('w1'))?.state).toBe('committed');
    expect((await s.leftoverWrites('d1', T1)).map((w) => w.id).sort()).toEqual(['w1', 'w2']);
    await s.markCleaned('w2', T1);
    expect((await s.leftoverWrites('d1', T1)).map((w) => w.id)).toEqual(['w1']);
    await s.deleteDataset('d1');
    expect(await s.findWrite('w1')).toBeUndefined();
  });

  it('puts, replaces and deletes Glue bindings', async () => {
    const s = createCatalogStore(store.db);
    await s.putBinding({ connection: 'c', database: 'db1', updatedAt: T0 });
    await s.putBinding({ connection: 'c', database: 'db2', region: 'eu-west-1', catalogId: '123', updatedAt: T1 });
    expect(await s.findBinding('c')).toEqual({
      connection: 'c',
      database: 'db2',
      region: 'eu-west-1',
      endpoint: undefined,
      catalogId: '123',
      updatedAt: T1,
    });
    expect(await s.deleteBinding('c')).toBe(true);
    expect(await s.findBinding('c')).toBeUndefined();
  });
});
