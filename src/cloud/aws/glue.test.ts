import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialOf, type GlueEndpoint, startGlueEndpoint } from '../../../test/harness/glue-endpoint.js';
import { glueTableInput } from '../../domain/glue-table.js';
import { RolegateError } from '../../errors/errors.js';
import { createGlueGateway, type GlueTarget } from './glue.js';

let endpoint: GlueEndpoint;
const gateway = createGlueGateway({ timeoutMs: 2000, maxAttempts: 2, baseDelayMs: 1 });
let target: GlueTarget;

beforeAll(async () => {
  endpoint = await startGlueEndpoint();
  endpoint.addDatabase('lake');
  target = {
    region: 'eu-central-1',
    endpoint: endpoint.url,
    catalogId: '123456789012',
    credentials: { accessKeyId: 'ASIAROLESESSION', secretAccessKey: 'not-a-real-secret', sessionToken: 'tok/en+=' },
    connection: 's3-sales',
  };
});
afterAll(async () => {
  await endpoint.close();
});

const input = glueTableInput(
  {
    id: 'i',
    project: 'p',
    name: 'd',
    connection: 's3-sales',
    location: 'p/d/',
    format: 'parquet',
    columns: [{ name: 'id', type: 'bigint' }],
    partitionColumns: [],
    description: '',
    owner: 'alice',
    catalog: 'glue',
    manifest: { version: 0, files: [] },
    createdAt: '',
    updatedAt: '',
  },
  's3://b/p/d/',
);

describe('the Glue gateway on the wire', () => {
  it('sends JSON 1.1 requests with X-Amz-Target, signed with the role session', async () => {
    await gateway.createTable(target, 'lake', input);
    const [req] = endpoint.calls('CreateTable');
    expect(req?.target).toBe('AWSGlue.CreateTable');
    expect(req?.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(req?.body).toEqual({ CatalogId: '123456789012', DatabaseName: 'lake', TableInput: input });
    expect(credentialOf(req?.headers ?? {})).toEqual({
      accessKeyId: 'ASIAROLESESSION',
      scope: expect.stringMatching(/^\d{8}\/eu-central-1\/glue\/aws4_request$/),
    });
    expect(req?.headers['x-amz-security-token']).toBe('tok/en+=');
    expect(String(req?.headers.authorization)).toMatch(/SignedHeaders=[^,]*x-amz-target/);
  });

  it('updates, reads, lists and deletes tables; a missing table is not an error on delete', async () => {
    await gateway.updateTable(target, 'lake', { ...input, Description: 'new' });
    expect(endpoint.calls('UpdateTable')[0]?.body).toEqual({
      CatalogId: '123456789012',
      DatabaseName: 'lake',
      TableInput: { ...input, Description: 'new' },
    });
    const table = await gateway.getTable(target, 'lake', 'p_d');
    expect(table).toMatchObject({ name: 'p_d', database: 'lake', location: 's3://b/p/d/', classification: 'parquet' });
    expect(table?.createTime).toBe('2024-06-01T00:00:00.000Z');
    expect((await gateway.getTables(target, 'lake')).items.map((t) => t.name)).toEqual(['p_d']);
    expect((await gateway.getDatabases(target)).items).toEqual([
      { name: 'lake', createTime: '2024-06-01T00:00:00.000Z' },
    ]);
    expect(endpoint.calls('GetDatabases')[0]?.body).toEqual({ CatalogId: '123456789012' });
    expect(await gateway.deleteTable(target, 'lake', 'p_d')).toBe(true);
    expect(endpoint.calls('DeleteTable')[0]?.body).toEqual({
      CatalogId: '123456789012',
      DatabaseName: 'lake',
      Name: 'p_d',
    });
    expect(await gateway.deleteTable(target, 'lake', 'p_d')).toBe(false);
    expect(await gateway.getTable(target, 'lake', 'p_d')).toBeUndefined();
  });

  it('maps Glue errors to typed errors without credentials in the message', async () => {
    const codeOf = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        expect(e).toBeInstanceOf(RolegateError);
        expect((e as Error).message).not.toContain('not-a-real-secret');
        return (e as RolegateError).code;
      }
      return 'no error';
    };
    expect(await codeOf(gateway.getTables(target, 'nope'))).toBe('glue.not_found');
    await gateway.createTable(target, 'lake', input);
    expect(await codeOf(gateway.createTable(target, 'lake', input))).toBe('glue.already_exists');
    endpoint.deniedAccessKeys.add('ASIAROLESESSION');
    expect(await codeOf(gateway.getDatabases(target))).toBe('glue.access_denied');
    endpoint.deniedAccessKeys.clear();
    const down = { ...target, endpoint: 'http://127.0.0.1:9' };
    expect(await codeOf(gateway.getDatabases(down))).toBe('glue.unavailable');
  });
});
