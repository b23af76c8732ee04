import { Transform, type TransformCallback } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { ScanResult, TextSchemaScanner } from '../../domain/text-schema-scanner.js';
import { RolegateError } from '../../errors/errors.js';

/**
 * Passes bytes through unchanged while a {@link TextSchemaScanner} reads them: a file that does not match the
 * dataset fails its own upload on the first offending line, before anything is stored.
 */
export class SchemaCheckStream extends Transform {
  readonly #scanner: TextSchemaScanner;
  readonly #decoder = new StringDecoder('utf8');
  #result: ScanResult | undefined;
  #failure: RolegateError | undefined;
  #lastByte: number | undefined;

  constructor(scanner: TextSchemaScanner) {
    super();
    this.#scanner = scanner;
  }

  /** The scan's result once the stream has ended. */
  get result(): ScanResult | undefined {
    return this.#result;
  }

  /** Whether the file's last byte is a line break (readers concatenating files need to know). */
  get endsWithNewline(): boolean {
    return this.#lastByte === 0x0a || this.#lastByte === 0x0d;
  }

  /** Why the file was refused, when the scanner refused it. */
  get failure(): RolegateError | undefined {
    return this.#failure;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (chunk.length > 0) this.#lastByte = chunk[chunk.length - 1];
    this.#run(() => this.#scanner.push(this.#decoder.write(chunk)), callback, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.#run(
      () => {
        this.#scanner.push(this.#decoder.end());
        this.#result = this.#scanner.end();
      },
      callback,
      undefined,
    );
  }

  #run(step: () => void, callback: TransformCallback, chunk: Buffer | undefined): void {
    try {
      step();
    } catch (e) {
      if (e instanceof RolegateError) this.#failure = e;
      callback(e as Error);
      return;
    }
    callback(null, chunk);
  }
}
