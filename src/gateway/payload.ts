/**
 * Request bodies as S3 clients send them, decoded and verified while they stream:
 * - plain bodies, signed (`x-amz-content-sha256: <hex>`, checked at the end) or `UNSIGNED-PAYLOAD`;
 * - aws-chunked bodies: `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` (every chunk signature checked, chained from the
 *   request signature), `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` and `STREAMING-UNSIGNED-PAYLOAD-TRAILER`
 *   (a trailing `x-amz-checksum-*`, its own signature checked when signed);
 * - flexible checksums (`x-amz-checksum-*` as a header or a trailer) recomputed over the decoded bytes.
 *
 * Memory stays constant: bytes pass straight through, except the most recent piece, which is held back until
 * every check has passed. The store therefore never receives the whole declared length of a body that fails
 * a check, so it can never complete (and keep) such an object: the upload is aborted instead.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { invalidInput, type RolegateError, unauthenticated } from '../errors/errors.js';
import { EMPTY_SHA256, hmac, sha256Hex, UNSIGNED_PAYLOAD } from '../lib/sigv4.js';
import {
  algorithmOfHeader,
  type Checksum,
  type ChecksumAlgorithm,
  checksumHeader,
  createChecksum,
} from './checksums.js';
import { type ClaimedAuth, type SigningContext, signaturesEqual } from './sigv4.js';

export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

/** S3's largest single PUT (5 GiB); larger objects go through multipart upload. */
export const MAX_SINGLE_PUT_BYTES = 5 * 1024 ** 3;
const MAX_LINE_BYTES = 256;
const MAX_TRAILER_BYTES = 4096;

export type PayloadMode =
  | { readonly kind: 'plain'; readonly sha256?: string | undefined }
  | { readonly kind: 'chunked'; readonly signed: boolean; readonly trailer: boolean };

export interface PayloadSpec {
  readonly mode: PayloadMode;
  /** The length of the decoded body: Content-Length, or x-amz-decoded-content-length for aws-chunked. */
  readonly decodedLength: number;
  /** A checksum sent as a header, to verify over the decoded body. */
  readonly headerChecksum?: { readonly algorithm: ChecksumAlgorithm; readonly expected: string } | undefined;
  /** The checksum announced by `x-amz-trailer`, to be found in the trailer. */
  readonly trailerChecksum?: ChecksumAlgorithm | undefined;
  /** Required for signed chunks and signed trailers. */
  readonly signing?: SigningContext | undefined;
}

const badRequest = (message: string): RolegateError => invalidInput('gateway.invalid_chunk', message);
const incomplete = (message: string): RolegateError => invalidInput('gateway.incomplete_body', message);

/**
 * The payload spec of a request from its headers (lower-case names) and its verified authentication.
 * @throws RolegateError for missing or contradictory length, encoding or checksum headers.
 */
export function payloadSpecOf(
  headers: ReadonlyMap<string, string>,
  auth: Pick<ClaimedAuth, 'payloadHash'>,
  signing: SigningContext | undefined,
): PayloadSpec {
  const hash = auth.payloadHash;
  const lengthOf = (name: string): number => {
    const raw = headers.get(name);
    if (raw === undefined) {
      throw invalidInput('gateway.missing_content_length', `You must provide the ${name} HTTP header.`);
    }
    if (!/^\d{1,16}$/.test(raw)) throw invalidInput('gateway.invalid_argument', `${name} must be a number of bytes`);
    return Number(raw);
  };
  let headerChecksum: PayloadSpec['headerChecksum'];
  for (const [name, value] of headers) {
    const algorithm = algorithmOfHeader(name);
    if (algorithm === undefined) continue;
    if (headerChecksum !== undefined) {
      throw invalidInput('gateway.invalid_request', 'Expecting a single x-amz-checksum- header');
    }
    headerChecksum = { algorithm, expected: value.trim() };
  }
  const trailerName = headers.get('x-amz-trailer');
  let trailerChecksum: ChecksumAlgorithm | undefined;
  if (trailerName !== undefined) {
    trailerChecksum = algorithmOfHeader(trailerName.trim());
    if (trailerChecksum === undefined) {
      throw invalidInput(
        'gateway.invalid_request',
        `Unsupported trailer "${trailerName.trim()}"; only x-amz-checksum-* trailers are supported`,
      );
    }
  }

  if (hash === STREAMING_SIGNED || hash === STREAMING_SIGNED_TRAILER || hash === STREAMING_UNSIGNED_TRAILER) {
    const signed = hash !== STREAMING_UNSIGNED_TRAILER;
    const trailer = hash !== STREAMING_SIGNED;
    if (signed && signing === undefined) {
      throw invalidInput('gateway.invalid_request', 'Signed streaming payloads need a header-signed request');
    }
    if (!trailer && trailerChecksum !== undefined) {
      throw invalidInput('gateway.invalid_request', `x-amz-trailer is not allowed with ${hash}`);
    }
    return {
      mode: { kind: 'chunked', signed, trailer },
      decodedLength: lengthOf('x-amz-decoded-content-length'),
      headerChecksum,
      trailerChecksum,
      signing,
    };
  }
  if (hash.startsWith('STREAMING-')) {
    throw invalidInput('gateway.not_implemented', `The payload signing method ${hash} is not supported`);
  }
  if (trailerChecksum !== undefined) {
    throw invalidInput('gateway.invalid_request', 'x-amz-trailer needs an aws-chunked streaming payload');
  }
  if (hash !== UNSIGNED_PAYLOAD && !/^[0-9a-f]{64}$/.test(hash)) {
    throw invalidInput(
      'gateway.invalid_argument',
      'x-amz-content-sha256 must be a hex SHA-256, UNSIGNED-PAYLOAD or STREAMING-…',
    );
  }
  const length = headers.has('content-length') ? lengthOf('content-length') : 0;
  return {
    mode: { kind: 'plain', sha256: hash === UNSIGNED_PAYLOAD ? undefined : hash },
    decodedLength: length,
    headerChecksum,
  };
}

type State = 'plain' | 'size-line' | 'data' | 'data-crlf' | 'final-crlf' | 'trailer' | 'done';

/**
 * A Transform from the raw request body to the decoded object bytes; errors (RolegateError) on any framing,
 * signature, length or checksum problem. After 'end', `checksums` holds the verified checksum values.
 */
export class PayloadDecoder extends Transform {
  readonly #spec: PayloadSpec;
  #state: State;
  #line: Buffer[] = [];
  #lineBytes = 0;
  #remainingInChunk = 0;
  #chunkSize = 0;
  #chunkSignature = '';
  #chunkHash: Hash | undefined;
  #crlfSeen = 0;
  #previousSignature: string;
  #total = 0;
  #held: Buffer | undefined;
  readonly #bodyHash: Hash | undefined;
  readonly #checksums = new Map<ChecksumAlgorithm, Checksum>();
  readonly #trailers = new Map<string, string>();
  #trailerCanonical = '';
  #trailerBytes = 0;
  #trailerSignature: string | undefined;
  /** Verified checksum values (base64), by algorithm, once the body has ended. */
  readonly checksums = new Map<ChecksumAlgorithm, string>();

  constructor(spec: PayloadSpec) {
    // Buffers of about one socket read each way: bounded memory, few and large chunks.
    super({ readableHighWaterMark: 1024 * 1024, writableHighWaterMark: 1024 * 1024 });
    this.#spec = spec;
    this.#state = spec.mode.kind === 'plain' ? 'plain' : 'size-line';
    this.#previousSignature = spec.signing?.seedSignature ?? '';
    this.#bodyHash = spec.mode.kind === 'plain' && spec.mode.sha256 !== undefined ? createHash('sha256') : undefined;
    for (const algorithm of [spec.headerChecksum?.algorithm, spec.trailerChecksum]) {
      if (algorithm !== undefined && !this.#checksums.has(algorithm))
        this.#checksums.set(algorithm, createChecksum(algorithm));
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#consume(chunk);
      callback();
    } catch (e) {
      callback(e as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.#finish();
      if (this.#held !== undefined) this.push(this.#held);
      this.#held = undefined;
      callback();
    } catch (e) {
      callback(e as Error);
    }
  }

  #data(piece: Buffer): void {
    this.#total += piece.length;
    if (this.#total > this.#spec.decodedLength) {
      throw badRequest(`The body is longer than its declared length (${this.#spec.decodedLength})`);
    }
    this.#bodyHash?.update(piece);
    this.#chunkHash?.update(piece);
    for (const c of this.#checksums.values()) c.update(piece);
    if (this.#held !== undefined) this.push(this.#held);
    this.#held = piece;
  }

  /** Collects one CRLF-terminated line; returns it (without CR LF) once complete. */
  #readLine(chunk: Buffer, offset: number, limit: number): { line?: string; next: number } {
    const nl = chunk.indexOf(0x0a, offset);
    const end = nl < 0 ? chunk.length : nl;
    this.#lineBytes += end - offset;
    if (this.#lineBytes > limit) throw badRequest('An aws-chunked header or trailer line is too long');
    this.#line.push(chunk.subarray(offset, end));
    if (nl < 0) return { next: chunk.length };
    let line = Buffer.concat(this.#line).toString('latin1');
    this.#line = [];
    this.#lineBytes = 0;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    return { line, next: nl + 1 };
  }

  #consume(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      switch (this.#state) {
        case 'plain':
          this.#data(offset === 0 ? chunk : chunk.subarray(offset));
          return;
        case 'size-line': {
          const { line, next } = this.#readLine(chunk, offset, MAX_LINE_BYTES);
          offset = next;
          if (line !== undefined) this.#startChunk(line);
          break;
        }
        case 'data': {
          const n = Math.min(this.#remainingInChunk, chunk.length - offset);
          this.#data(chunk.subarray(offset, offset + n));
          offset += n;
          this.#remainingInChunk -= n;
          if (this.#remainingInChunk === 0) {
            this.#state = 'data-crlf';
            this.#crlfSeen = 0;
          }
          break;
        }
        case 'data-crlf':
        case 'final-crlf': {
          const expected = this.#crlfSeen === 0 ? 0x0d : 0x0a;
          if (chunk[offset] !== expected) throw badRequest('An aws-chunked chunk is not followed by CRLF');
          offset++;
          if (++this.#crlfSeen === 2) {
            if (this.#state === 'final-crlf') {
              this.#state = 'done';
            } else {
              this.#endChunk();
              this.#state = 'size-line';
            }
          }
          break;
        }
        case 'trailer': {
          const { line, next } = this.#readLine(chunk, offset, MAX_TRAILER_BYTES);
          this.#trailerBytes += next - offset;
          if (this.#trailerBytes > MAX_TRAILER_BYTES) throw badRequest('The aws-chunked trailer is too long');
          offset = next;
          if (line !== undefined) this.#trailerLine(line);
          break;
        }
        case 'done':
          throw badRequest('Unexpected bytes after the end of the aws-chunked body');
      }
    }
  }

  #startChunk(line: string): void {
    const mode = this.#spec.mode as Extract<PayloadMode, { kind: 'chunked' }>;
    const semi = line.indexOf(';');
    const sizeText = semi < 0 ? line : line.slice(0, semi);
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText)) throw badRequest('An aws-chunked chunk size is not hexadecimal');
    const size = Number.parseInt(sizeText, 16);
    if (size > this.#spec.decodedLength - this.#total) {
      throw badRequest(`An aws-chunked chunk (${size} bytes) runs past the declared decoded length`);
    }
    if (mode.signed) {
      const ext = semi < 0 ? '' : line.slice(semi + 1);
      if (!ext.startsWith('chunk-signature=')) throw badRequest('A signed aws-chunked chunk has no chunk-signature');
      this.#chunkSignature = ext.slice('chunk-signature='.length);
      this.#chunkHash = createHash('sha256');
    }
    this.#chunkSize = size;
    if (size > 0) {
      this.#remainingInChunk = size;
      this.#state = 'data';
      return;
    }
    // The final, empty chunk: its signature closes the chain over the data chunks.
    this.#endChunk();
    this.#state = mode.trailer ? 'trailer' : 'final-crlf';
    this.#crlfSeen = 0;
  }

  #endChunk(): void {
    if (this.#chunkHash === undefined || this.#spec.signing === undefined) return;
    const s = this.#spec.signing;
    const digest = this.#chunkHash.digest('hex');
    this.#chunkHash = undefined;
    const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', s.amzDate, s.scope, this.#previousSignature, EMPTY_SHA256, digest].join(
      '\n',
    );
    const expected = hmac(s.signingKey, toSign).toString('hex');
    if (!signaturesEqual(expected, this.#chunkSignature)) {
      throw unauthenticated(
        'gateway.signature_mismatch',
        `The chunk signature of a ${this.#chunkSize}-byte chunk does not match; nothing was stored`,
      );
    }
    this.#previousSignature = this.#chunkSignature;
  }

  #trailerLine(line: string): void {
    if (line === '') {
      this.#state = 'done';
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw badRequest('An aws-chunked trailer line is not name:value');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') {
      this.#trailerSignature = value;
      return;
    }
    if (this.#trailerSignature !== undefined) throw badRequest('A trailer follows the trailer signature');
    this.#trailers.set(name, value);
    this.#trailerCanonical += `${name}:${value}\n`;
  }

  #finish(): void {
    const spec = this.#spec;
    const mode = spec.mode;
    // The final empty line of a trailer may be left out by some clients.
    const ended =
      this.#state === 'done' ||
      this.#state === 'plain' ||
      (this.#state === 'trailer' && this.#lineBytes === 0 && this.#trailers.size > 0);
    if (!ended || this.#total !== spec.decodedLength) {
      throw incomplete(`The body ended after ${this.#total} of ${spec.decodedLength} bytes; nothing was stored`);
    }
    if (mode.kind === 'plain' && mode.sha256 !== undefined) {
      const actual = this.#bodyHash?.digest('hex');
      if (actual !== mode.sha256) {
        throw invalidInput(
          'gateway.content_sha256_mismatch',
          'The provided x-amz-content-sha256 does not match what was computed.',
        );
      }
    }
    if (mode.kind === 'chunked' && mode.trailer && mode.signed) {
      const s = spec.signing as SigningContext;
      if (this.#trailerSignature === undefined) {
        throw unauthenticated('gateway.signature_mismatch', 'The signed trailer has no x-amz-trailer-signature');
      }
      const toSign = [
        'AWS4-HMAC-SHA256-TRAILER',
        s.amzDate,
        s.scope,
        this.#previousSignature,
        sha256Hex(this.#trailerCanonical),
      ].join('\n');
      if (!signaturesEqual(hmac(s.signingKey, toSign).toString('hex'), this.#trailerSignature)) {
        throw unauthenticated('gateway.signature_mismatch', 'The trailer signature does not match; nothing was stored');
      }
    }
    for (const [algorithm, checksum] of this.#checksums) this.checksums.set(algorithm, checksum.digest());
    const check = (algorithm: ChecksumAlgorithm, expected: string | undefined) => {
      if (expected === undefined) {
        throw invalidInput(
          'gateway.invalid_request',
          `The trailer announced ${checksumHeader(algorithm)} but did not carry it`,
        );
      }
      if (this.checksums.get(algorithm) !== expected) {
        throw invalidInput(
          'gateway.bad_digest',
          `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum; nothing was stored`,
        );
      }
    };
    if (spec.headerChecksum !== undefined) check(spec.headerChecksum.algorithm, spec.headerChecksum.expected);
    if (spec.trailerChecksum !== undefined)
      check(spec.trailerChecksum, this.#trailers.get(checksumHeader(spec.trailerChecksum)));
  }
}
