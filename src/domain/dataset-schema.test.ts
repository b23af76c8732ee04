import { describe, expect, it } from 'vitest';
import {
  inferTextType,
  mergeInferred,
  normalizeColumnType,
  schemaDifference,
  textConforms,
  widenType,
} from './dataset-schema.js';

describe('column types', () => {
  it('accepts Hive types, canonicalised, and refuses others', () => {
    expect(normalizeColumnType(' BIGINT ')).toBe('bigint');
    expect(normalizeColumnType('decimal(10, 2)')).toBe('decimal(10,2)');
    expect(normalizeColumnType('array<string>')).toBe('array<string>');
    expect(() => normalizeColumnType('text')).toThrow(/Unknown column type "text"/);
  });

  it('infers the narrowest type of a text value and widens between observations', () => {
    expect(
      ['', '12', '99999999999999999999', '1.5e3', 'TRUE', '2024-02-29', '2024-02-30', '2024-01-01T10:00:00Z', 'x'].map(
        inferTextType,
      ),
    ).toEqual([null, 'bigint', 'double', 'double', 'boolean', 'date', 'string', 'timestamp', 'string']);
    expect(widenType('bigint', 'double')).toBe('double');
    expect(widenType('date', 'timestamp')).toBe('timestamp');
    expect(widenType(null, 'date')).toBe('date');
    expect(widenType('boolean', 'bigint')).toBe('string');
  });

  it('checks text values against declared types', () => {
    expect(textConforms('127', 'tinyint')).toBe(true);
    expect(textConforms('128', 'tinyint')).toBe(false);
    expect(textConforms('1.5', 'decimal(4,2)')).toBe(true);
    expect(textConforms('2024-01-01', 'timestamp')).toBe(true);
    expect(textConforms('', 'date')).toBe(true);
  });
});

describe('schema comparison', () => {
  const declared = [
    { name: 'id', type: 'bigint' },
    { name: 'score', type: 'double' },
  ];
  it('compares CSV columns by position, Parquet and JSON by name', () => {
    expect(schemaDifference(declared, [...declared].reverse(), { ordered: true })).toContain(
      'its columns are (score, id)',
    );
    expect(schemaDifference(declared, [...declared].reverse(), { ordered: false })).toBeNull();
    expect(schemaDifference(declared, [{ name: 'extra', type: 'int' }], { ordered: false })).toContain('extra');
  });
  it('allows lossless promotions only', () => {
    expect(
      schemaDifference(
        declared,
        [
          { name: 'id', type: 'int' },
          { name: 'score', type: 'float' },
        ],
        { ordered: true },
      ),
    ).toBeNull();
    expect(schemaDifference(declared, [{ name: 'id', type: 'string' }], { ordered: false })).toBe(
      'column "id" is string, the dataset\'s is bigint',
    );
    expect(
      schemaDifference(
        declared,
        [
          { name: 'id', type: 'bigint' },
          { name: 'score', type: 'bigint' },
        ],
        { ordered: true, text: true },
      ),
    ).toBeNull();
  });
  it('merges the inferred schemas of the files of one write', () => {
    expect(mergeInferred([{ name: 'a', type: 'bigint' }], [{ name: 'a', type: 'double' }], { ordered: true })).toEqual([
      { name: 'a', type: 'double' },
    ]);
    expect(mergeInferred([{ name: 'a', type: 'bigint' }], [{ name: 'b', type: 'bigint' }], { ordered: true })).toMatch(
      /differ/,
    );
  });
});
