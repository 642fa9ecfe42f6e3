import { configError } from '../errors/rivet-error.js';
import type { Lookback } from './sql-dialect.js';

/**
 * Checks that a `cursor_lookback` fits the cursor's kind, as each dialect classified it:
 * a duration (`15m`) for date/time cursors, a plain amount for numeric ones, nothing for
 * text or other ordered types (there is no "30 below" a string). Returns the kind to build.
 */
export function lookbackStep(kind: 'time' | 'number' | null, type: string, lookback: Lookback): 'time' | 'number' {
  if (kind === null) {
    throw configError(
      `cursor_lookback does not apply to a cursor of type ${type}: only date/time and numeric cursors can step back`,
      'remove cursor_lookback (rows tied at the stored cursor are still exported exactly once), or use a timestamp or number cursor',
    );
  }
  if (kind === 'time' && lookback.unit !== 'seconds') {
    throw configError(`cursor_lookback for a ${type} cursor needs a unit, e.g. 90s, 15m, 2h or 1d`, 'write the look-back as a duration');
  }
  if (kind === 'number' && lookback.unit !== 'number') {
    throw configError(`cursor_lookback for a ${type} cursor is an amount in the cursor's own unit (e.g. 1000), not a duration`, 'write the look-back as a plain number');
  }
  return kind;
}
