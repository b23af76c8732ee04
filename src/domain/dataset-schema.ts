/**
 * Dataset schemas in Hive/Glue type names (what Athena and Spark read from a Glue table): inference from CSV
 * and JSON values, checking values against declared types, and comparing the schemas of files. Pure.
 */
import { invalidInput } from '../errors/errors.js';

/** A column: name and Hive type (`bigint`, `decimal(10,2)`, `array<string>`, …). */
export interface Column {
  readonly name: string;
  readonly type: string;
}

const PRIMITIVE = new Set([
  'string',
  'boolean',
  'tinyint',
  'smallint',
  'int',
  'bigint',
  'float',
  'double',
  'date',
  'timestamp',
  'binary',
]);
const PARAMETERISED = /^(decimal\(\d{1,2},\d{1,2}\)|varchar\(\d{1,5}\)|char\(\d{1,3}\))$/;
const COMPLEX = /^(array|map|struct)<[a-z0-9_<>,:() ]+>$/;
const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'int', 'bigint']);
const INTEGER_RANGE: Record<string, bigint> = {
  tinyint: 2n ** 7n,
  smallint: 2n ** 15n,
  int: 2n ** 31n,
  bigint: 2n ** 63n,
};

/**
 * Canonicalises a declared column type (lower case, no spaces).
 * @throws RolegateError `dataset.schema_invalid` for a type Glue/Hive would not understand.
 */
export function normalizeColumnType(type: string): string {
  const t = type.trim().toLowerCase().replace(/\s+/g, '');
  if (PRIMITIVE.has(t) || PARAMETERISED.test(t) || COMPLEX.test(t)) return t;
  throw invalidInput(
    'dataset.schema_invalid',
    `Unknown column type ${JSON.stringify(type)}: use a Hive type such as string, bigint, double, boolean, date, ` +
      'timestamp, decimal(p,s) or array<…>/map<…>/struct<…>',
  );
}

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BOOLEAN = /^(true|false)$/i;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/;

function validDate(match: RegExpExecArray | null): boolean {
  if (match === null) return false;
  const [, y, m, d] = match;
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  return date.getUTCFullYear() === Number(y) && date.getUTCMonth() === Number(m) - 1 && date.getUTCDate() === Number(d);
}

function fitsInteger(text: string, type: string): boolean {
  const limit = INTEGER_RANGE[type] ?? INTEGER_RANGE.bigint;
  const n = BigInt(text);
  return n >= -(limit as bigint) && n < (limit as bigint);
}

/** The narrowest type of one CSV field; `null` for an empty field (compatible with every type). */
export function inferTextType(value: string): string | null {
  if (value === '') return null;
  if (INTEGER.test(value)) return fitsInteger(value, 'bigint') ? 'bigint' : 'double';
  if (NUMBER.test(value)) return 'double';
  if (BOOLEAN.test(value)) return 'boolean';
  if (validDate(DATE.exec(value))) return 'date';
  if (validDate(TIMESTAMP.exec(value))) return 'timestamp';
  return 'string';
}

/** The type of one JSON value; `null` for JSON null. Objects and arrays are kept as strings (not inferred). */
export function inferJsonType(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) && Number.isSafeInteger(value) ? 'bigint' : 'double';
  return 'string';
}

/** The type two observations of one column share: integers widen to double, dates to timestamps, else string. */
export function widenType(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null || a === b) return a;
  const pair = new Set([a, b]);
  if (pair.has('bigint') && pair.has('double')) return 'double';
  if (pair.has('date') && pair.has('timestamp')) return 'timestamp';
  return 'string';
}

/** Whether a CSV field can be read as `type` by Athena/Spark. Empty fields are nulls. */
export function textConforms(value: string, type: string): boolean {
  if (value === '') return true;
  if (INTEGER_TYPES.has(type)) return INTEGER.test(value) && fitsInteger(value, type);
  if (type === 'double' || type === 'float' || type.startsWith('decimal(')) return NUMBER.test(value);
  if (type === 'boolean') return BOOLEAN.test(value);
  if (type === 'date') return validDate(DATE.exec(value));
  if (type === 'timestamp') return validDate(TIMESTAMP.exec(value)) || validDate(DATE.exec(value));
  return true;
}

/** Whether a JSON value can be read as `type` by the JSON SerDe. */
export function jsonConforms(value: unknown, type: string): boolean {
  if (value === null || value === undefined) return true;
  if (INTEGER_TYPES.has(type)) return typeof value === 'number' && Number.isInteger(value);
  if (type === 'double' || type === 'float' || type.startsWith('decimal(')) return typeof value === 'number';
  if (type === 'boolean') return typeof value === 'boolean';
  if (type === 'date' || type === 'timestamp') return typeof value === 'string' && textConforms(value, type);
  if (type.startsWith('array<')) return Array.isArray(value);
  if (type.startsWith('map<') || type.startsWith('struct<')) return typeof value === 'object' && !Array.isArray(value);
  // A string column takes any JSON value: the JSON SerDe hands nested values over as their JSON text.
  return true;
}

/** A column type as described to a person in an error message. */
export function describeValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/** Types a Parquet reader widens without loss (Athena and Spark read int32 into bigint, float into double). */
const PROMOTIONS: Record<string, readonly string[]> = {
  tinyint: ['smallint', 'int', 'bigint'],
  smallint: ['int', 'bigint'],
  int: ['bigint'],
  float: ['double'],
  date: ['timestamp'],
};

/** Whether a file column of type `found` can be read as a dataset column of type `declared`. */
export function typeReadableAs(found: string, declared: string): boolean {
  return found === declared || (PROMOTIONS[found] ?? []).includes(declared);
}

/**
 * Whether values inferred as `found` from text (CSV, JSON) can be read as `declared`: every value reads as a
 * string, integers as any number, dates as timestamps.
 */
export function textTypeReadableAs(found: string, declared: string): boolean {
  if (found === declared || declared === 'string' || typeReadableAs(found, declared)) return true;
  if (found === 'bigint') return declared === 'double' || declared === 'float' || declared.startsWith('decimal(');
  if (found === 'double') return declared === 'float' || declared.startsWith('decimal(');
  return false;
}

/**
 * Why the columns of a file differ from the dataset's, or null when they match. `ordered` for CSV, whose
 * columns are positional in Hive; Parquet and JSON are read by name. `text` for types inferred from values.
 */
export function schemaDifference(
  declared: readonly Column[],
  found: readonly Column[],
  options: { ordered: boolean; text?: boolean },
): string | null {
  const readable = options.text === true ? textTypeReadableAs : typeReadableAs;
  const names = (cs: readonly Column[]) => cs.map((c) => c.name).join(', ');
  if (options.ordered) {
    if (names(declared) !== names(found)) {
      return `its columns are (${names(found)}), the dataset's are (${names(declared)})`;
    }
  } else {
    const known = new Set(declared.map((c) => c.name));
    const extra = found.filter((c) => !known.has(c.name));
    // Missing columns are read as nulls by name-based readers; unknown ones would be silently dropped.
    if (extra.length > 0) return `it has columns the dataset does not: ${names(extra)}`;
  }
  for (const f of found) {
    const d = declared.find((c) => c.name === f.name);
    if (d !== undefined && !readable(f.type, d.type)) {
      return `column ${JSON.stringify(f.name)} is ${f.type}, the dataset's is ${d.type}`;
    }
  }
  return null;
}

/**
 * Merges the inferred schemas of the files of one write into the dataset's first schema: the same columns
 * (by name), types widened.
 * @returns the merged columns, or a reason they cannot be merged.
 */
export function mergeInferred(
  a: readonly Column[],
  b: readonly Column[],
  options: { ordered: boolean },
): Column[] | string {
  const names = (cs: readonly Column[]) => cs.map((c) => c.name).join(', ');
  if (options.ordered && names(a) !== names(b)) return `columns (${names(b)}) differ from (${names(a)})`;
  const out = a.map((c) => ({ ...c }));
  for (const col of b) {
    const i = out.findIndex((c) => c.name === col.name);
    if (i < 0) out.push({ ...col });
    else out[i] = { name: col.name, type: widenType(out[i]?.type ?? null, col.type) ?? 'string' };
  }
  return out;
}
