/**
 * The "did you mean" suggestion for an unknown key. Two rules, as in the reference:
 * a candidate of at least 3 characters that is a case-insensitive substring of the unknown
 * key (or the other way round) wins, the longest first; otherwise the closest candidate by
 * case-insensitive edit distance, if that distance is at most max(2, longer length / 3).
 */

export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

export function suggestKey(unknown: string, candidates: readonly string[]): string | undefined {
  const u = unknown.toLowerCase();
  let bySubstring: string | undefined;
  for (const c of candidates) {
    const lc = c.toLowerCase();
    // A one- or two-letter typo would be a substring of too many keys, so the reverse direction also needs 3 characters.
    if (lc.length < 3 || !(u.includes(lc) || (u.length >= 3 && lc.includes(u)))) continue;
    if (!bySubstring || c.length > bySubstring.length) bySubstring = c;
  }
  if (bySubstring) return bySubstring;

  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = levenshtein(u, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(Math.max(u.length, best.length) / 3));
  return bestDistance <= limit ? best : undefined;
}
