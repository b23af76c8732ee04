import { S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectDatabase, type Db } from '../../db/connect.js';
import type { Connection, Principal, Scope } from '../../domain/model.js';
import { DEFAULT_SESSION_NAME_TEMPLATE } from '../../domain/model.js';
import type { AuditInput } from '../audit/audit-trail.js';
import { createPendingUploadsService } from './pending-uploads.service.js';
import { createPendingUploadStore, type PendingUpload, type PendingUploadStore } from './pending-uploads.store.js';

const T0 = Date.UTC(2030, 0, 1, 12);
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
const scope: Scope = { bucket: 'b', prefix: 'p/', access: 'read-write' };

const alice: Principal = { userId: 'u-alice', username: 'alice', role: 'analyst', groups: [], adminProperties: {} };

const connection: Connection = {
  name: 'sales',
  description: '',
  target: {
    region: 'us-east-1',
    endpoint: 'http://rgw.example:8000',
    forcePathStyle: true,
    useBucketRegion: false,
    bucket: 'b',
    pathInBucket: 'p/',
  },
  mode: 'keypair',
  usableBy: { kind: 'everyone' },
  detailsReadableBy: { kind: 'everyone' },
  allowedRoles: [],
  sessionNameTemplate: DEFAULT_SESSION_NAME_TEMPLATE,
  readOnly: false,
};

/** An S3 client that answers AbortMultipartUpload itself (`answer`) and records what it was asked. */
function fakeS3(answer: () => Error | undefined) {
  const aborts: Array<{ Bucket?: string; Key?: string; UploadId?: string }> = [];
  const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'AKFAKE', secretAccessKey: 'x' } });
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      if (context.commandName !== 'AbortMultipartUploadCommand') throw new Error(`unexpected ${context.commandName}`);
      aborts.push(args.input as { Bucket?: string; Key?: string; UploadId?: string });
      const error = answer();
      if (error !== undefined) throw error;
      return { output: { $metadata: {} }, response: {} };
    },
    { step: 'initialize', name: 'fakeS3' },
  );
  return { client, aborts };
}

const s3Error = (name: string, status: number) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

let db: Db;
let store: PendingUploadStore;
let now: number;
let answer: Error | undefined;
let owners: Map<string, Principal>;
let events: AuditInput[];
let s3: ReturnType<typeof fakeS3>;

beforeEach(async () => {
  now = T0;
  answer = undefined;
  owners = new Map([[alice.userId, alice]]);
  events = [];
  db = await connectDatabase('sqlite::memory:');
  store = createPendingUploadStore(db);
  s3 = fakeS3(() => answer);
});
afterEach(async () => {
  s3.client.destroy();
  await db.destroy();
});

function service(options: { exclusiveStore?: boolean; instanceId?: string } = {}) {
  return createPendingUploadsService({
    store,
    credentials: {
      sessionForData: async (actor) => ({
        record: { connection, version: 1, createdAt: '', updatedAt: '' },
        session: {
          credentials: { accessKeyId: 'AKFAKE', secretAccessKey: 'x' },
          scope,
          sessionName: `rg-sales-for-${actor.username}`,
          issuedAt: new Date(now),
        },
        scope,
      }),
    },
    s3: { clientForBucket: async () => s3.client },
    owners: { principalOf: async (userId) => owners.get(userId) },
    trail: {
      record: async (input) => {
        events.push(input);
        return { ...input, id: 'e', time: iso(now), seq: events.length, prevHash: '', hash: '' };
      },
    },
    clock: { now: () => now },
    logger: { warn: () => undefined, info: () => undefined },
    instanceId: options.instanceId ?? 'ins-new',
    exclusiveStore: options.exclusiveStore ?? true,
    sweepIntervalMs: 2 * MIN,
    gatewayMaxAgeMs: 24 * 60 * MIN,
  });
}

const record = (id: string, extra: Partial<PendingUpload> = {}): PendingUpload => ({
  bucket: 'b',
  uploadId: id,
  key: `p/${id}.bin`,
  origin: 'api',
  connection: 'sales',
  userId: alice.userId,
  sessionId: null,
  instanceId: 'ins-old',
  createdAt: iso(now - MIN),
  heartbeatAt: iso(now - MIN),
  ...extra,
});

const left = async () => (await store.list()).map((u) => u.uploadId).sort();

describe('pending uploads sweep', () => {
  it('at start-up aborts, as its owner, every user-API upload a dead run left, and old gateway uploads only', async () => {
    await store.add(record('api-dead', { heartbeatAt: iso(now - 1000) }));
    await store.add(record('gw-young', { origin: 'gateway', instanceId: null, createdAt: iso(now - 60 * MIN) }));
    await store.add(record('gw-old', { origin: 'gateway', instanceId: null, createdAt: iso(now - 25 * 60 * MIN) }));
    const swept = await service().sweep();
    expect(swept.map((s) => [s.key, s.outcome]).sort()).toEqual([
      ['p/api-dead.bin', 'aborted'],
      ['p/gw-old.bin', 'aborted'],
    ]);
    expect(s3.aborts.map((a) => [a.Bucket, a.Key, a.UploadId]).sort()).toEqual([
      ['b', 'p/api-dead.bin', 'api-dead'],
      ['b', 'p/gw-old.bin', 'gw-old'],
    ]);
    expect(await left()).toEqual(['gw-young']);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      action: 'upload.sweep_abort',
      actor: 'alice',
      outcome: 'allowed',
      connection: 'sales',
      bucket: 'b',
      details: { trigger: 'start-up' },
    });
  });

  it('on a shared store, leaves another instance’s uploads while its heartbeat lasts', async () => {
    await store.add(record('other-live', { instanceId: 'ins-other', heartbeatAt: iso(now - MIN) }));
    await store.add(record('other-silent', { instanceId: 'ins-gone', heartbeatAt: iso(now - 7 * MIN) }));
    const swept = await service({ exclusiveStore: false }).sweep();
    expect(swept.map((s) => s.key)).toEqual(['p/other-silent.bin']);
    expect(await left()).toEqual(['other-live']);
  });

  it('never sweeps the uploads this instance streams, and keeps them alive with its heartbeat', async () => {
    const pending = service({ instanceId: 'ins-me', exclusiveStore: false });
    await pending.started({
      origin: 'api',
      bucket: 'b',
      uploadId: 'mine',
      key: 'p/mine.bin',
      connection: 'sales',
      actor: alice,
    });
    now += 60 * MIN;
    expect(await pending.sweep()).toEqual([]);
    expect((await store.list())[0]?.heartbeatAt).toBe(iso(now));
    // Another instance sees a live holder; once this one has let go, the upload is anybody's to abort.
    expect(await service({ instanceId: 'ins-other', exclusiveStore: false }).sweep()).toEqual([]);
    await pending.abandon('b', 'mine');
    expect((await service({ instanceId: 'ins-other', exclusiveStore: false }).sweep()).map((s) => s.outcome)).toEqual([
      'aborted',
    ]);
  });

  it('keeps an upload S3 could not abort for the next sweep, and counts one already gone as aborted', async () => {
    await store.add(record('flaky'));
    const pending = service();
    answer = s3Error('ServiceUnavailable', 503);
    expect((await pending.sweep()).map((s) => [s.outcome, s.reasonCode])).toEqual([['retry', 's3.unavailable']]);
    expect(events.at(-1)).toMatchObject({ outcome: 'error', reasonCode: 's3.unavailable' });
    expect(await left()).toEqual(['flaky']);
    // Its client (or another instance) aborted it meanwhile: NoSuchUpload is the end of it too.
    answer = s3Error('NoSuchUpload', 404);
    expect((await pending.sweep()).map((s) => s.outcome)).toEqual(['aborted']);
    expect(events.at(-1)).toMatchObject({ outcome: 'allowed', details: { trigger: 'periodic' } });
    expect(await left()).toEqual([]);
  });

  it('gives up, audited, when the owner is gone or the upload lies outside the connection as it is now', async () => {
    await store.add(record('orphan', { userId: 'u-deleted' }));
    await store.add(record('moved', { key: 'old-path/moved.bin' }));
    const swept = await service().sweep();
    expect(swept.map((s) => [s.key, s.outcome, s.reasonCode]).sort()).toEqual([
      ['old-path/moved.bin', 'given-up', 'upload.out_of_scope'],
      ['p/orphan.bin', 'given-up', 'upload.owner_gone'],
    ]);
    // No role session was widened and no S3 call made for either.
    expect(s3.aborts).toEqual([]);
    expect(events.map((e) => e.outcome)).toEqual(['denied', 'denied']);
    expect(await left()).toEqual([]);
  });

  it('reports a store that cannot record an upload as store.unavailable; forgetting never throws', async () => {
    const pending = service();
    await db.destroy();
    await expect(
      pending.started({ origin: 'gateway', bucket: 'b', uploadId: 'u', key: 'p/u', connection: 'sales', actor: alice }),
    ).rejects.toMatchObject({ code: 'store.unavailable', kind: 'UpstreamUnavailable' });
    await expect(pending.finished('b', 'u')).resolves.toBeUndefined();
    await expect(pending.abandon('b', 'u')).resolves.toBeUndefined();
    db = await connectDatabase('sqlite::memory:');
  });
});
