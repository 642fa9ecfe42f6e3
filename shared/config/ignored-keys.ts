import type { Logger } from '../log/logger.js';
import { exportLabel } from './key-path.js';
import { isExplicitlySet } from './provenance.js';
import type { ExportConfig, ExportMode, RivetConfig } from './schema.js';

/**
 * Keys that mean nothing for an export's mode (a `cursor_column` on a `full` export) are
 * accepted, as in the reference, but unlike the reference not silently: one WARN per export
 * says they are ignored, because a forgotten `mode: incremental` is otherwise invisible.
 * Same for Parquet-only keys on a CSV export. `chunk_dense` / `chunk_by_days` outside
 * chunked mode are errors (validate.ts), so they are not listed here.
 */
const MODE_KEYS: Readonly<Record<Exclude<ExportMode, 'full'>, readonly (readonly [keyof ExportConfig, unknown])[]>> = {
  incremental: [
    ['cursor_column', undefined],
    ['cursor_fallback_column', undefined],
    ['incremental_cursor_mode', 'single_column'],
    ['cursor_lookback', undefined],
    ['cursor_key_columns', undefined],
  ],
  chunked: [
    ['chunk_column', undefined],
    ['chunk_size', 100_000],
    ['chunk_size_memory_mb', undefined],
    ['chunk_count', undefined],
    ['chunk_by_key', undefined],
    ['parallel', 1],
    ['chunk_checkpoint', false],
    ['chunk_max_attempts', undefined],
  ],
  time_window: [
    ['time_column', undefined],
    ['time_column_type', 'timestamp'],
    ['days_window', undefined],
  ],
};

const PARQUET_ONLY: readonly (readonly [keyof ExportConfig, unknown])[] = [
  ['compression', 'zstd'],
  ['compression_level', undefined],
  ['compression_profile', undefined],
  ['parquet', undefined],
];

/** Keys of `exp` that its mode ignores. */
export function keysIgnoredByMode(exp: ExportConfig): string[] {
  const out: string[] = [];
  for (const [mode, keys] of Object.entries(MODE_KEYS)) {
    if (mode === exp.mode) continue;
    for (const [key, def] of keys) if (isExplicitlySet(exp, key, def)) out.push(key);
  }
  return out;
}

export function warnIgnoredKeys(config: RivetConfig, log: Logger): void {
  config.exports.forEach((exp, i) => {
    const at = exportLabel(i, exp.name);
    const byMode = keysIgnoredByMode(exp);
    if (byMode.length > 0) {
      log.warnOnce(
        `ignored-by-mode:${exp.name}`,
        `${at}: ${byMode.join(', ')} ${byMode.length > 1 ? 'are' : 'is'} ignored in mode: ${exp.mode}; set the intended \`mode:\` or delete ${byMode.length > 1 ? 'them' : 'it'}`,
      );
    }
    if (exp.format === 'csv') {
      const parquetOnly = PARQUET_ONLY.filter(([k, def]) => isExplicitlySet(exp, k, def)).map(([k]) => k);
      if (parquetOnly.length > 0) {
        log.warnOnce(
          `ignored-for-csv:${exp.name}`,
          `${at}: ${parquetOnly.join(', ')} only apply to Parquet and ${parquetOnly.length > 1 ? 'are' : 'is'} ignored for format: csv (CSV files are never compressed)`,
        );
      }
    }
  });
}
