import type { ExportConfig } from '../config/schema.js';
import { configError } from '../errors/rivet-error.js';

/** `mode: chunked` keys, resolved (docs/modes.md). */
export interface ChunkSettings {
  /** Explicit `chunk_column`; undefined = derived from a one-column integer primary key at plan time (`table:` only). */
  column?: string;
  /** Key values per chunk (range), rows per chunk (dense, keyset) — ignored with `chunkCount`/`byDays`. */
  size: number;
  /** `chunk_by_key`: chunk boundaries sought in this unique NOT NULL key (keyset); `column` is then the same column. */
  byKey?: string;
  /** `chunk_size_memory_mb`: `size` is derived at plan time from this budget and the table's average row size. */
  memoryMb?: number;
  count?: number;
  byDays?: number;
  dense: boolean;
  checkpoint: boolean;
  /** Attempts per chunk in one run invocation: `chunk_max_attempts`, else `max_retries + 1` (min 1). */
  maxAttempts: number;
}

/**
 * The chunk settings of an export plus its task concurrency. `parallel` is 1 outside
 * chunked mode: only a multi-task plan has anything to run side by side.
 */
export function chunkFields(exp: ExportConfig, maxRetries: number): { parallel: number; chunk?: ChunkSettings } {
  if (exp.mode !== 'chunked') return { parallel: 1 };
  assertKeysetAndMemory(exp);
  return {
    parallel: Math.max(1, exp.parallel),
    chunk: {
      ...(exp.chunk_column ? { column: exp.chunk_column } : {}),
      ...(exp.chunk_by_key !== undefined ? { column: exp.chunk_by_key, byKey: exp.chunk_by_key } : {}),
      size: exp.chunk_size,
      ...(exp.chunk_size_memory_mb !== undefined ? { memoryMb: exp.chunk_size_memory_mb } : {}),
      ...(exp.chunk_count !== undefined ? { count: exp.chunk_count } : {}),
      ...(exp.chunk_by_days !== undefined ? { byDays: exp.chunk_by_days } : {}),
      dense: exp.chunk_dense,
      checkpoint: exp.chunk_checkpoint,
      maxAttempts: Math.max(1, exp.chunk_max_attempts ?? maxRetries + 1),
    },
  };
}

/**
 * `chunk_by_key` and `chunk_size_memory_mb` at plan build (docs/modes.md steps 1 and 4, where
 * the reference checks them too, so a config that sets every key still loads): both read the
 * table's catalog (its unique keys, its average row size), so both need `table:`; a keyset
 * chunking excludes every other way of cutting chunks.
 */
function assertKeysetAndMemory(exp: ExportConfig): void {
  const at = `export '${exp.name}'`;
  if (exp.chunk_by_key !== undefined) {
    if (exp.chunk_by_key.trim() === '') throw configError(`${at}: \`chunk_by_key\` is empty`, 'name a unique NOT NULL column of the table, e.g. `chunk_by_key: id`');
    const other = exp.chunk_column !== undefined ? 'chunk_column' : exp.chunk_dense ? 'chunk_dense' : exp.chunk_by_days !== undefined ? 'chunk_by_days' : exp.chunk_count !== undefined ? 'chunk_count' : null;
    if (other) {
      throw configError(`${at}: \`${other}\` and \`chunk_by_key\` are mutually exclusive`, `delete ${other} (chunk_by_key cuts chunk_size rows per chunk by seeking the key), or delete chunk_by_key`);
    }
    if (exp.table === undefined) {
      throw configError(`${at}: \`chunk_by_key\` needs the \`table:\` shortcut (the key's uniqueness is read from the table's constraints)`, 'replace `query:` with `table: <schema.table>`, or use `chunk_column:` with `chunk_dense: true` for a query');
    }
  }
  if (exp.chunk_size_memory_mb !== undefined) {
    if (exp.chunk_size_memory_mb === 0) throw configError(`${at}: \`chunk_size_memory_mb\` must be ≥ 1 (got 0)`, 'set it to the memory budget of one chunk in MiB, or delete it');
    if (exp.table === undefined) {
      throw configError(`${at}: \`chunk_size_memory_mb\` has no effect without the \`table:\` shortcut (the average row size is read from the table's statistics)`, 'replace `query:` with `table: <schema.table>`, or size chunks with `chunk_size:`');
    }
  }
}
