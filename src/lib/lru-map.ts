interface Slot<V> {
  value: V;
  /** Read since it was last given a second chance. */
  used: boolean;
}

/**
 * A Map bounded to `maxEntries`, evicting a least recently used entry. Recency is kept the CLOCK way (second
 * chance): a read only marks its entry, and eviction moves marked entries to the back instead of dropping them.
 * A read that re-inserted its entry to keep strict order cost two Map writes on every cached request.
 */
export class LruMap<K, V> {
  readonly #slots = new Map<K, Slot<V>>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.#maxEntries = maxEntries;
  }

  get(key: K): V | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    slot.used = true;
    return slot.value;
  }

  set(key: K, value: V): void {
    this.#slots.delete(key);
    this.#slots.set(key, { value, used: false });
    while (this.#slots.size > this.#maxEntries) {
      const oldest = this.#slots.entries().next();
      if (oldest.done === true) return;
      const [oldestKey, slot] = oldest.value;
      this.#slots.delete(oldestKey);
      // The entry just set is never the one evicted; a marked one gets its second chance.
      if (slot.used || oldestKey === key) {
        slot.used = false;
        this.#slots.set(oldestKey, slot);
      }
    }
  }

  delete(key: K): boolean {
    return this.#slots.delete(key);
  }

  /** Removes every entry whose key matches. */
  deleteWhere(predicate: (key: K) => boolean): number {
    return this.deleteWhereEntry((key) => predicate(key));
  }

  /** Removes every entry for which `predicate(key, value)` holds. */
  deleteWhereEntry(predicate: (key: K, value: V) => boolean): number {
    let removed = 0;
    for (const [key, slot] of [...this.#slots]) {
      if (predicate(key, slot.value)) {
        this.#slots.delete(key);
        removed++;
      }
    }
    return removed;
  }

  get size(): number {
    return this.#slots.size;
  }
}
