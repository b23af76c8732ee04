import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { isRolegateError } from '../errors/errors.js';
import { EMPTY_SHA256, hmac, sha256Hex, signingKey, UNSIGNED_PAYLOAD } from '../lib/sigv4.js';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, checksumOf } from './checksums.js';
import {
  PayloadDecoder,
  type PayloadSpec,
  payloadSpecOf,
  STREAMING_SIGNED,
  STREAMING_SIGNED_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
} from './payload.js';
import type { SigningContext } from './sigv4.js';

// The worked examples of AWS's "Signature calculations for the Authorization header: transferring payload in
// multiple chunks" pages (sigv4-streaming and sigv4-streaming-trailers), with their published signatures.
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SCOPE = '20130524/us-east-1/s3/aws4_request';
const AMZ_DATE = '20130524T000000Z';
const A64K = Buffer.alloc(65536, 'a');
const A1K = Buffer.alloc(1024, 'a');
const EXAMPLE = Buffer.concat([A64K, A1K]);

const signing = (seedSignature: string): SigningContext => ({
  amzDate: AMZ_DATE,
  scope: SCOPE,
  signingKey: signingKey(SECRET, SCOPE),
  seedSignature,
});

const awsExample1 = Buffer.concat([
  Buffer.from('10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n'),
  A64K,
  Buffer.from('\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n'),
  A1K,
  Buffer.from('\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n'),
]);
const example1Spec: PayloadSpec = {
  mode: { kind: 'chunked', signed: true, trailer: false },
  decodedLength: 66560,
  signing: signing('4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9'),
};

const awsExample2 = Buffer.concat([
  Buffer.from('10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n'),
  A64K,
  Buffer.from('\r\n400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n'),
  A1K,
  Buffer.from('\r\n0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n'),
  Buffer.from('x-amz-checksum-crc32c:sOO8/Q==\r\n'),
  Buffer.from('x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n'),
]);
const example2Spec: PayloadSpec = {
  mode: { kind: 'chunked', signed: true, trailer: true },
  decodedLength: 66560,
  trailerChecksum: 'crc32c',
  signing: signing('106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e'),
};

/** An unsigned aws-chunked body with a trailing checksum, as the AWS SDKs send it by default. */
function unsignedTrailer(
  data: Buffer,
  algorithm: ChecksumAlgorithm,
  value = checksumOf(algorithm, data),
  chunk = 8192,
) {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunk) {
    const piece = data.subarray(i, i + chunk);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`0\r\nx-amz-checksum-${algorithm}:${value}\r\n\r\n`));
  return Buffer.concat(parts);
}

/** A signed aws-chunked body, signed here with the chain rules (seed = any request signature). */
function signedChunks(data: Buffer, ctx: SigningContext, chunk = 16384): Buffer {
  let previous = ctx.seedSignature;
  const parts: Buffer[] = [];
  const sign = (piece: Buffer) => {
    previous = hmac(
      ctx.signingKey,
      ['AWS4-HMAC-SHA256-PAYLOAD', ctx.amzDate, ctx.scope, previous, EMPTY_SHA256, sha256Hex(piece)].join('\n'),
    ).toString('hex');
    return previous;
  };
  for (let i = 0; i < data.length; i += chunk) {
    const piece = data.subarray(i, i + chunk);
    parts.push(
      Buffer.from(`${piece.length.toString(16)};chunk-signature=${sign(piece)}\r\n`),
      piece,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`0;chunk-signature=${sign(Buffer.alloc(0))}\r\n\r\n`));
  return Buffer.concat(parts);
}

interface Outcome {
  readonly code: string;
  readonly output: Buffer;
  readonly decoder: PayloadDecoder;
}

/** Feeds `wire` in slices of `slice` bytes; reports the error code (or 'ok') and what came out downstream. */
async function decode(spec: PayloadSpec, wire: Buffer, slice = 4096): Promise<Outcome> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < wire.length; i += slice) pieces.push(wire.subarray(i, i + slice));
  const received: Buffer[] = [];
  const decoder = new PayloadDecoder(spec);
  let code = 'ok';
  try {
    await pipeline(
      Readable.from(pieces),
      decoder,
      new Writable({
        write(chunk: Buffer, _e, cb) {
          received.push(Buffer.from(chunk));
          cb();
        },
      }),
    );
  } catch (e) {
    if (!isRolegateError(e)) throw e;
    code = e.code;
  }
  return { code, output: Buffer.concat(received), decoder };
}

describe('signed aws-chunked bodies (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)', () => {
  it.each([1, 7, 100, 4096, 65536, 70000, awsExample1.length])(
    "decode AWS's example with its published chunk signatures, fed %i bytes at a time",
    async (slice) => {
      const out = await decode(example1Spec, awsExample1, slice);
      expect(out.code).toBe('ok');
      expect(out.output.equals(EXAMPLE)).toBe(true);
    },
  );

  it('refuse a changed data byte, and never pass on the whole body', async () => {
    const bad = Buffer.from(awsExample1);
    bad[100] = 'b'.charCodeAt(0);
    const out = await decode(example1Spec, bad);
    expect(out.code).toBe('gateway.signature_mismatch');
    expect(out.output.length).toBeLessThan(66560);
  });

  it('refuse a wrong seed, a wrong final signature and a missing chunk-signature', async () => {
    expect((await decode({ ...example1Spec, signing: signing('0'.repeat(64)) }, awsExample1)).code).toBe(
      'gateway.signature_mismatch',
    );
    const finalChanged = Buffer.from(
      awsExample1.toString('latin1').replace('0;chunk-signature=b6', '0;chunk-signature=c6'),
      'latin1',
    );
    const out = await decode(example1Spec, finalChanged);
    expect(out.code).toBe('gateway.signature_mismatch');
    expect(out.output.length).toBeLessThan(66560);
    const unsignedChunk = Buffer.from(
      awsExample1.toString('latin1').replace(/^10000;chunk-signature=[0-9a-f]+/, '10000'),
      'latin1',
    );
    expect((await decode(example1Spec, unsignedChunk)).code).toBe('gateway.invalid_chunk');
  });

  it('refuse bad sizes: not hexadecimal, beyond the declared length, or a shorter declared length', async () => {
    expect((await decode(example1Spec, Buffer.from(`zz;chunk-signature=${'0'.repeat(64)}\r\n`))).code).toBe(
      'gateway.invalid_chunk',
    );
    expect((await decode({ ...example1Spec, decodedLength: 1000 }, awsExample1)).code).toBe('gateway.invalid_chunk');
    expect((await decode({ ...example1Spec, decodedLength: 70000 }, awsExample1)).code).toBe('gateway.incomplete_body');
    expect((await decode(example1Spec, Buffer.from(`${'1'.repeat(300)}\r\n`))).code).toBe('gateway.invalid_chunk');
  });

  it('refuse a truncated body and bytes after the final chunk', async () => {
    for (const cut of [10, 5000, 66000, awsExample1.length - 2]) {
      const out = await decode(example1Spec, awsExample1.subarray(0, cut));
      expect(out.code, `cut at ${cut}`).toBe('gateway.incomplete_body');
      expect(out.output.length).toBeLessThan(66560);
    }
    expect((await decode(example1Spec, Buffer.concat([awsExample1, Buffer.from('x')]))).code).toBe(
      'gateway.invalid_chunk',
    );
  });

  it('round-trip bodies of any size, including empty', async () => {
    const ctx = signing('1'.repeat(64));
    for (const size of [0, 1, 16384, 40000]) {
      const data = Buffer.alloc(size, 7);
      const out = await decode({ ...example1Spec, decodedLength: size, signing: ctx }, signedChunks(data, ctx), 333);
      expect(out.code).toBe('ok');
      expect(out.output.equals(data)).toBe(true);
    }
  });
});

describe('signed aws-chunked bodies with a trailer (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER)', () => {
  it("decode AWS's trailer example: chunk signatures, CRC32C trailer and trailer signature", async () => {
    const out = await decode(example2Spec, awsExample2, 999);
    expect(out.code).toBe('ok');
    expect(out.output.equals(EXAMPLE)).toBe(true);
    expect(out.decoder.checksums.get('crc32c')).toBe('sOO8/Q==');
  });

  it('refuse a changed trailer value or signature, and a missing trailer signature', async () => {
    const text = awsExample2.toString('latin1');
    const changedValue = Buffer.from(text.replace('sOO8/Q==', 'AAAAAA=='), 'latin1');
    expect((await decode(example2Spec, changedValue)).code).toBe('gateway.signature_mismatch');
    const changedSig = Buffer.from(text.replace('signature:d81f', 'signature:e81f'), 'latin1');
    expect((await decode(example2Spec, changedSig)).code).toBe('gateway.signature_mismatch');
    const noSig = Buffer.from(text.replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, ''), 'latin1');
    expect((await decode(example2Spec, noSig)).code).toBe('gateway.signature_mismatch');
  });
});

describe('unsigned aws-chunked bodies with a trailing checksum (STREAMING-UNSIGNED-PAYLOAD-TRAILER)', () => {
  const data = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7) & 0xff));
  const spec = (algorithm: ChecksumAlgorithm): PayloadSpec => ({
    mode: { kind: 'chunked', signed: false, trailer: true },
    decodedLength: data.length,
    trailerChecksum: algorithm,
  });

  it.each(CHECKSUM_ALGORITHMS)('verify a %s trailer', async (algorithm) => {
    const out = await decode(spec(algorithm), unsignedTrailer(data, algorithm), 1000);
    expect(out.code).toBe('ok');
    expect(out.output.equals(data)).toBe(true);
    expect(out.decoder.checksums.get(algorithm)).toBe(checksumOf(algorithm, data));
  });

  it.each(CHECKSUM_ALGORITHMS)('refuse a %s mismatch without passing on the whole body', async (algorithm) => {
    const wrong = checksumOf(algorithm, Buffer.from('something else'));
    const out = await decode(spec(algorithm), unsignedTrailer(data, algorithm, wrong));
    expect(out.code).toBe('gateway.bad_digest');
    expect(out.output.length).toBeLessThan(data.length);
  });

  it('refuse a trailer that is announced but missing, and accept a missing final empty line', async () => {
    const missing = Buffer.from(
      unsignedTrailer(data, 'crc32')
        .toString('latin1')
        .replace(/x-amz-checksum-crc32:.*\r\n/, ''),
      'latin1',
    );
    expect((await decode(spec('crc32'), missing)).code).toBe('gateway.invalid_request');
    const noFinalLine = unsignedTrailer(data, 'crc32').subarray(0, -2);
    expect((await decode(spec('crc32'), noFinalLine)).code).toBe('ok');
  });
});

describe('plain bodies', () => {
  const data = Buffer.from('hello, gateway');
  it('verify a signed payload hash', async () => {
    const sha = createHash('sha256').update(data).digest('hex');
    expect((await decode({ mode: { kind: 'plain', sha256: sha }, decodedLength: data.length }, data, 3)).code).toBe(
      'ok',
    );
    const other = createHash('sha256').update('x').digest('hex');
    const out = await decode({ mode: { kind: 'plain', sha256: other }, decodedLength: data.length }, data, 3);
    expect(out.code).toBe('gateway.content_sha256_mismatch');
    expect(out.output.length).toBeLessThan(data.length);
  });

  it('verify a checksum sent as a header', async () => {
    const spec = (expected: string): PayloadSpec => ({
      mode: { kind: 'plain' },
      decodedLength: data.length,
      headerChecksum: { algorithm: 'crc64nvme', expected },
    });
    expect((await decode(spec(checksumOf('crc64nvme', data)), data)).code).toBe('ok');
    expect((await decode(spec('AAAAAAAAAAA='), data)).code).toBe('gateway.bad_digest');
  });
});

describe('payloadSpecOf', () => {
  const spec = (hash: string, headers: Record<string, string>) =>
    payloadSpecOf(new Map(Object.entries(headers)), { payloadHash: hash }, signing('0'.repeat(64)));
  const codeOf = (fn: () => unknown) => {
    try {
      fn();
      return 'ok';
    } catch (e) {
      return isRolegateError(e) ? e.code : String(e);
    }
  };

  it('reads the mode, the decoded length and the checksums from the headers', () => {
    expect(
      spec(STREAMING_UNSIGNED_TRAILER, {
        'x-amz-decoded-content-length': '5',
        'x-amz-trailer': 'x-amz-checksum-crc32',
      }),
    ).toMatchObject({
      mode: { kind: 'chunked', signed: false, trailer: true },
      decodedLength: 5,
      trailerChecksum: 'crc32',
    });
    expect(spec(UNSIGNED_PAYLOAD, { 'content-length': '9', 'x-amz-checksum-sha1': 'abc=' })).toMatchObject({
      mode: { kind: 'plain' },
      decodedLength: 9,
      headerChecksum: { algorithm: 'sha1', expected: 'abc=' },
    });
  });

  it('refuses what it cannot verify', () => {
    expect(codeOf(() => spec(STREAMING_SIGNED, {}))).toBe('gateway.missing_content_length');
    expect(
      codeOf(() =>
        spec(STREAMING_SIGNED_TRAILER, { 'x-amz-decoded-content-length': '1', 'x-amz-trailer': 'x-amz-meta-a' }),
      ),
    ).toBe('gateway.invalid_request');
    expect(codeOf(() => spec('STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD', {}))).toBe('gateway.not_implemented');
    expect(codeOf(() => spec('nonsense', { 'content-length': '1' }))).toBe('gateway.invalid_argument');
    expect(
      codeOf(() =>
        payloadSpecOf(new Map([['x-amz-decoded-content-length', '1']]), { payloadHash: STREAMING_SIGNED }, undefined),
      ),
    ).toBe('gateway.invalid_request');
  });
});
