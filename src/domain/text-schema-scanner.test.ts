import { describe, expect, it } from 'vitest';
import { RolegateError } from '../errors/errors.js';
import { TextSchemaScanner } from './text-schema-scanner.js';

function scan(format: 'csv' | 'jsonl', chunks: string[], declared?: { name: string; type: string }[]) {
  const s = new TextSchemaScanner({ format, file: 'f', declared, partitionColumns: ['day'] });
  for (const c of chunks) s.push(c);
  return s.end();
}
function failure(fn: () => unknown): RolegateError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RolegateError) return e;
    throw e;
  }
  throw new Error('expected a RolegateError');
}

describe('CSV', () => {
  it('infers and widens types, across chunk boundaries, with quotes and CRLF', () => {
    const text =
      'id,name,amount,when\r\n1,"a, ""b""",2,2024-01-01\r\n2,"multi\nline",2.5,2024-01-02 10:00:00\r\n3,,,\r\n';
    for (const size of [1, 3, 7, text.length]) {
      const chunks = text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g')) ?? [];
      const r = scan('csv', chunks);
      expect(r.rows).toBe(3);
      expect(r.columns).toEqual([
        { name: 'id', type: 'bigint' },
        { name: 'name', type: 'string' },
        { name: 'amount', type: 'double' },
        { name: 'when', type: 'timestamp' },
      ]);
      expect(r.headerBytes).toBe('id,name,amount,when\r\n'.length);
    }
  });

  it('counts a byte-order mark in the header bytes', () => {
    expect(scan('csv', ['\uFEFFa\n1\n']).headerBytes).toBe(3 + 2);
  });

  it('checks values against declared columns and names the line and column', () => {
    const declared = [
      { name: 'id', type: 'int' },
      { name: 'ok', type: 'boolean' },
    ];
    expect(scan('csv', ['id,ok\n1,true\n2,\n'], declared).rows).toBe(2);
    const e = failure(() => scan('csv', ['id,ok\n1,true\n2,maybe\n'], declared));
    expect(e.code).toBe('dataset.schema_mismatch');
    expect(e.message).toBe('File "f" does not match the dataset schema: line 3, column "ok": "maybe" is not a boolean');
    expect(failure(() => scan('csv', ['id,ok\n3000000000,true\n'], declared)).code).toBe('dataset.schema_mismatch');
    expect(failure(() => scan('csv', ['ok,id\n'], declared)).message).toContain('its header is (ok, id)');
  });

  it('refuses malformed files: ragged rows, bad headers, unterminated quotes, partition columns, emptiness', () => {
    expect(failure(() => scan('csv', ['a,b\n1\n'])).message).toContain('line 2 has 1 fields, the header has 2');
    expect(failure(() => scan('csv', ['A b\n'])).code).toBe('dataset.file_invalid');
    expect(failure(() => scan('csv', ['a,a\n'])).message).toContain('appears twice');
    expect(failure(() => scan('csv', ['a\n"open\n'])).message).toContain('never closes');
    expect(failure(() => scan('csv', ['a\n"x"y\n'])).message).toContain('after a closing quote');
    expect(failure(() => scan('csv', ['a,day\n'])).code).toBe('dataset.schema_mismatch');
    expect(failure(() => scan('csv', [''])).message).toContain('empty');
  });
});

describe('JSON lines', () => {
  it('infers types by field, in first-seen order, across chunks', () => {
    const r = scan('jsonl', ['{"a":1,"b":"x"}\n{"a":1.5,', '"c":true}\n\n{"b":null}']);
    expect(r.rows).toBe(3);
    expect(r.columns).toEqual([
      { name: 'a', type: 'double' },
      { name: 'b', type: 'string' },
      { name: 'c', type: 'boolean' },
    ]);
  });

  it('checks fields against declared columns', () => {
    const declared = [
      { name: 'a', type: 'bigint' },
      { name: 'b', type: 'string' },
    ];
    expect(scan('jsonl', ['{"a":1}\n{"b":{"x":1}}\n'], declared).rows).toBe(2);
    expect(failure(() => scan('jsonl', ['{"a":"1"}\n'], declared)).message).toContain('line 1, field "a"');
    expect(failure(() => scan('jsonl', ['{"z":1}\n'], declared)).message).toContain(
      '"z", which is not a dataset column',
    );
    expect(failure(() => scan('jsonl', ['[1]\n'])).code).toBe('dataset.file_invalid');
    expect(failure(() => scan('jsonl', ['{nope\n'])).message).toContain('line 1 is not JSON');
  });
});
