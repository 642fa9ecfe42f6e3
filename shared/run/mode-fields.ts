import { parseLookback } from '../config/lookback.js';
import type { ExportConfig } from '../config/schema.js';
import type { ResolvedExport } from './run-deps.js';

/**
 * The mode-specific keys of an export, resolved for its planner. Validation (validate.ts)
 * already guaranteed that the keys a mode needs are present.
 */
export function modeFields(exp: ExportConfig): Pick<ResolvedExport, 'incremental' | 'timeWindow'> {
  if (exp.mode === 'incremental' && exp.cursor_column) {
    const coalesce = exp.incremental_cursor_mode === 'coalesce' && exp.cursor_fallback_column;
    const lookback = parseLookback(exp.cursor_lookback, `export '${exp.name}'`);
    return {
      incremental: {
        cursorColumn: exp.cursor_column,
        ...(coalesce ? { fallbackColumn: exp.cursor_fallback_column } : {}),
        ...(lookback ? { lookback } : {}),
        ...(exp.cursor_key_columns ? { keyColumns: exp.cursor_key_columns } : {}),
      },
    };
  }
  if (exp.mode === 'time_window' && exp.time_column && exp.days_window !== undefined) {
    return { timeWindow: { column: exp.time_column, columnType: exp.time_column_type, daysWindow: exp.days_window } };
  }
  return {};
}
