/**
 * `max_file_size` grammar: trimmed, case-insensitive, suffix GB / MB / KB (binary multiples)
 * or B, no suffix = bytes; the number may have a fraction (`1.5GB`) and the byte count is
 * truncated. Returns null for anything else. Negative, infinite and NaN sizes are refused
 * (the reference would saturate them to 0 or the maximum, which no user means).
 */
const UNITS: readonly (readonly [string, number])[] = [
  ['GB', 1024 ** 3],
  ['MB', 1024 ** 2],
  ['KB', 1024],
  ['B', 1],
];

const NUMBER = /^\+?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

export function parseSize(text: string): number | null {
  const s = text.trim().toUpperCase();
  let digits = s;
  let factor = 1;
  for (const [suffix, mult] of UNITS) {
    if (s.endsWith(suffix)) {
      digits = s.slice(0, -suffix.length);
      factor = mult;
      break;
    }
  }
  if (!NUMBER.test(digits)) return null;
  const bytes = Math.trunc(Number(digits) * factor);
  return Number.isFinite(bytes) ? bytes : null;
}
