/**
 * How many rows a source puts in one batch: bounded by rows (`batch_size`) AND by bytes, so
 * a table of 10 KB rows does not turn a 50,000-row batch into 500 MB of memory.
 *
 * The first batch is a probe of at most FIRST_BATCH_ROWS rows (the reference's 500). Each
 * later batch takes as many rows as fit the byte budget at the previous batch's average row
 * size, never more than `batch_size` and never fewer than MIN_BATCH_ROWS. Row size is
 * measured on the wire (a PostgreSQL tuple's bytes), which tracks the Arrow size closely.
 * The sequence depends only on the data, so every read method of an engine cuts the same
 * batches.
 */
export const FIRST_BATCH_ROWS = 500;
export const MIN_BATCH_ROWS = 100;
/**
 * Budget when `tuning.batch_size_memory_mb` is not set: 8 MiB keeps 10 KB rows to ~800 per
 * batch, while narrow rows stay capped by `batch_size` (50,000 rows of ~50 bytes is 2.5 MiB).
 */
export const DEFAULT_BATCH_BYTES = 8 * 1024 * 1024;

export function firstBatchRows(configured: number): number {
  return Math.max(1, Math.min(configured, FIRST_BATCH_ROWS));
}

export function nextBatchRows(previous: { rows: number; bytes: number }, configured: number, budgetBytes: number): number {
  if (previous.rows <= 0) return Math.max(1, configured);
  const perRow = Math.max(1, previous.bytes / previous.rows);
  const fit = Math.floor(budgetBytes / perRow);
  return Math.max(Math.min(MIN_BATCH_ROWS, configured), Math.min(configured, fit));
}

/** `tuning.batch_size_memory_mb` (MiB) → bytes; unset or 0 → the default budget. */
export function batchBudgetBytes(batchMemoryMb: number | null | undefined): number {
  return batchMemoryMb && batchMemoryMb > 0 ? batchMemoryMb * 1024 * 1024 : DEFAULT_BATCH_BYTES;
}
