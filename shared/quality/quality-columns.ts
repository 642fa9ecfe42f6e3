import { RivetError } from '../errors/rivet-error.js';
import type { QualityConfig } from './quality-tracker.js';

/**
 * Refuse a `quality:` block whose `null_ratio_max` or `unique_columns` names a column the
 * export's query does not return: such a check would never see a value and pass unchecked.
 * Called by the planner with the columns the source describes, so the run stops (exit 2)
 * before anything is written. Names match exactly, as the checks look them up in the rows.
 */
export function assertQualityColumns(exportName: string, quality: QualityConfig | undefined, columns: readonly string[]): void {
  if (!quality) return;
  const have = new Set(columns);
  const missing = [
    ...Object.keys(quality.null_ratio_max ?? {}).filter((c) => !have.has(c)).map((c) => `null_ratio_max: '${c}'`),
    ...(quality.unique_columns ?? []).filter((c) => !have.has(c)).map((c) => `unique_columns: '${c}'`),
  ];
  if (missing.length === 0) return;
  throw new RivetError('CONFIG_INVALID', `export '${exportName}': quality names column(s) its query does not return (${missing.join(', ')}); the query returns ${columns.map((c) => `'${c}'`).join(', ')}`, {
    hint: 'fix the names under `quality:` (matched exactly, as the source spells them), or add the columns to the query',
  });
}
