import { hash } from 'node:crypto';

/**
 * `requested`: recorded before a change is made, fail-closed; the event of the same request id with one of the
 * other outcomes says how it ended. A `requested` event without one is a change whose end was never recorded.
 */
export type AuditOutcome = 'requested' | 'allowed' | 'denied' | 'error';

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
    // Most values of an event are flat: stringified here, without a call per value.
    const json = v === null || typeof v !== 'object' ? JSON.stringify(v) : canonicalJson(v);
    out += out === '' ? `${quotedKey(key)}:${json}` : `,${quotedKey(key)}:${json}`;
  }
  return `{${out}}`;
}

/** Event field names recur in every event: each is quoted once (bounded, in case keys were ever unbounded). */
const QUOTED_KEYS = new Map<string, string>();
function quotedKey(key: string): string {
  let quoted = QUOTED_KEYS.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (QUOTED_KEYS.size < 1024) QUOTED_KEYS.set(key, quoted);
  }
  return quoted;
}

/** The event's own content, without its chain fields. */
export function eventContent(event: AuditEvent | ChainedAuditEvent): AuditEvent {
  const { seq: _seq, prevHash: _prev, hash: _hash, ...content } = event as ChainedAuditEvent;
  return content;
}

function hashOf(prevHash: string, seq: number, contentJson: string): string {
  return hash('sha256', `${prevHash}\n${seq}\n${contentJson}`, 'hex');
}

/** hash = SHA-256(prevHash, seq, canonical content): editing, deleting or reordering an event breaks the chain. */
export function chainHash(prevHash: string, seq: number, event: AuditEvent): string {
  return hashOf(prevHash, seq, canonicalJson(eventContent(event)));
}

/** The canonical content of each event chained by this process, hashed once and stored as is. */
const CONTENT_JSON = new WeakMap<ChainedAuditEvent, string>();

export function chain(prev: { seq: number; hash: string }, event: AuditEvent): ChainedAuditEvent {
  const seq = prev.seq + 1;
  const content = 'hash' in event ? eventContent(event) : event;
  const json = canonicalJson(content);
  const chained: ChainedAuditEvent = Object.assign({}, content, {
    seq,
    prevHash: prev.hash,
    hash: hashOf(prev.hash, seq, json),
  });
  CONTENT_JSON.set(chained, json);
  return chained;
}

/** The event's content as JSON, the canonical form its hash covers (what the database stores). */
export function contentJsonOf(event: ChainedAuditEvent): string {
  return CONTENT_JSON.get(event) ?? canonicalJson(eventContent(event));
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
