import { request as httpRequest } from 'node:http';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { parquetMetadata, parquetSchema } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendS3Client } from '../../src/demo/seed.js';
import type { DatabasesResponse, TablesResponse } from '../../src/modules/catalog/catalog.routes.js';
import type { DatasetResponse, WriteResponse } from '../../src/modules/catalog/datasets.routes.js';
import { credentialOf, type GlueEndpoint, startGlueEndpoint } from '../harness/glue-endpoint.js';
import { findLeaks, startTestRolegate, type TestRolegate } from '../harness/rolegate.js';

let rg: TestRolegate;
let glue: GlueEndpoint;

beforeAll(async () => {
  [rg, glue] = await Promise.all([startTestRolegate(), startGlueEndpoint()]);
});
afterAll(async () => {
  await Promise.all([rg?.close(), glue?.close()]);
});

const code = (json: unknown) => (json as { code: string }).code;
const message = (json: unknown) => (json as { message: string }).message;

async function putFile(token: string, path: string, body: Buffer | string, contentType = 'text/csv') {
  const res = await fetch(`${rg.url}${path}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body,
  });
  const text = await res.text();
  rg.bodies.push(text);
  return { status: res.status, text, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

async function readData(token: string, project: string, dataset: string, file?: string) {
  const q = file === undefined ? '' : `?file=${encodeURIComponent(file)}`;
  const res = await fetch(`${rg.url}/api/datasets/${project}/${dataset}/data${q}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') };
}

/** Keys (with admin rights on the backend, not through rolegate) under a full prefix, and pending multipart uploads. */
async function backendKeys(prefix: string): Promise<{ keys: string[]; uploads: number }> {
  const s3 = backendS3Client(rg.backend.admin, rg.backend.endpoint);
  try {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: rg.seed.bucket, Prefix: prefix }));
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: rg.seed.bucket, Prefix: prefix }));
    return { keys: (listed.Contents ?? []).map((o) => o.Key as string), uploads: uploads.Uploads?.length ?? 0 };
  } finally {
    s3.destroy();
  }
}

function parquetFile(ids: bigint[], names: string[], scores: number[]): Buffer {
  return Buffer.from(
    parquetWriteBuffer({
      columnData: [
        { name: 'id', data: ids, type: 'INT64', nullable: false },
        { name: 'name', data: names, type: 'STRING' },
        { name: 'score', data: scores, type: 'DOUBLE' },
      ],
    }),
  );
}

const Q1 = 'id,region,amount,day\n1,north,10.5,2024-01-01\n2,south,7,2024-01-02\n';
const Q2 = 'id,region,amount,day\n3,east,1.25,2024-02-01\n';

describe('a CSV dataset written and read by alice', () => {
  it('infers the schema on the first write, appends atomically and reads the files back as one CSV', async () => {
    const created = await rg.api(rg.tokens.alice, 'POST', '/api/datasets', {
      project: 'sales_proj',
      name: 'orders',
      connection: 's3-sales',
      format: 'csv',
      description: 'orders by day',
    });
    expect(created.status, created.text).toBe(201);
    expect(created.json).toMatchObject({
      location: 'sales_proj/orders/',
      locationUri: `s3://${rg.seed.bucket}/sales/sales_proj/orders/`,
      owner: 'alice',
      catalog: { kind: 'internal' },
      version: 0,
      files: [],
    });

    const first = await putFile(rg.tokens.alice, '/api/datasets/sales_proj/orders/data?file=q1.csv&mode=overwrite', Q1);
    expect(first.status, first.text).toBe(200);
    const v1 = first.json as DatasetResponse;
    expect(v1.version).toBe(1);
    expect(v1.rows).toBe(2);
    expect(v1.columns).toEqual([
      { name: 'id', type: 'bigint' },
      { name: 'region', type: 'string' },
      { name: 'amount', type: 'double' },
      { name: 'day', type: 'date' },
    ]);

    const second = await putFile(rg.tokens.alice, '/api/datasets/sales_proj/orders/data?file=q2.csv', Q2);
    expect(second.status, second.text).toBe(200);
    expect((second.json as DatasetResponse).version).toBe(2);
    expect((second.json as DatasetResponse).files).toHaveLength(2);

    const read = await readData(rg.tokens.alice, 'sales_proj', 'orders');
    expect(read.status).toBe(200);
    expect(read.type).toContain('text/csv');
    expect(read.body.toString()).toBe(`${Q1}${Q2.split('\n').slice(1).join('\n')}`);

    // The committed files sit under the location; nothing is left in staging.
    const state = await backendKeys('sales/sales_proj/orders/');
    expect(state.keys.filter((k) => k.includes('_rolegate_staging'))).toEqual([]);
    expect(state.keys).toHaveLength(2);
  });

  it('refuses an append whose values or header do not match, with a stable code, and keeps the version', async () => {
    const bad = await putFile(
      rg.tokens.alice,
      '/api/datasets/sales_proj/orders/data?file=bad.csv',
      'id,region,amount,day\n4,west,12,2024-03-01\n5,west,lots,2024-03-02\n',
    );
    expect(bad.status).toBe(400);
    expect(code(bad.json)).toBe('dataset.schema_mismatch');
    expect(message(bad.json)).toBe(
      'File "bad.csv" does not match the dataset schema: line 3, column "amount": "lots" is not a double',
    );
    const header = await putFile(
      rg.tokens.alice,
      '/api/datasets/sales_proj/orders/data?file=cols.csv',
      'id,amount,region,day\n6,1,x,2024-03-03\n',
    );
    expect(header.status).toBe(400);
    expect(code(header.json)).toBe('dataset.schema_mismatch');
    expect(message(header.json)).toContain("its header is (id, amount, region, day), the dataset's columns are");

    const after = await rg.api(rg.tokens.alice, 'GET', '/api/datasets/sales_proj/orders');
    expect((after.json as DatasetResponse).version).toBe(2);
    expect((await backendKeys('sales/sales_proj/orders/_rolegate_staging/')).keys).toEqual([]);
  });

  it('leaves the previous version intact and readable when the client dies mid-upload', async () => {
    const before = await readData(rg.tokens.alice, 'sales_proj', 'orders');
    // About 12 MiB of valid rows, so the upload is multipart (8 MiB parts) when the client goes away.
    const row = '7,north,1.5,2024-04-01\n';
    const chunk = Buffer.from(row.repeat(Math.ceil((1024 * 1024) / row.length)));
    const total = 20 * chunk.length;
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${rg.url}/api/datasets/sales_proj/orders/data?file=big.csv&mode=overwrite`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${rg.tokens.alice}`,
          'content-type': 'text/csv',
          'content-length': String(total + 21),
        },
      });
      req.on('error', () => resolve());
      req.write('id,region,amount,day\n');
      let sent = 0;
      const pump = () => {
        while (sent < 12) {
          sent++;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        // Killed mid-upload: the socket goes away without the rest of the body.
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 200);
      };
      pump();
    });
    // The server notices, aborts the upload and the write; wait for its staging folder to empty.
    let state = await backendKeys('sales/sales_proj/orders/');
    for (let i = 0; i < 50 && (state.uploads > 0 || state.keys.some((k) => k.includes('_rolegate_staging'))); i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = await backendKeys('sales/sales_proj/orders/');
    }
    expect(state.uploads).toBe(0);
    expect(state.keys.filter((k) => k.includes('_rolegate_staging'))).toEqual([]);
    expect(state.keys).toHaveLength(2);
    const after = await rg.api(rg.tokens.alice, 'GET', '/api/datasets/sales_proj/orders');
    expect((after.json as DatasetResponse).version).toBe(2);
    const read = await readData(rg.tokens.alice, 'sales_proj', 'orders');
    expect(read.body.equals(before.body)).toBe(true);
    // The interrupted write was aborted and its staging folder cleaned, not left for a sweep.
    const writes = await rg.app.db.selectFrom('dataset_writes').select(['state', 'cleaned', 'mode']).execute();
    expect(writes.filter((w) => w.mode === 'overwrite' && w.state === 'aborted' && w.cleaned === 1)).toHaveLength(1);
  });
});

describe('a partitioned Parquet dataset on s3-marketing', () => {
  const a = parquetFile([1n, 2n], ['ann', 'ben'], [0.5, 0.75]);
  const b = parquetFile([3n], ['cy'], [1]);

  it('commits several files at once, with the schema read from the Parquet footers', async () => {
    const created = await rg.api(rg.tokens.alice, 'POST', '/api/datasets', {
      project: 'mkt',
      name: 'events',
      connection: 's3-marketing',
      format: 'parquet',
      partitionColumns: ['day'],
    });
    expect(created.status, created.text).toBe(201);
    const begin = await rg.api(rg.tokens.alice, 'POST', '/api/datasets/mkt/events/writes', {
      mode: 'append',
      partition: { day: '2024-05-01' },
    });
    expect(begin.status, begin.text).toBe(201);
    const { writeId } = begin.json as WriteResponse;
    for (const [name, body] of [
      ['a.parquet', a],
      ['b.parquet', b],
    ] as const) {
      const up = await putFile(
        rg.tokens.alice,
        `/api/datasets/mkt/events/writes/${writeId}/files?file=${name}`,
        body,
        'application/vnd.apache.parquet',
      );
      expect(up.status, up.text).toBe(201);
    }
    // Before the commit, readers still see the empty version.
    expect(((await rg.api(rg.tokens.alice, 'GET', '/api/datasets/mkt/events')).json as DatasetResponse).version).toBe(
      0,
    );
    const commit = await rg.api(rg.tokens.alice, 'POST', `/api/datasets/mkt/events/writes/${writeId}/commit`);
    expect(commit.status, commit.text).toBe(200);
    const v1 = commit.json as DatasetResponse;
    expect(v1.columns).toEqual([
      { name: 'id', type: 'bigint' },
      { name: 'name', type: 'string' },
      { name: 'score', type: 'double' },
    ]);
    expect(v1.rows).toBe(3);
    expect(v1.files.map((f) => f.key)).toEqual([
      `day=2024-05-01/${writeId}-a.parquet`,
      `day=2024-05-01/${writeId}-b.parquet`,
    ]);
    expect(v1.files.every((f) => f.partition.day === '2024-05-01')).toBe(true);

    const read = await readData(rg.tokens.alice, 'mkt', 'events', v1.files[0]?.key);
    expect(read.status).toBe(200);
    expect(read.body.equals(a)).toBe(true);
    const schema = parquetSchema(parquetMetadata(read.body));
    expect(schema.children.map((c) => c.element.name)).toEqual(['id', 'name', 'score']);
    const all = await readData(rg.tokens.alice, 'mkt', 'events');
    expect(all.status).toBe(400);
  });

  it('refuses a Parquet file whose schema differs, and a file that is not Parquet', async () => {
    const other = Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'id', data: ['x'], type: 'STRING' }] }));
    const res = await putFile(
      rg.tokens.alice,
      '/api/datasets/mkt/events/data?file=c.parquet&partition=day=2024-05-02',
      other,
      'application/octet-stream',
    );
    expect(res.status).toBe(400);
    expect(code(res.json)).toBe('dataset.schema_mismatch');
    expect(message(res.json)).toContain('column "id" is string, the dataset\'s is bigint');
    const junk = await putFile(
      rg.tokens.alice,
      '/api/datasets/mkt/events/data?file=d.parquet&partition=day=2024-05-02',
      'not parquet at all',
      'application/octet-stream',
    );
    expect(junk.status).toBe(400);
    expect(code(junk.json)).toBe('dataset.file_invalid');
    expect((await backendKeys('marketing/mkt/events/_rolegate_staging/')).keys).toEqual([]);
  });

  it('is refused to bob, who has no marketing role, and hidden from his listing', async () => {
    for (const path of ['/api/datasets/mkt/events', '/api/datasets/mkt/events/data']) {
      const res = await rg.api(rg.tokens.bob, 'GET', path);
      expect(res.status).toBe(403);
      expect(code(res.json)).toBe('template.property_missing');
    }
    const write = await putFile(
      rg.tokens.bob,
      '/api/datasets/mkt/events/data?file=e.parquet&partition=day=2024-05-03',
      'x',
    );
    expect(write.status).toBe(403);
    const bobs = await rg.api(rg.tokens.bob, 'GET', '/api/datasets');
    expect((bobs.json as DatasetResponse[]).map((d) => `${d.project}.${d.name}`)).not.toContain('mkt.events');
    const alices = await rg.api(rg.tokens.alice, 'GET', '/api/datasets');
    expect((alices.json as DatasetResponse[]).map((d) => `${d.project}.${d.name}`)).toContain('mkt.events');
    const carols = await rg.api(rg.tokens.carol, 'GET', '/api/datasets');
    expect(carols.json).toEqual([]);
  });

  it('browses the internal catalog: projects as databases, datasets as tables', async () => {
    const dbs = await rg.api(rg.tokens.alice, 'GET', '/api/catalog/connections/s3-marketing/databases');
    expect(dbs.status, dbs.text).toBe(200);
    expect(dbs.json).toEqual({ catalog: 'internal', items: [{ name: 'mkt' }] });
    const tables = await rg.api(rg.tokens.alice, 'GET', '/api/catalog/connections/s3-marketing/databases/mkt/tables');
    expect((tables.json as TablesResponse).items[0]).toMatchObject({
      name: 'events',
      location: `s3://${rg.seed.bucket}/marketing/mkt/events/`,
      format: 'parquet',
      partitionKeys: [{ name: 'day', type: 'string' }],
    });
    const bob = await rg.api(rg.tokens.bob, 'GET', '/api/catalog/connections/s3-marketing/databases');
    expect(bob.status).toBe(403);
  });

  it('deletes the metadata, and with ?withData=true the files too', async () => {
    const del = await rg.api(rg.tokens.alice, 'DELETE', '/api/datasets/mkt/events?withData=true');
    expect(del.status, del.text).toBe(204);
    expect((await backendKeys('marketing/mkt/events/')).keys).toEqual([]);
    expect((await rg.api(rg.tokens.alice, 'GET', '/api/datasets/mkt/events')).status).toBe(404);
  });
});

describe('the AWS Glue catalog of a connection (Glue-protocol endpoint in the harness)', () => {
  it('keeps a Glue table in step with create, write and delete, signed with the user’s role session', async () => {
    glue.addDatabase('analytics');
    const bind = await rg.api(rg.tokens.admin, 'PUT', '/api/catalog/connections/s3-sales', {
      catalog: 'glue',
      database: 'analytics',
      region: 'eu-west-1',
      endpoint: glue.url,
    });
    expect(bind.status, bind.text).toBe(200);
    expect(
      (await rg.api(rg.tokens.alice, 'PUT', '/api/catalog/connections/s3-sales', { catalog: 'internal' })).status,
    ).toBe(403);

    // The role session rolegate uses for alice on the Glue-bound connection, as its audit trail records it (a
    // session of its own: its policy also grants the bound Glue database, so it is not the vended S3-only one).
    const sessionOfAlice = async () => {
      const res = await rg.api(
        rg.tokens.admin,
        'GET',
        '/api/audit?user=alice&connection=s3-sales&outcome=allowed&limit=1',
      );
      const [e] = (res.json as { events: Array<{ accessKeyId?: string; sessionName?: string; action: string }> })
        .events;
      expect(e?.sessionName).toBe('rg-s3-sales-for-alice');
      return { accessKeyId: e?.accessKeyId };
    };

    const created = await rg.api(rg.tokens.alice, 'POST', '/api/datasets', {
      project: 'fin',
      name: 'ledger',
      connection: 's3-sales',
      format: 'parquet',
      columns: [
        { name: 'id', type: 'bigint' },
        { name: 'name', type: 'string' },
        { name: 'score', type: 'double' },
      ],
      partitionColumns: ['day'],
      description: 'the ledger',
    });
    expect(created.status, created.text).toBe(201);
    expect(created.json).toMatchObject({ catalog: { kind: 'glue', database: 'analytics', table: 'fin_ledger' } });

    const location = `s3://${rg.seed.bucket}/sales/fin/ledger/`;
    const storage = (columns: { Name: string; Type: string }[], loc: string) => ({
      Columns: columns,
      Location: loc,
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      Compressed: false,
      NumberOfBuckets: -1,
      SerdeInfo: {
        SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
        Parameters: { 'serialization.format': '1' },
      },
      StoredAsSubDirectories: false,
      Parameters: { classification: 'parquet' },
    });
    const columns = [
      { Name: 'id', Type: 'bigint' },
      { Name: 'name', Type: 'string' },
      { Name: 'score', Type: 'double' },
    ];
    const tableInput = (version: number) => ({
      Name: 'fin_ledger',
      Description: 'the ledger',
      Owner: 'alice',
      TableType: 'EXTERNAL_TABLE',
      Parameters: {
        EXTERNAL: 'TRUE',
        classification: 'parquet',
        'rolegate.dataset': 'fin.ledger',
        'rolegate.manifest_version': String(version),
      },
      PartitionKeys: [{ Name: 'day', Type: 'string' }],
      StorageDescriptor: storage(columns, location),
    });

    const [create] = glue.calls('CreateTable');
    expect(create?.target).toBe('AWSGlue.CreateTable');
    expect(create?.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(create?.body).toEqual({ DatabaseName: 'analytics', TableInput: tableInput(0) });
    const session = await sessionOfAlice();
    const cred = credentialOf(create?.headers ?? {});
    expect(cred?.accessKeyId).toBe(session.accessKeyId);
    expect(cred?.scope).toMatch(/^\d{8}\/eu-west-1\/glue\/aws4_request$/);
    expect(create?.headers['x-amz-security-token']).toMatch(/.{100,}/);

    const write = await putFile(
      rg.tokens.alice,
      '/api/datasets/fin/ledger/data?file=p.parquet&partition=day=2024-06-01',
      parquetFile([1n], ['a'], [2]),
      'application/octet-stream',
    );
    expect(write.status, write.text).toBe(200);
    const [update] = glue.calls('UpdateTable');
    expect(update?.body).toEqual({ DatabaseName: 'analytics', TableInput: tableInput(1) });
    expect(credentialOf(update?.headers ?? {})?.accessKeyId).toBe(session.accessKeyId);
    const [partition] = glue.calls('CreatePartition');
    expect(partition?.body).toEqual({
      DatabaseName: 'analytics',
      TableName: 'fin_ledger',
      PartitionInput: {
        Values: ['2024-06-01'],
        StorageDescriptor: storage(columns, `${location}day=2024-06-01/`),
        Parameters: {},
      },
    });

    // Browsing Glue with alice's rights.
    const dbs = await rg.api(rg.tokens.alice, 'GET', '/api/catalog/connections/s3-sales/databases');
    expect(dbs.status, dbs.text).toBe(200);
    expect(dbs.json as DatabasesResponse).toEqual({
      catalog: 'glue',
      items: [{ name: 'analytics', createTime: '2024-06-01T00:00:00.000Z' }],
    });
    expect(glue.calls('GetDatabases').at(-1)?.body).toEqual({});
    const tables = await rg.api(rg.tokens.alice, 'GET', '/api/catalog/connections/s3-sales/databases/analytics/tables');
    expect(tables.status, tables.text).toBe(200);
    expect((tables.json as TablesResponse).items).toEqual([
      {
        name: 'fin_ledger',
        database: 'analytics',
        description: 'the ledger',
        owner: 'alice',
        tableType: 'EXTERNAL_TABLE',
        location,
        format: 'parquet',
        inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
        serde: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
        columns: [
          { name: 'id', type: 'bigint' },
          { name: 'name', type: 'string' },
          { name: 'score', type: 'double' },
        ],
        partitionKeys: [{ name: 'day', type: 'string' }],
        createTime: '2024-06-01T00:00:00.000Z',
        updateTime: '2024-06-01T00:01:00.000Z',
      },
    ]);
    expect(glue.calls('GetTables').at(-1)?.body).toEqual({ DatabaseName: 'analytics' });
    const missing = await rg.api(rg.tokens.alice, 'GET', '/api/catalog/connections/s3-sales/databases/nope/tables');
    expect(missing.status).toBe(404);
    expect(code(missing.json)).toBe('glue.not_found');
    // Carol has no sales role: no role session, so no Glue call at all.
    const before = glue.requests.length;
    expect((await rg.api(rg.tokens.carol, 'GET', '/api/catalog/connections/s3-sales/databases')).status).toBe(403);
    expect(glue.requests.length).toBe(before);

    const del = await rg.api(rg.tokens.alice, 'DELETE', '/api/datasets/fin/ledger?withData=true');
    expect(del.status, del.text).toBe(204);
    expect(glue.calls('DeleteTable').map((r) => r.body)).toEqual([{ DatabaseName: 'analytics', Name: 'fin_ledger' }]);
    expect(glue.databases.get('analytics')?.size).toBe(0);
  });

  it('maps a Glue denial to a clear error and leaves no dataset behind', async () => {
    // Browsing Glue uses the same Glue-bound role session as dataset writes: deny that key at the Glue side.
    const before = glue.requests.length;
    expect((await rg.api(rg.tokens.alice, 'GET', '/api/catalog/connections/s3-sales/databases')).status).toBe(200);
    const browsed = glue.requests[before];
    glue.deniedAccessKeys.add(credentialOf(browsed?.headers ?? {})?.accessKeyId ?? 'none');
    const created = await rg.api(rg.tokens.alice, 'POST', '/api/datasets', {
      project: 'fin',
      name: 'denied',
      connection: 's3-sales',
      format: 'csv',
    });
    expect(created.status).toBe(403);
    expect(code(created.json)).toBe('glue.access_denied');
    expect((await rg.api(rg.tokens.alice, 'GET', '/api/datasets/fin/denied')).status).toBe(404);
    glue.deniedAccessKeys.clear();
    await rg.api(rg.tokens.admin, 'PUT', '/api/catalog/connections/s3-sales', { catalog: 'internal' });
  });

  it('leaks no secret in logs or error bodies', () => {
    expect(findLeaks(rg, (body) => body.includes('"SecretAccessKey"'))).toEqual([]);
  });
});
