import { describe, expect, it } from 'vitest';
import type { Dataset } from './dataset.js';
import { gluePartitionInput, glueTableInput, glueTableName } from './glue-table.js';

const dataset: Dataset = {
  id: 'x',
  project: 'sales',
  name: 'orders',
  connection: 's3-sales',
  location: 'sales/orders/',
  format: 'csv',
  columns: [
    { name: 'id', type: 'bigint' },
    { name: 'day', type: 'date' },
  ],
  partitionColumns: ['region'],
  description: '',
  owner: 'alice',
  catalog: 'glue',
  glueDatabase: 'db',
  manifest: { version: 2, files: [] },
  createdAt: '',
  updatedAt: '',
};

describe('Glue table inputs', () => {
  it('describes a CSV dataset as the crawler would: LazySimpleSerDe, header skipped, partition keys', () => {
    const input = glueTableInput(dataset, 's3://b/p/sales/orders/');
    expect(glueTableName(dataset)).toBe('sales_orders');
    expect(input).toEqual({
      Name: 'sales_orders',
      Owner: 'alice',
      TableType: 'EXTERNAL_TABLE',
      Parameters: {
        EXTERNAL: 'TRUE',
        classification: 'csv',
        'skip.header.line.count': '1',
        'rolegate.dataset': 'sales.orders',
        'rolegate.manifest_version': '2',
      },
      PartitionKeys: [{ Name: 'region', Type: 'string' }],
      StorageDescriptor: {
        Columns: [
          { Name: 'id', Type: 'bigint' },
          { Name: 'day', Type: 'date' },
        ],
        Location: 's3://b/p/sales/orders/',
        InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
        OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
        Compressed: false,
        NumberOfBuckets: -1,
        SerdeInfo: {
          SerializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe',
          Parameters: { 'field.delim': ',', 'serialization.format': ',' },
        },
        StoredAsSubDirectories: false,
        Parameters: { classification: 'csv', 'skip.header.line.count': '1' },
      },
    });
  });

  it('names the JSON SerDe paths and locates partitions under the table', () => {
    const json = glueTableInput({ ...dataset, format: 'jsonl', description: 'd' }, 's3://b/x/');
    expect(json.Description).toBe('d');
    expect(json.StorageDescriptor.SerdeInfo).toEqual({
      SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
      Parameters: { paths: 'id,day' },
    });
    const p = gluePartitionInput(dataset, 's3://b/x/', { region: 'eu' });
    expect(p.Values).toEqual(['eu']);
    expect(p.StorageDescriptor.Location).toBe('s3://b/x/region=eu/');
  });
});
