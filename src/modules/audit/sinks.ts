import { appendFile, mkdir, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ChainedAuditEvent } from '../../domain/audit-event.js';
import type { AuditStore } from './audit.store.js';

/** Somewhere audit events are written. A batch is accepted only when the whole batch was written. */
export interface AuditSink {
  readonly name: string;
  /**
   * Writes without waiting on I/O (SQLite): no event can queue up while a batch is written, so the trail holds a
   * turn's events and writes them together.
   */
  readonly inline?: boolean;
  write(events: readonly ChainedAuditEvent[]): Promise<void>;
}

export function databaseSink(store: Pick<AuditStore, 'append' | 'appendsInline'>): AuditSink {
  return {
    name: 'database',
    inline: store.appendsInline,
    async write(events) {
      await store.append(events);
    },
  };
}

/**
 * JSON lines, one event per line, rotated by size: `audit.jsonl` → `audit.jsonl.1` → … `.N` (oldest dropped).
 * Writes are appends of whole batches, so a crash leaves at most a torn last line, which verify reports.
 */
export function fileSink(options: { path: string; maxBytes: number; maxFiles: number }): AuditSink {
  let ready: Promise<void> | undefined;
  async function rotateIfNeeded(incoming: number) {
    let size = 0;
    try {
      size = (await stat(options.path)).size;
    } catch {
      return;
    }
    if (size + incoming <= options.maxBytes) return;
    for (let i = options.maxFiles - 1; i >= 1; i--) {
      await rename(`${options.path}.${i}`, `${options.path}.${i + 1}`).catch(() => undefined);
    }
    await rename(options.path, `${options.path}.1`);
  }
  return {
    name: `file:${options.path}`,
    async write(events) {
      ready ??= mkdir(dirname(options.path), { recursive: true, mode: 0o700 }).then(() => undefined);
      await ready;
      const text = events.map((e) => `${JSON.stringify(e)}\n`).join('');
      await rotateIfNeeded(Buffer.byteLength(text));
      await appendFile(options.path, text, { mode: 0o600 });
    },
  };
}

/** POSTs each batch as a JSON array; anything but a 2xx is a refusal. */
export function webhookSink(options: {
  url: string;
  timeoutMs: number;
  headers?: Readonly<Record<string, string>> | undefined;
}): AuditSink {
  return {
    name: `webhook:${new URL(options.url).host}`,
    async write(events) {
      const res = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(options.headers ?? {}) },
        body: JSON.stringify(events),
        // Following a 301/302/303 turns the POST into a body-less GET whose 2xx would count as delivered.
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`audit webhook answered ${res.status}`);
    },
  };
}

export type AuditSinkConfig =
  | { readonly type: 'database' }
  | { readonly type: 'file'; readonly path: string; readonly maxBytes: number; readonly maxFiles: number }
  | { readonly type: 'webhook'; readonly url: string; readonly headers?: Readonly<Record<string, string>> | undefined };

/** The configured sinks, in order. */
export function buildAuditSinks(
  configs: readonly AuditSinkConfig[],
  store: Pick<AuditStore, 'append' | 'appendsInline'>,
  timeoutMs: number,
): AuditSink[] {
  return configs.map((c): AuditSink => {
    if (c.type === 'database') return databaseSink(store);
    if (c.type === 'file') return fileSink(c);
    return webhookSink({ url: c.url, headers: c.headers, timeoutMs });
  });
}
