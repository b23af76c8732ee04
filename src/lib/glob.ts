/**
 * Shell-style globs for allow-lists such as `allowedRoles`. Deliberately tiny: `*` and `?` only,
 * no character classes or braces, so an admin's pattern means exactly what it looks like.
 */

/**
 * Whether `value` matches `pattern` as a whole string.
 *
 * `*` matches any run of characters (including none, `/` and `:`), `?` exactly one character
 * (code point); every other character is literal.
 */
export function matchesGlob(pattern: string, value: string): boolean {
  // Greedy two-pointer matching with one backtrack point: O(pattern × value) at worst, unlike a
  // translated regex, where patterns such as `*a*a*a*b` backtrack exponentially.
  const p = [...pattern];
  const v = [...value];
  let pi = 0;
  let vi = 0;
  let starAt = -1;
  let starMatchEnd = 0;
  while (vi < v.length) {
    if (pi < p.length && (p[pi] === '?' || (p[pi] !== '*' && p[pi] === v[vi]))) {
      pi++;
      vi++;
    } else if (pi < p.length && p[pi] === '*') {
      starAt = pi++;
      starMatchEnd = vi;
    } else if (starAt !== -1) {
      pi = starAt + 1;
      vi = ++starMatchEnd;
    } else {
      return false;
    }
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}
