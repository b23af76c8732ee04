import { parquetMetadata, parquetSchema, type SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { columnsOfParquet } from './parquet-schema.js';

const columnsOf = (schema: SchemaElement[]) => columnsOfParquet(parquetSchema({ schema }));

describe('Parquet footers as Hive columns', () => {
  it('reads the columns of a file written by hyparquet-writer', () => {
    const file = parquetWriteBuffer({
      columnData: [
        { name: 'id', data: [1n], type: 'INT64', nullable: false },
        { name: 'name', data: ['a'], type: 'STRING' },
        { name: 'ok', data: [true], type: 'BOOLEAN' },
        { name: 'at', data: [new Date(0)], type: 'TIMESTAMP' },
        { name: 'score', data: [1.5], type: 'DOUBLE' },
      ],
    });
    expect(columnsOfParquet(parquetSchema(parquetMetadata(file)))).toEqual([
      { name: 'id', type: 'bigint' },
      { name: 'name', type: 'string' },
      { name: 'ok', type: 'boolean' },
      { name: 'at', type: 'timestamp' },
      { name: 'score', type: 'double' },
    ]);
  });

  it('maps logical and converted types, lists, maps and structs', () => {
    expect(
      columnsOf([
        { name: 'root', num_children: 7 },
        { name: 'd', type: 'INT32', converted_type: 'DATE' },
        { name: 'amount', type: 'FIXED_LEN_BYTE_ARRAY', logical_type: { type: 'DECIMAL', precision: 10, scale: 2 } },
        { name: 'small', type: 'INT32', logical_type: { type: 'INTEGER', bitWidth: 16, isSigned: true } },
        { name: 'legacy', type: 'INT96' },
        { name: 'tags', converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8' },
        { name: 'attrs', converted_type: 'MAP', num_children: 1 },
        { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
        { name: 'key', type: 'BYTE_ARRAY', converted_type: 'UTF8' },
        { name: 'value', type: 'INT64' },
        { name: 'point', num_children: 2 },
        { name: 'x', type: 'DOUBLE' },
        { name: 'ys', type: 'FLOAT', repetition_type: 'REPEATED' },
      ]),
    ).toEqual([
      { name: 'd', type: 'date' },
      { name: 'amount', type: 'decimal(10,2)' },
      { name: 'small', type: 'smallint' },
      { name: 'legacy', type: 'timestamp' },
      { name: 'tags', type: 'array<string>' },
      { name: 'attrs', type: 'map<string,bigint>' },
      { name: 'point', type: 'struct<x:double,ys:array<float>>' },
    ]);
  });
});
