import { configError } from '../errors/rivet-error.js';
import type { Lookback } from '../source/sql-dialect.js';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * `cursor_lookback`: a duration (`90s`, `15m`, `2h`, `1d`) for date/time cursors, or a plain
 * non-negative number (in the cursor's own unit) for numeric ones. Zero, or absent, means no
 * look-back: only the rows tied at the stored cursor are re-read. Whether the form fits the
 * cursor's type is checked at plan time, when the type is known (lookback-step.ts).
 */
export function parseLookback(value: string | number | undefined, at: string): Lookback | null {
  if (value === undefined) return null;
  const text = String(value).trim();
  const duration = /^(\d+)\s*([smhd])$/.exec(text);
  if (duration) {
    const seconds = Number(duration[1]) * UNIT_SECONDS[duration[2]];
    return seconds === 0 ? null : { unit: 'seconds', seconds };
  }
  if (/^\d+(\.\d+)?$/.test(text) && Number.isFinite(Number(text))) {
    return Number(text) === 0 ? null : { unit: 'number', amount: text };
  }
  throw configError(
    `${at}: cursor_lookback ${JSON.stringify(value)} is neither a duration nor a non-negative number`,
    'write e.g. `cursor_lookback: 15m` (s, m, h, d) for a timestamp or date cursor, or `cursor_lookback: 1000` for a numeric cursor',
  );
}
