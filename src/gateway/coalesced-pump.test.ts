import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { pumpCoalesced } from './coalesced-pump.js';

const KiB = 1024;

/** Records the size of each write it receives; `delayMs` per write makes it a slow receiver. */
function recordingSink(highWaterMark: number, delayMs = 0) {
  const writes: number[] = [];
  const chunks: Buffer[] = [];
  const sink = new Writable({
    highWaterMark,
    writev(entries, callback) {
      let n = 0;
      for (const { chunk } of entries) {
        chunks.push(chunk as Buffer);
        n += (chunk as Buffer).length;
      }
      writes.push(n);
      if (delayMs === 0) callback();
      else setTimeout(callback, delayMs);
    },
  });
  return { sink, writes, bytes: () => Buffer.concat(chunks) };
}

function chunkedSource(count: number, size: number): { source: Readable; expected: Buffer } {
  const parts = Array.from({ length: count }, (_, i) => Buffer.alloc(size, i % 251));
  return { source: Readable.from(parts), expected: Buffer.concat(parts) };
}

describe('pumpCoalesced', () => {
  it('copies every byte in order, in writes of about maxBytes instead of one per read', async () => {
    const { source, expected } = chunkedSource(64, 64 * KiB);
    const { sink, writes, bytes } = recordingSink(1024 * KiB);
    await pumpCoalesced(source, sink, { maxBytes: 1024 * KiB, maxDelayMs: 50 });
    expect(bytes().equals(expected)).toBe(true);
    expect(writes.length).toBeLessThanOrEqual(8);
    expect(writes.length).toBeGreaterThanOrEqual(4);
  });

  it('(for comparison) pipeline hands the same receiver one write per read', async () => {
    const { source } = chunkedSource(64, 64 * KiB);
    const { sink, writes } = recordingSink(1024 * KiB);
    await pipeline(source, sink);
    expect(writes.length).toBe(64);
  });

  it('still streams a slow source: gathered bytes go out after maxDelayMs, before the source ends', async () => {
    const source = new PassThrough();
    const { sink, bytes } = recordingSink(1024 * KiB);
    const done = pumpCoalesced(source, sink, { maxBytes: 1024 * KiB, maxDelayMs: 5 });
    source.write(Buffer.from('first bytes'));
    await new Promise((r) => setTimeout(r, 60));
    expect(bytes().toString()).toBe('first bytes');
    source.end(Buffer.from(', the rest'));
    await done;
    expect(bytes().toString()).toBe('first bytes, the rest');
  });

  it('keeps memory bounded with a slow receiver: the source is read no faster than the receiver drains', async () => {
    let produced = 0;
    const source = new Readable({
      highWaterMark: 64 * KiB,
      read() {
        produced += 64 * KiB;
        this.push(produced > 4096 * KiB ? null : Buffer.alloc(64 * KiB));
      },
    });
    const { sink, bytes } = recordingSink(256 * KiB, 20);
    const done = pumpCoalesced(source, sink, { maxBytes: 256 * KiB, maxDelayMs: 2 });
    await new Promise((r) => setTimeout(r, 100));
    // Ahead of the receiver by at most its buffer, one gathered write and the source's own buffering.
    expect(produced - bytes().length).toBeLessThan(1024 * KiB);
    await done;
    expect(bytes().length).toBe(4096 * KiB);
  });

  it('rejects and stops reading the source when the receiver goes away mid-stream', async () => {
    const source = new PassThrough();
    const { sink } = recordingSink(64 * KiB);
    const done = pumpCoalesced(source, sink, { maxBytes: 64 * KiB, maxDelayMs: 1 });
    source.write(Buffer.alloc(64 * KiB));
    await new Promise((r) => setTimeout(r, 20));
    sink.destroy();
    source.write(Buffer.alloc(64 * KiB));
    await expect(done).rejects.toThrow();
    expect(source.destroyed).toBe(true);
  });

  it('rejects and closes the receiver when the source fails', async () => {
    const source = new PassThrough();
    const { sink } = recordingSink(64 * KiB);
    const done = pumpCoalesced(source, sink, { maxBytes: 64 * KiB, maxDelayMs: 1 });
    source.write(Buffer.alloc(10));
    source.destroy(new Error('S3 reset the connection'));
    await expect(done).rejects.toThrow('S3 reset the connection');
    expect(sink.destroyed).toBe(true);
  });
});
