import type { Clock } from './clock.js';
import { LruMap } from './lru-map.js';

/**
 * A bounded cache whose entries also expire after `ttlMs`. Used for hot read paths (token → principal,
 * name → connection) that are invalidated explicitly on change; the TTL bounds staleness when a change
 * happens somewhere this process does not hear about.
 */
export class TtlCache<K, V> {
  readonly #entries: LruMap<K, { value: V; expiresAt: number }>;
  readonly #ttlMs: number;
  readonly #clock: Clock;

  constructor(options: { ttlMs: number; maxEntries: number; clock: Clock }) {
    this.#entries = new LruMap(options.maxEntries);
    this.#ttlMs = options.ttlMs;
    this.#clock = options.clock;
  }

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#clock.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Caches `value` until the TTL passes or `notAfter` (epoch ms), whichever is first. */
  set(key: K, value: V, notAfter = Number.POSITIVE_INFINITY): void {
    if (this.#ttlMs <= 0) return;
    this.#entries.set(key, { value, expiresAt: Math.min(this.#clock.now() + this.#ttlMs, notAfter) });
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  /** Drops every entry whose value matches. */
  deleteWhere(predicate: (value: V) => boolean): void {
    this.#entries.deleteWhereEntry((_, entry) => predicate(entry.value));
  }

  clear(): void {
    this.#entries.deleteWhereEntry(() => true);
  }
}
