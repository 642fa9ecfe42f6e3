import { DataType, type RecordBatch } from 'apache-arrow';

// Shared by both Parquet encoders, in a module of its own so that the native encoder does
// not load (and compile) the 5 MB wasm encoder just to read these choices.

/**
 * Rows per row group when the caller does not choose. DuckDB's own row-group size: readers
 * get enough groups to parallelise over, and the group being built lives in wasm memory,
 * which can grow but never shrink, so a million-row group (arrow-rs' default) of a wide
 * table could pin hundreds of MB for the rest of the process.
 */
export const DEFAULT_ROW_GROUP_ROWS = 122_880;

/**
 * Upper bound on the encoded size of a row group in progress, whatever the row count: wide
 * text rows would otherwise make `rowGroupRows` rows arbitrarily large in wasm memory. The
 * wasm heap peaks at several times this figure (pages, compression buffers, the incoming
 * slice): on 10 KB rows, peak RSS was 368 / 491 / 679 MB with 16 / 32 / 64 MiB
 * (bench/README.md). 32 MiB keeps the wide benchmark under its 512 MB budget.
 */
export const MAX_ROW_GROUP_BYTES = 32 * 1024 * 1024;

/** Values sampled per column to decide on dictionary encoding. */
const DICTIONARY_SAMPLE = 16_384;

/**
 * Top-level columns worth dictionary-encoding: those whose first batch repeats values (at
 * most one distinct value in ten). arrow-rs dictionary-encodes every column by default and
 * falls back to plain pages once a dictionary page fills up; on high-cardinality columns
 * (ids, amounts, timestamps) that is pure cost — on a 1M-row, 7-column table it tripled the
 * encode time and made the file larger. Booleans and nested columns are never worth it.
 */
export function dictionaryColumns(batch: RecordBatch): string[] {
  const out: string[] = [];
  const n = Math.min(batch.numRows, DICTIONARY_SAMPLE);
  batch.schema.fields.forEach((f, i) => {
    if (DataType.isBool(f.type) || DataType.isList(f.type) || DataType.isStruct(f.type) || DataType.isMap(f.type) || DataType.isNull(f.type)) return;
    const col = batch.getChildAt(i);
    if (!col) return;
    const seen = new Set<unknown>();
    let values = 0;
    for (let r = 0; r < n; r++) {
      const v = col.get(r);
      if (v === null || v === undefined) continue;
      values++;
      seen.add(typeof v === 'object' ? String(v) : v);
    }
    if (values >= 64 && seen.size * 10 <= values) out.push(f.name);
  });
  return out;
}
