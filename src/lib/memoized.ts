import { LruMap } from './lru-map.js';

/**
 * `fn` remembered for its most recent `maxEntries` distinct arguments. Only for pure functions of a string whose
 * results callers never modify (per-request checks of values that rarely change: role ARNs, templates, session
 * names). A call that throws is not remembered.
 */
export function memoized<R extends NonNullable<unknown>>(
  fn: (arg: string) => R,
  maxEntries = 1024,
): (arg: string) => R {
  const results = new LruMap<string, R>(maxEntries);
  return (arg) => {
    const known = results.get(arg);
    if (known !== undefined) return known;
    const result = fn(arg);
    results.set(arg, result);
    return result;
  };
}
