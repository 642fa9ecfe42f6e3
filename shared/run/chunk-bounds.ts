/**
 * Boundary math of `mode: chunked` (docs/modes.md), pure so it can be tested without a
 * database. Keys are bigint: a chunk column may be int8 and span more than 2^53.
 */
export interface KeyRange {
  /** Inclusive. */
  start: bigint;
  /** Inclusive. */
  end: bigint;
}

/** `[min, min+size-1], [min+size, …]`, the last clipped to `max`; none when max < min or size < 1. */
export function rangeChunks(min: bigint, max: bigint, size: bigint): KeyRange[] {
  if (max < min || size < 1n) return [];
  const out: KeyRange[] = [];
  for (let s = min; s <= max; s += size) {
    const e = s + size - 1n;
    out.push({ start: s, end: e < max ? e : max });
  }
  return out;
}

/** How many windows `rangeChunks` would produce, without producing them. */
export function windowCount(min: bigint, max: bigint, size: bigint): bigint {
  if (max < min || size < 1n) return 0n;
  return (max - min + size) / size;
}

/** `chunk_count` → the window width that cuts `[min, max]` into that many pieces (ceil). */
export function sizeForCount(min: bigint, max: bigint, count: number): bigint {
  const span = max - min + 1n;
  const n = BigInt(Math.max(1, count));
  return span <= 0n ? 1n : (span + n - 1n) / n;
}

/**
 * A key range is sparse when cutting it arithmetically would plan far more windows than
 * the rows could fill: with ids 1..1000 plus 10^12 and chunk_size 100 that is 10^10
 * windows for 11 non-empty ones. The slack (×2 + 16) keeps ordinary gaps on the cheap
 * arithmetic path.
 */
export function isSparse(windows: bigint, rows: bigint, size: bigint): boolean {
  if (rows <= 0n || size < 1n) return false;
  const needed = (rows + size - 1n) / size;
  return windows > needed * 2n + 16n;
}

/**
 * Contiguous ranges from sorted chunk start keys: each chunk runs up to the next start, the
 * last to `max`. Used with starts read from the key distribution, so every chunk holds
 * about the same number of rows and gaps are absorbed by the chunk before them.
 */
export function chunksFromStarts(starts: bigint[], max: bigint): KeyRange[] {
  const sorted = [...new Set(starts)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted.map((s, i) => ({ start: s, end: i + 1 < sorted.length ? sorted[i + 1] - 1n : max }));
}

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a date or timestamp rendered as text (its first 10 characters); null if unparseable. */
export function dayNumber(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(text.trim());
  if (!m) return null;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isFinite(t) ? Math.floor(t / DAY_MS) : null;
}

/** `YYYY-MM-DD` of a day number. */
export function dayText(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Parse an integer key rendered as text; null when it is not an integer (numeric with a fraction, text, …). */
export function parseKey(text: string | null): bigint | null {
  if (text === null) return null;
  const t = text.trim();
  return /^-?\d+$/.test(t) ? BigInt(t) : null;
}
