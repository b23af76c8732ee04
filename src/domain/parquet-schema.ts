/**
 * A Parquet file's schema (from its footer, as parsed by hyparquet) in Hive/Glue type names: the types Athena
 * and Spark use when reading the file through a Glue table. Pure: the footer is read elsewhere.
 */
import type { SchemaElement, SchemaTree } from 'hyparquet';
import type { Column } from './dataset-schema.js';

function integerType(bitWidth: number, signed: boolean): string {
  if (!signed && bitWidth >= 64) return 'decimal(20,0)';
  const width = signed ? bitWidth : bitWidth * 2;
  if (width <= 8) return 'tinyint';
  if (width <= 16) return 'smallint';
  if (width <= 32) return 'int';
  return 'bigint';
}

function primitiveType(e: SchemaElement): string {
  const logical = e.logical_type;
  if (logical !== undefined) {
    switch (logical.type) {
      case 'STRING':
      case 'ENUM':
      case 'JSON':
      case 'UUID':
        return 'string';
      case 'DATE':
        return 'date';
      case 'TIMESTAMP':
        return 'timestamp';
      case 'DECIMAL':
        return `decimal(${logical.precision},${logical.scale})`;
      case 'INTEGER':
        return integerType(logical.bitWidth, logical.isSigned);
      case 'FLOAT16':
        return 'float';
      default:
        break;
    }
  }
  switch (e.converted_type) {
    case 'UTF8':
    case 'ENUM':
    case 'JSON':
      return 'string';
    case 'DATE':
      return 'date';
    case 'TIMESTAMP_MILLIS':
    case 'TIMESTAMP_MICROS':
      return 'timestamp';
    case 'DECIMAL':
      return `decimal(${e.precision ?? 38},${e.scale ?? 0})`;
    case 'INT_8':
      return 'tinyint';
    case 'INT_16':
      return 'smallint';
    case 'INT_32':
      return 'int';
    case 'INT_64':
      return 'bigint';
    case 'UINT_8':
      return 'smallint';
    case 'UINT_16':
      return 'int';
    case 'UINT_32':
      return 'bigint';
    case 'UINT_64':
      return 'decimal(20,0)';
    default:
      break;
  }
  switch (e.type) {
    case 'BOOLEAN':
      return 'boolean';
    case 'INT32':
      return 'int';
    case 'INT64':
      return 'bigint';
    case 'INT96':
      return 'timestamp';
    case 'FLOAT':
      return 'float';
    case 'DOUBLE':
      return 'double';
    default:
      return 'binary';
  }
}

function isList(e: SchemaElement): boolean {
  return e.converted_type === 'LIST' || e.logical_type?.type === 'LIST';
}
function isMap(e: SchemaElement): boolean {
  return e.converted_type === 'MAP' || e.converted_type === 'MAP_KEY_VALUE' || e.logical_type?.type === 'MAP';
}

/** The Hive type of one node, ignoring its own repetition. */
function nodeType(node: SchemaTree): string {
  const e = node.element;
  if (node.children.length === 0) return primitiveType(e);
  if (isList(e)) {
    // Standard 3-level list: <list> { repeated group list { element } }; legacy 2-level lists repeat the element.
    const repeated = node.children[0] as SchemaTree;
    const element = repeated.children.length === 1 ? (repeated.children[0] as SchemaTree) : repeated;
    return `array<${nodeType(element)}>`;
  }
  if (isMap(e)) {
    const kv = node.children[0] as SchemaTree;
    const [key, value] = kv.children;
    return `map<${key ? nodeType(key) : 'string'},${value ? nodeType(value) : 'string'}>`;
  }
  return `struct<${node.children.map((c) => `${c.element.name}:${fieldType(c)}`).join(',')}>`;
}

/** A field's type: a repeated field without a LIST annotation is an array of its type. */
function fieldType(node: SchemaTree): string {
  const t = nodeType(node);
  return node.element.repetition_type === 'REPEATED' ? `array<${t}>` : t;
}

/** The top-level columns of a Parquet schema tree (`parquetSchema(metadata)`), with Hive types. */
export function columnsOfParquet(root: SchemaTree): Column[] {
  return root.children.map((c) => ({ name: c.element.name, type: fieldType(c) }));
}
