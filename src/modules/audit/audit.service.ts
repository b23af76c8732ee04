import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { type ChainedAuditEvent, type ChainVerdict, ChainVerifier } from '../../domain/audit-event.js';
import type { Principal } from '../../domain/model.js';
import { invalidInput } from '../../errors/errors.js';
import type { Clock } from '../../lib/clock.js';
import { requireAdmin } from '../identity/identity.service.js';
import type { AuditQuery, AuditStore } from './audit.store.js';

export type AuditSearch = Omit<AuditQuery, 'limit'> & { readonly limit?: number | undefined };

export interface AuditServiceDeps {
  readonly store: AuditStore;
  readonly clock: Clock;
}

export type AuditService = ReturnType<typeof createAuditService>;

const PAGE = 1000;
/** A change still this young may be running: it is not called unfinished yet. */
const UNFINISHED_SETTLE_MS = 60_000;
const CSV_COLUMNS = [
  'seq',
  'time',
  'requestId',
  'actor',
  'authMethod',
  'sourceIp',
  'action',
  'connection',
  'roleArn',
  'sessionName',
  'accessKeyId',
  'bucket',
  'key',
  'bytes',
  'outcome',
  'reasonCode',
  'durationMs',
  'hash',
] as const;

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const s = String(value);
  // Quote always when needed; a leading = + - @ is neutralised so spreadsheets do not run it as a formula.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function toCsvRow(e: ChainedAuditEvent): string {
  const record: Record<string, unknown> = { ...e };
  return CSV_COLUMNS.map((c) => csvCell(record[c])).join(',');
}

/** Reading the audit trail: search, verify, export and retention. Writing is the AuditTrail's job. */
export function createAuditService(deps: AuditServiceDeps) {
  const { store } = deps;

  async function* pages(range: { since?: string | undefined; until?: string | undefined } = {}) {
    let after = (await store.anchor()).seq;
    for (;;) {
      const page = await store.page(after, PAGE, range);
      if (page.length === 0) return;
      yield* page;
      after = (page[page.length - 1] as ChainedAuditEvent).seq;
    }
  }

  return {
    /** Admins search everything; other users see only their own events. Newest first. */
    async search(
      actor: Principal,
      query: AuditSearch,
    ): Promise<{ events: ChainedAuditEvent[]; nextBefore?: number | undefined }> {
      const limit = Math.min(Math.max(query.limit ?? 100, 1), 1000);
      const scoped = actor.role === 'admin' ? query : { ...query, actor: actor.username };
      if (actor.role !== 'admin' && query.actor !== undefined && query.actor !== actor.username) {
        return { events: [] };
      }
      const events = await store.search({ ...scoped, limit });
      const last = events[events.length - 1];
      return { events, nextBefore: events.length === limit && last ? last.seq : undefined };
    },

    /** Walks the stored chain from its anchor and reports the first broken link. */
    async verify(actor?: Principal): Promise<ChainVerdict & { anchorSeq: number }> {
      if (actor !== undefined) requireAdmin(actor);
      const anchor = await store.anchor();
      const verifier = new ChainVerifier(anchor);
      for await (const e of pages()) if (!verifier.push(e)) break;
      return { ...verifier.verdict(), anchorSeq: anchor.seq };
    },

    /**
     * Changes whose end was never recorded: `requested` events (recorded before a change) without a later event
     * of the same request and action — the process died during the change, or the trail failed after it. Those
     * younger than `settleMs` may still be running and are left out. Oldest first.
     */
    async unfinished(
      actor: Principal,
      options: { since?: string | undefined; settleMs?: number | undefined } = {},
    ): Promise<ChainedAuditEvent[]> {
      requireAdmin(actor);
      const open = new Map<string, ChainedAuditEvent>();
      const keyOf = (e: ChainedAuditEvent) => `${e.requestId}\u0000${e.action}`;
      for await (const e of pages({ since: options.since })) {
        if (e.requestId === undefined) continue;
        if (e.outcome === 'requested') open.set(keyOf(e), e);
        else open.delete(keyOf(e));
      }
      const settled = new Date(deps.clock.now() - (options.settleMs ?? UNFINISHED_SETTLE_MS)).toISOString();
      return [...open.values()].filter((e) => e.time < settled);
    },

    /** Events in order, as JSON lines or CSV, for a time range. */
    async *export(
      actor: Principal | undefined,
      range: { since?: string | undefined; until?: string | undefined },
      format: 'jsonl' | 'csv',
    ) {
      if (actor !== undefined) requireAdmin(actor);
      if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\n`;
      for await (const e of pages(range)) yield format === 'csv' ? `${toCsvRow(e)}\n` : `${JSON.stringify(e)}\n`;
    },

    /**
     * Archives every event older than `before` to a JSON-lines file in `archiveDir`, then deletes them and
     * records the last archived event as the new anchor, so the remaining chain still verifies.
     */
    async applyRetention(before: string, archiveDir: string): Promise<{ archived: number; file?: string | undefined }> {
      if (Number.isNaN(Date.parse(before)))
        throw invalidInput('audit.invalid_time', 'retention cut-off must be an ISO time');
      const verdict = await this.verify();
      if (!verdict.ok) {
        throw invalidInput(
          'audit.chain_broken',
          `refusing to archive a broken chain (event #${verdict.seq}: ${verdict.reason})`,
        );
      }
      await mkdir(archiveDir, { recursive: true, mode: 0o700 });
      const stamp = new Date(deps.clock.now()).toISOString().replaceAll(':', '-');
      const file = join(archiveDir, `audit-until-${stamp}-${randomUUID().slice(0, 8)}.jsonl`);
      let out: WriteStream | undefined;
      let last: ChainedAuditEvent | undefined;
      for await (const e of pages()) {
        // Stop at the first event not older than the cut: the archive is a prefix of the chain.
        if (e.time >= before) break;
        out ??= createWriteStream(file, { flags: 'wx', mode: 0o600 });
        if (!out.write(`${JSON.stringify(e)}\n`)) await new Promise<void>((r) => out?.once('drain', () => r()));
        last = e;
      }
      if (out === undefined || last === undefined) return { archived: 0 };
      out.end();
      await finished(out);
      const archived = await store.cut(
        { seq: last.seq, hash: last.hash, archivedTo: file },
        new Date(deps.clock.now()).toISOString(),
      );
      return { archived, file };
    },
  };
}
