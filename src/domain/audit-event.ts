import { createHash } from 'node:crypto';

export type AuditOutcome = 'allowed' | 'denied' | 'error';

/**
 * One audited fact. There is deliberately no field that could hold a secret: access key ids are public
 * halves; admin properties appear by name only; details come from typed errors, which never carry secrets.
 */
export interface AuditEvent {
  readonly id: string;
  readonly time: string;
  readonly requestId?: string | undefined;
  readonly actor?: string | undefined;
  /** `token`, `gateway-key`, `exec-token`, `oidc`, `saml`, `cli` … */
  readonly authMethod?: string | undefined;
  readonly sourceIp?: string | undefined;
  readonly userAgent?: string | undefined;
  /** Dotted verb, e.g. `credentials.issue`, `object.get`, `connection.update`. */
  readonly action: string;
  readonly connection?: string | undefined;
  readonly roleArn?: string | undefined;
  readonly sessionName?: string | undefined;
  readonly accessKeyId?: string | undefined;
  readonly bucket?: string | undefined;
  readonly key?: string | undefined;
  readonly bytes?: number | undefined;
  readonly outcome: AuditOutcome;
  readonly reasonCode?: string | undefined;
  readonly durationMs?: number | undefined;
  /** Small non-secret facts (a target user's name, a property name, an HTTP status). */
  readonly details?: Readonly<Record<string, string | number | boolean>> | undefined;
}

/** An event as stored: its place in the chain and the hash that binds it to everything before it. */
export interface ChainedAuditEvent extends AuditEvent {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/**
 * JSON with keys sorted at every level and undefined dropped: the same event always hashes the same. The format is
 * frozen (stored events are verified against it); it runs once per audited request, hence plain loops.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  // The default sort compares UTF-16 code units, as JSON canonical forms and the stored chain expect.
  const keys = Object.keys(record).sort();
  let out = '';
  for (const key of keys) {
    const v = record[key];
    if (v === undefined) continue;
    out += `${out === '' ? '' : ','}${JSON.stringify(key)}:${canonicalJson(v)}`;
  }
  return `{${out}}`;
}

/** The event's own content, without its chain fields. */
export function eventContent(event: AuditEvent | ChainedAuditEvent): AuditEvent {
  const { seq: _seq, prevHash: _prev, hash: _hash, ...content } = event as ChainedAuditEvent;
  return content;
}

function contentHash(prevHash: string, seq: number, content: AuditEvent): string {
  return createHash('sha256')
    .update(`${prevHash}\n${seq}\n${canonicalJson(content)}`, 'utf8')
    .digest('hex');
}

/** hash = SHA-256(prevHash, seq, canonical content): editing, deleting or reordering an event breaks the chain. */
export function chainHash(prevHash: string, seq: number, event: AuditEvent): string {
  return contentHash(prevHash, seq, eventContent(event));
}

export function chain(prev: { seq: number; hash: string }, event: AuditEvent): ChainedAuditEvent {
  const seq = prev.seq + 1;
  const content = eventContent(event);
  return { ...content, seq, prevHash: prev.hash, hash: contentHash(prev.hash, seq, content) };
}

export type ChainVerdict =
  | { readonly ok: true; readonly checked: number; readonly head: { seq: number; hash: string } }
  | { readonly ok: false; readonly checked: number; readonly seq: number; readonly reason: string };

/**
 * Checks a run of events against the anchor that precedes it (the genesis, or the last archived event).
 * Reports the first broken link: a gap (deleted or reordered event), a wrong back-link, or altered content.
 */
export class ChainVerifier {
  #expected: { seq: number; hash: string };
  #checked = 0;
  #failure: { seq: number; reason: string } | undefined;

  constructor(anchor: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH }) {
    this.#expected = anchor;
  }

  /** Feeds the next stored event; returns false once the chain is broken. */
  push(event: ChainedAuditEvent): boolean {
    if (this.#failure !== undefined) return false;
    const fail = (reason: string) => {
      this.#failure = { seq: event.seq, reason };
      return false;
    };
    if (event.seq !== this.#expected.seq + 1) {
      return fail(
        `expected event #${this.#expected.seq + 1} next but found #${event.seq} (an event was deleted or reordered)`,
      );
    }
    if (event.prevHash !== this.#expected.hash) return fail(`event #${event.seq} does not link to the event before it`);
    if (chainHash(event.prevHash, event.seq, event) !== event.hash) {
      return fail(`event #${event.seq} was altered after it was recorded`);
    }
    this.#checked++;
    this.#expected = { seq: event.seq, hash: event.hash };
    return true;
  }

  verdict(): ChainVerdict {
    if (this.#failure !== undefined) return { ok: false, checked: this.#checked, ...this.#failure };
    return { ok: true, checked: this.#checked, head: this.#expected };
  }
}
