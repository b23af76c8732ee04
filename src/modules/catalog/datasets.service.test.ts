import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import type { GlueGateway } from '../../cloud/aws/glue.js';
import { connectDatabase } from '../../db/connect.js';
import type { Principal } from '../../domain/model.js';
import { upstreamUnavailable } from '../../errors/errors.js';
import { type CatalogStore, createCatalogStore } from './catalog.store.js';
import type { UserBucket } from './dataset-storage.js';
import { createDatasetsService, type DatasetsService } from './datasets.service.js';

const alice: Principal = { userId: 'u1', username: 'alice', role: 'analyst', groups: [], adminProperties: {} };
const HOUR = 60 * 60 * 1000;

/** An in-memory bucket standing in for the user's S3 view (the real one is exercised in test/e2e). */
function memoryBucket(objects: Map<string, Buffer>): UserBucket {
  const scope = { bucket: 'b', prefix: 'sales/', access: 'read-write' as const };
  return {
    connection: 's3-sales',
    record: {
      connection: {
        name: 's3-sales',
        description: '',
        target: {
          region: 'eu-west-1',
          forcePathStyle: true,
          useBucketRegion: false,
          bucket: 'b',
          pathInBucket: 'sales/',
        },
        mode: 'environment',
        usableBy: { kind: 'everyone' },
        detailsReadableBy: { kind: 'nobody' },
        allowedRoles: [],
        sessionNameTemplate: 'x',
        readOnly: false,
      },
      version: 1,
      createdAt: '',
      updatedAt: '',
    },
    session: { credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' }, scope, issuedAt: new Date(0) },
    scope,
    uri: (k) => `s3://b/sales/${k}`,
    size: async (k) => objects.get(k)?.length ?? 0,
    stream: async (k) => Readable.from([objects.get(k) ?? Buffer.alloc(0)]),
    copy: async (from, to) => void objects.set(to, objects.get(from) ?? Buffer.alloc(0)),
    delete: async (k) => void objects.delete(k),
    list: async (prefix) => [...objects.keys()].filter((k) => k.startsWith(prefix)),
    parquetFooter: async () => ({ columns: [], rows: 0 }),
  };
}

let objects: Map<string, Buffer>;
let now: number;
let store: CatalogStore;
let glueFailure: Error | undefined;
let service: DatasetsService;

beforeEach(async () => {
  objects = new Map();
  now = Date.parse('2024-06-01T00:00:00Z');
  glueFailure = undefined;
  store = createCatalogStore(await connectDatabase('sqlite::memory:'));
  const glue: Omit<GlueGateway, 'destroy'> = {
    getDatabases: async () => ({ items: [] }),
    getTables: async () => ({ items: [] }),
    getTable: async () => undefined,
    createTable: async () => undefined,
    updateTable: async () => {
      if (glueFailure) throw glueFailure;
    },
    deleteTable: async () => true,
    createPartition: async () => undefined,
  };
  service = createDatasetsService({
    store,
    storage: { open: async () => memoryBucket(objects) },
    data: {
      put: async (_actor, _connection, key, body) => {
        const chunks: Buffer[] = [];
        for await (const c of body) chunks.push(Buffer.from(c as Buffer));
        objects.set(key, Buffer.concat(chunks));
        return { key, size: objects.get(key)?.length ?? 0 };
      },
    },
    glue,
    clock: { now: () => now },
  });
  await service.create(alice, { project: 'p', name: 'd', connection: 's3-sales', format: 'csv' });
});

const csv = (text: string) => Readable.from([Buffer.from(text)]);

describe('datasets service: atomic writes', () => {
  it('cleans the staging folder of a write abandoned for an hour at the next write', async () => {
    const w = await service.beginWrite(alice, 'p', 'd', { mode: 'append' });
    await service.upload(alice, 'p', 'd', w.writeId, 'a.csv', csv('x\n1\n'), {});
    expect([...objects.keys()]).toEqual([`p/d/_rolegate_staging/${w.writeId}/a.csv`]);
    now += HOUR / 2;
    await service.beginWrite(alice, 'p', 'd', { mode: 'append' });
    expect(objects.size).toBe(1);
    now += HOUR;
    await service.beginWrite(alice, 'p', 'd', { mode: 'append' });
    expect(objects.size).toBe(0);
    expect((await store.findWrite(w.writeId))?.state).toBe('aborted');
    await expect(service.commit(alice, 'p', 'd', w.writeId)).rejects.toMatchObject({ code: 'dataset.write_closed' });
  });

  it('keeps the previous version and leaves no copies or staged files when the commit fails', async () => {
    await service.writeFile(alice, 'p', 'd', 'a.csv', csv('x\n1\n'), { mode: 'overwrite' });
    const before = [...objects.keys()];
    await store.putBinding({ connection: 's3-sales', database: 'db', updatedAt: '' });
    // Datasets created before the binding stay internal; bind one created after it.
    await service.create(alice, { project: 'p', name: 'g', connection: 's3-sales', format: 'csv' });
    glueFailure = upstreamUnavailable('glue.unavailable', 'Glue is unavailable');
    await expect(
      service.writeFile(alice, 'p', 'g', 'b.csv', csv('x\n2\n'), { mode: 'overwrite' }),
    ).rejects.toMatchObject({ code: 'glue.unavailable' });
    expect([...objects.keys()]).toEqual(before);
    expect((await service.describe(alice, 'p', 'g')).version).toBe(0);
    expect((await service.describe(alice, 'p', 'd')).version).toBe(1);
  });

  it('overwrites by replacing the files of the version and deleting the replaced ones', async () => {
    const v1 = await service.writeFile(alice, 'p', 'd', 'a.csv', csv('x\n1\n'), { mode: 'overwrite' });
    const v2 = await service.writeFile(alice, 'p', 'd', 'a.csv', csv('x\n2\n'), { mode: 'overwrite' });
    expect(v2.version).toBe(2);
    expect(v2.files.map((f) => f.key)).not.toEqual(v1.files.map((f) => f.key));
    expect([...objects.keys()]).toEqual(v2.files.map((f) => `p/d/${f.key}`));
  });
});
