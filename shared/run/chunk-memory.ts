import { RivetError } from '../errors/rivet-error.js';
import type { Logger } from '../log/logger.js';
import type { Source } from '../source/source.js';
import type { ResolvedExport } from './run-deps.js';
import { probeRows } from './source-probe.js';

const MIN_ROWS = 10_000;
const MAX_ROWS = 5_000_000;
/** The row width assumed when the catalog has no statistics for the table (never analyzed, empty). */
export const UNKNOWN_ROW_BYTES = 512;

/** clamp(budget / row width, 10 000, 5 000 000) rows (docs/modes.md step 6). */
export function rowsForMemory(memoryMb: number, avgRowBytes: number): number {
  const rows = Math.floor((memoryMb * 1024 * 1024) / Math.max(1, avgRowBytes));
  return Math.min(MAX_ROWS, Math.max(MIN_ROWS, rows));
}

/**
 * `chunk_size_memory_mb`: rows per chunk from the memory budget and the table's average row
 * size as the source's catalog measures it (storage bytes over the row estimate). Needs
 * `table:` — a query has no catalog statistics.
 */
export async function chunkSizeFromMemory(exp: ResolvedExport, source: Source, memoryMb: number, log: Logger): Promise<number> {
  const t = exp.table;
  if (!t) {
    throw new RivetError('CONFIG_INVALID', `export '${exp.name}': \`chunk_size_memory_mb\` needs the \`table:\` shortcut (the average row size is read from the table's statistics)`, {
      hint: 'replace `query:` with `table: <schema.table>`, or size chunks with `chunk_size:`',
    });
  }
  const qualified = t.schema ? `${t.schema}.${t.name}` : t.name;
  const text = (await probeRows(source, source.dialect.avgRowBytesSql(t)))[0]?.[0] ?? null;
  const measured = text === null ? NaN : Number(text);
  let avg = measured;
  if (!Number.isFinite(measured) || measured <= 0) {
    avg = UNKNOWN_ROW_BYTES;
    log.warn(`export '${exp.name}': the source has no row-size statistics for ${qualified} (never analyzed, or empty); chunk_size_memory_mb assumes ${UNKNOWN_ROW_BYTES} bytes per row`);
  }
  const rows = rowsForMemory(memoryMb, avg);
  log.info(`export '${exp.name}': chunk_size_memory_mb ${memoryMb} over ${avg} bytes per row of ${qualified} → chunk_size ${rows} (rows per chunk; it replaces any chunk_size: set)`);
  return rows;
}
