import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { algorithmOfHeader, CHECKSUM_ALGORITHMS, checksumOf, createChecksum } from './checksums.js';

const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
const CHECK = Buffer.from('123456789');

describe('checksums', () => {
  // The standard "check" values of each CRC catalogue entry, over the ASCII bytes "123456789".
  it.each([
    ['crc32', b64('cbf43926')],
    ['crc32c', b64('e3069283')],
    ['crc64nvme', b64('ae8b14860a799888')],
    ['sha1', createHash('sha1').update(CHECK).digest('base64')],
    ['sha256', createHash('sha256').update(CHECK).digest('base64')],
  ] as const)('%s of "123456789" is the catalogue check value', (algorithm, expected) => {
    expect(checksumOf(algorithm, CHECK)).toBe(expected);
  });

  it.each(CHECKSUM_ALGORITHMS)('%s is the same whether fed at once or in pieces', (algorithm) => {
    const data = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 31) & 0xff));
    const c = createChecksum(algorithm);
    for (let i = 0; i < data.length; i += 777) c.update(data.subarray(i, i + 777));
    expect(c.digest()).toBe(checksumOf(algorithm, data));
  });

  it('of nothing is the initial value after the final xor', () => {
    expect(checksumOf('crc32', Buffer.alloc(0))).toBe('AAAAAA==');
    expect(checksumOf('crc32c', Buffer.alloc(0))).toBe('AAAAAA==');
    expect(checksumOf('crc64nvme', Buffer.alloc(0))).toBe('AAAAAAAAAAA=');
  });

  it('maps header names to algorithms, case-insensitively, and nothing else', () => {
    expect(algorithmOfHeader('X-Amz-Checksum-CRC64NVME')).toBe('crc64nvme');
    expect(algorithmOfHeader('x-amz-checksum-md5')).toBeUndefined();
    expect(algorithmOfHeader('x-amz-checksum-algorithm')).toBeUndefined();
  });
});
