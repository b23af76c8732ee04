/**
 * Merges concurrent calls for the same key into one: while a call for `key` is in flight, later callers
 * receive the same promise. Once it settles, the next call starts afresh (results are not cached here).
 */
export class SingleFlight<K, V> {
  readonly #inFlight = new Map<K, Promise<V>>();

  run(key: K, fn: () => Promise<V>): Promise<V> {
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) return pending;
    // The async wrapper turns a synchronous throw of `fn` into a rejection.
    const started = (async () => fn())();
    this.#inFlight.set(key, started);
    // Cleared only once the entry is set: clearing inside the wrapper ran before `set` when `fn` threw
    // synchronously, leaving the settled rejection cached for the key forever.
    const clear = () => {
      if (this.#inFlight.get(key) === started) this.#inFlight.delete(key);
    };
    started.then(clear, clear);
    return started;
  }

  get size(): number {
    return this.#inFlight.size;
  }
}
