import type { ExportConfig } from '../config/schema.js';

/** `mode: chunked` keys, resolved (spec 02 §7.1). */
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
