/**
 * Incremental schema inference and checking for CSV (RFC 4180) and JSON lines, fed text as it streams past.
 * Nothing is buffered beyond the current record, so uploads of any size are checked in constant memory, and a
 * mismatch is reported on the first offending line (the upload is stopped there). Pure: no I/O.
 */
import { invalidInput, type RolegateError } from '../errors/errors.js';
import type { DatasetFormat } from './dataset.js';
import {
  type Column,
  describeValue,
  inferJsonType,
  inferTextType,
  jsonConforms,
  textConforms,
  widenType,
} from './dataset-schema.js';

/** Longest CSV field or JSON line accepted: an unterminated quote must not make us buffer the whole upload. */
export const MAX_RECORD_CHARS = 8 * 1024 * 1024;

const COLUMN_NAME = /^[a-z][a-z0-9_]{0,127}$/;

export interface ScanResult {
  readonly columns: Column[];
  readonly rows: number;
  /** CSV: bytes of the header line including its line break (and a byte-order mark). */
  readonly headerBytes?: number | undefined;
}

export interface ScanOptions {
  readonly format: Exclude<DatasetFormat, 'parquet'>;
  /** The file's name, for error messages. */
  readonly file: string;
  /** The dataset's data columns; when absent or empty, the schema is inferred. */
  readonly declared?: readonly Column[] | undefined;
  /** Partition columns, which must not appear inside files. */
  readonly partitionColumns?: readonly string[] | undefined;
}

const mismatch = (file: string, why: string): RolegateError =>
  invalidInput('dataset.schema_mismatch', `File ${JSON.stringify(file)} does not match the dataset schema: ${why}`, {
    details: { file },
  });
const malformed = (file: string, why: string): RolegateError =>
  invalidInput('dataset.file_invalid', `File ${JSON.stringify(file)} is not valid: ${why}`, { details: { file } });

/** Checks or infers the schema of one CSV or JSON-lines file, chunk by chunk. */
export class TextSchemaScanner {
  readonly #options: ScanOptions;
  readonly #declared: readonly Column[] | undefined;
  #rows = 0;
  #line = 1;
  #recordLine = 1;
  #started = false;
  // CSV parser state.
  #fields: string[] = [];
  #field = '';
  #state: 'start' | 'unquoted' | 'quoted' | 'quote' = 'start';
  #afterCr = false;
  #crEndedHeader = false;
  #recordChars = 0;
  #header: string[] | undefined;
  #headerChars = '';
  #headerBytes: number | undefined;
  // JSON-lines state.
  #lineText = '';
  /** Inferred types, in first-seen order. */
  readonly #inferred = new Map<string, string | null>();

  constructor(options: ScanOptions) {
    this.#options = options;
    this.#declared = options.declared !== undefined && options.declared.length > 0 ? options.declared : undefined;
  }

  /** Feeds decoded text. @throws RolegateError `dataset.schema_mismatch` or `dataset.file_invalid`. */
  push(text: string): void {
    let t = text;
    if (!this.#started) {
      this.#started = true;
      if (t.startsWith('\uFEFF')) {
        t = t.slice(1);
        if (this.#options.format === 'csv') this.#headerChars += '\uFEFF';
      }
    }
    if (this.#options.format === 'csv') this.#pushCsv(t);
    else this.#pushJsonLines(t);
  }

  /** Ends the file. @throws RolegateError when the file ends inside a record or has no header. */
  end(): ScanResult {
    const file = this.#options.file;
    if (this.#options.format === 'csv') {
      if (this.#state === 'quoted')
        throw malformed(file, `a quoted field opened on line ${this.#recordLine} never closes`);
      if (this.#state !== 'start' || this.#fields.length > 0) this.#endCsvRecord();
      if (this.#header === undefined) throw malformed(file, 'it is empty (a CSV file needs a header line)');
      if (this.#headerBytes === undefined) this.#headerBytes = Buffer.byteLength(this.#headerChars, 'utf8');
    } else if (this.#lineText.trim() !== '') {
      this.#jsonLine(this.#lineText);
    }
    const columns = this.#declared
      ? [...this.#declared]
      : [...this.#inferred].map(([name, type]) => ({ name, type: type ?? 'string' }));
    return { columns, rows: this.#rows, headerBytes: this.#headerBytes };
  }

  #pushCsv(text: string): void {
    const file = this.#options.file;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i] as string;
      if (this.#header === undefined) this.#headerChars += ch;
      if (++this.#recordChars > MAX_RECORD_CHARS) {
        throw malformed(
          file,
          `the record starting on line ${this.#recordLine} is longer than ${MAX_RECORD_CHARS} characters`,
        );
      }
      const afterCr = this.#afterCr;
      this.#afterCr = false;
      if (!afterCr) this.#crEndedHeader = false;
      switch (this.#state) {
        case 'quoted':
          if (ch === '"') this.#state = 'quote';
          else {
            if (ch === '\n') this.#line++;
            this.#field += ch;
          }
          continue;
        case 'quote':
          if (ch === '"') {
            this.#field += '"';
            this.#state = 'quoted';
            continue;
          }
          if (ch !== ',' && ch !== '\n' && ch !== '\r') {
            throw malformed(file, `line ${this.#line}: unexpected ${JSON.stringify(ch)} after a closing quote`);
          }
          break;
        case 'start':
          if (ch === '"') {
            this.#state = 'quoted';
            continue;
          }
          break;
        case 'unquoted':
          break;
      }
      if (ch === ',') {
        this.#fields.push(this.#field);
        this.#field = '';
        this.#state = 'start';
      } else if (ch === '\n' || ch === '\r') {
        if (ch === '\n' && afterCr) {
          // The LF of a CRLF that ended the header belongs to the header's bytes.
          if (this.#crEndedHeader && this.#headerBytes !== undefined) this.#headerBytes += 1;
          this.#crEndedHeader = false;
          continue;
        }
        this.#crEndedHeader = false;
        this.#line++;
        this.#afterCr = ch === '\r';
        this.#endCsvRecord();
        if (this.#header !== undefined && this.#headerBytes === undefined) {
          this.#headerBytes = Buffer.byteLength(this.#headerChars, 'utf8');
          this.#crEndedHeader = ch === '\r';
        }
      } else {
        this.#field += ch;
        this.#state = 'unquoted';
      }
    }
  }

  #endCsvRecord(): void {
    const record = [...this.#fields, this.#field];
    const line = this.#recordLine;
    this.#fields = [];
    this.#field = '';
    this.#state = 'start';
    this.#recordChars = 0;
    this.#recordLine = this.#line;
    // A blank line is not a record.
    if (record.length === 1 && record[0] === '') return;
    if (this.#header === undefined) {
      this.#csvHeader(record);
      return;
    }
    const header = this.#header;
    const file = this.#options.file;
    if (record.length !== header.length) {
      throw malformed(file, `line ${line} has ${record.length} fields, the header has ${header.length}`);
    }
    this.#rows++;
    for (let c = 0; c < header.length; c++) {
      const name = header[c] as string;
      const value = record[c] as string;
      if (this.#declared) {
        const type = this.#declared[c]?.type ?? 'string';
        if (!textConforms(value, type)) {
          throw mismatch(
            file,
            `line ${line}, column ${JSON.stringify(name)}: ${describeValue(value)} is not a ${type}`,
          );
        }
      } else {
        this.#inferred.set(name, widenType(this.#inferred.get(name) ?? null, inferTextType(value)));
      }
    }
  }

  #csvHeader(record: string[]): void {
    const file = this.#options.file;
    const seen = new Set<string>();
    for (const name of record) {
      if (!COLUMN_NAME.test(name)) {
        throw malformed(
          file,
          `header column ${describeValue(name)} is not a column name (lower-case letters, digits and "_", starting with a letter)`,
        );
      }
      if (seen.has(name)) throw malformed(file, `header column ${JSON.stringify(name)} appears twice`);
      seen.add(name);
      this.#checkNotPartition(name);
    }
    if (this.#declared) {
      const expected = this.#declared.map((c) => c.name).join(', ');
      if (record.join(', ') !== expected) {
        throw mismatch(file, `its header is (${record.join(', ')}), the dataset's columns are (${expected})`);
      }
    } else {
      for (const name of record) this.#inferred.set(name, null);
    }
    this.#header = record;
  }

  #checkNotPartition(name: string): void {
    if (this.#options.partitionColumns?.includes(name)) {
      throw mismatch(
        this.#options.file,
        `column ${JSON.stringify(name)} is a partition column; its value comes from the partition, not the file`,
      );
    }
  }

  #pushJsonLines(text: string): void {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const line = this.#lineText + text.slice(start, nl);
      this.#lineText = '';
      start = nl + 1;
      if (line.trim() !== '') this.#jsonLine(line);
      this.#line++;
    }
    this.#lineText += text.slice(start);
    if (this.#lineText.length > MAX_RECORD_CHARS) {
      throw malformed(this.#options.file, `line ${this.#line} is longer than ${MAX_RECORD_CHARS} characters`);
    }
  }

  #jsonLine(line: string): void {
    const file = this.#options.file;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw malformed(file, `line ${this.#line} is not JSON`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw malformed(file, `line ${this.#line} is not a JSON object`);
    }
    this.#rows++;
    for (const [name, v] of Object.entries(value)) {
      if (this.#declared) {
        const column = this.#declared.find((c) => c.name === name);
        if (column === undefined) {
          this.#checkNotPartition(name);
          throw mismatch(file, `line ${this.#line} has field ${JSON.stringify(name)}, which is not a dataset column`);
        }
        if (!jsonConforms(v, column.type)) {
          throw mismatch(
            file,
            `line ${this.#line}, field ${JSON.stringify(name)}: ${describeValue(v)} is not a ${column.type}`,
          );
        }
      } else {
        if (!this.#inferred.has(name)) {
          if (!COLUMN_NAME.test(name)) {
            throw malformed(file, `line ${this.#line}: field ${describeValue(name)} is not a column name`);
          }
          this.#checkNotPartition(name);
        }
        this.#inferred.set(name, widenType(this.#inferred.get(name) ?? null, inferJsonType(v)));
      }
    }
  }
}
