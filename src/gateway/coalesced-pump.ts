import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

export interface CoalescingOptions {
  /** Write once this much is gathered. */
  readonly maxBytes: number;
  /** Or once the first gathered byte has waited this long, so a slow source still streams. */
  readonly maxDelayMs: number;
}

/** How object reads are streamed to clients: 1 MiB writes, no byte held back more than 2 ms. */
export const OBJECT_READ_COALESCING: CoalescingOptions = { maxBytes: 1024 * 1024, maxDelayMs: 2 };

/**
 * Copies `source` into `sink` like `pipeline`, but gathers the source's small reads (64 KiB from a socket) into
 * writes of up to `maxBytes`. Each write to a waiting client's socket can wake that client, and on virtual
 * machines a wake-up costs more than copying the bytes: fewer, larger writes measured a fifth less gateway CPU
 * per GiB read. Memory stays bounded by `maxBytes` plus the sink's buffer; backpressure pauses the source.
 *
 * Resolves when the sink has ended; rejects (and destroys both streams) when either fails or the sink closes early.
 */
export async function pumpCoalesced(source: Readable, sink: Writable, options: CoalescingOptions): Promise<void> {
  let parts: Buffer[] = [];
  let timer: NodeJS.Timeout | undefined;
  let gathered = 0;

  const flush = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (parts.length === 0 || sink.destroyed) return;
    sink.cork();
    for (const part of parts) sink.write(part);
    sink.uncork();
    parts = [];
    gathered = 0;
  };
  const drained = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        sink.off('drain', done);
        sink.off('close', done);
        resolve();
      };
      sink.on('drain', done);
      sink.on('close', done);
    });
  const gone = () => new Error('the receiver closed the stream before it ended');

  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      if (sink.destroyed) throw gone();
      parts.push(chunk);
      gathered += chunk.length;
      if (gathered >= options.maxBytes) flush();
      else timer ??= setTimeout(flush, options.maxDelayMs);
      // Whichever write filled the sink (this one or a timed one), read no more until it has drained.
      if (sink.writableNeedDrain) await drained();
    }
    flush();
    if (sink.destroyed) throw gone();
    sink.end();
    await finished(sink);
  } catch (error) {
    if (timer !== undefined) clearTimeout(timer);
    source.destroy();
    sink.destroy();
    throw error;
  }
}
