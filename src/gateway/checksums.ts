/**
 * The flexible checksums S3 clients send (`x-amz-checksum-*`, as a header or an aws-chunked trailer):
 * CRC32 (zlib, native), CRC32C and CRC64NVME (table-driven, here), SHA1 and SHA256 (node:crypto).
 * Values are base64 of the big-endian digest, as on the wire.
 */
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';

export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** The header (and trailer) name of an algorithm, e.g. `x-amz-checksum-crc32c`. */
export const checksumHeader = (algorithm: ChecksumAlgorithm): string => `x-amz-checksum-${algorithm}`;

/** The algorithm a header name stands for, or undefined. */
export function algorithmOfHeader(name: string): ChecksumAlgorithm | undefined {
  const lower = name.toLowerCase();
  return CHECKSUM_ALGORITHMS.find((a) => checksumHeader(a) === lower);
}

/** An incremental checksum over a byte stream. */
export interface Checksum {
  update(data: Uint8Array): void;
  /** The base64 digest; call once. */
  digest(): string;
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

// CRC-64/NVME is reflected, so the table holds the reflected polynomial 0x9a6c9329ac4bc9b5, split into
// 32-bit halves: JavaScript has no fast 64-bit integers (BigInt is ~50× slower here).
const CRC64_HI = new Uint32Array(256);
const CRC64_LO = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let hi = 0;
  let lo = i;
  for (let k = 0; k < 8; k++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi = hi >>> 1;
    if (carry) {
      hi = (hi ^ 0x9a6c9329) >>> 0;
      lo = (lo ^ 0xac4bc9b5) >>> 0;
    }
  }
  CRC64_HI[i] = hi;
  CRC64_LO[i] = lo;
}

function uint32Base64(value: number): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out.toString('base64');
}

class Crc32 implements Checksum {
  #crc = 0;
  update(data: Uint8Array): void {
    this.#crc = crc32(data, this.#crc);
  }
  digest(): string {
    return uint32Base64(this.#crc);
  }
}

class Crc32c implements Checksum {
  #crc = 0xffffffff;
  update(data: Uint8Array): void {
    let c = this.#crc;
    for (let i = 0; i < data.length; i++) c = (CRC32C_TABLE[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
    this.#crc = c >>> 0;
  }
  digest(): string {
    return uint32Base64(this.#crc ^ 0xffffffff);
  }
}

class Crc64Nvme implements Checksum {
  #hi = 0xffffffff;
  #lo = 0xffffffff;
  update(data: Uint8Array): void {
    let hi = this.#hi;
    let lo = this.#lo;
    for (let i = 0; i < data.length; i++) {
      const index = (lo ^ (data[i] as number)) & 0xff;
      lo = (((lo >>> 8) | (hi << 24)) ^ (CRC64_LO[index] as number)) >>> 0;
      hi = ((hi >>> 8) ^ (CRC64_HI[index] as number)) >>> 0;
    }
    this.#hi = hi;
    this.#lo = lo;
  }
  digest(): string {
    const out = Buffer.alloc(8);
    out.writeUInt32BE((this.#hi ^ 0xffffffff) >>> 0, 0);
    out.writeUInt32BE((this.#lo ^ 0xffffffff) >>> 0, 4);
    return out.toString('base64');
  }
}

class Digest implements Checksum {
  readonly #hash: Hash;
  constructor(algorithm: 'sha1' | 'sha256') {
    this.#hash = createHash(algorithm);
  }
  update(data: Uint8Array): void {
    this.#hash.update(data);
  }
  digest(): string {
    return this.#hash.digest('base64');
  }
}

export function createChecksum(algorithm: ChecksumAlgorithm): Checksum {
  switch (algorithm) {
    case 'crc32':
      return new Crc32();
    case 'crc32c':
      return new Crc32c();
    case 'crc64nvme':
      return new Crc64Nvme();
    case 'sha1':
    case 'sha256':
      return new Digest(algorithm);
  }
}

/** The base64 checksum of a whole buffer. */
export function checksumOf(algorithm: ChecksumAlgorithm, data: Uint8Array): string {
  const c = createChecksum(algorithm);
  c.update(data);
  return c.digest();
}
