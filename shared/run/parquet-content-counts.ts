import { tableFromIPC } from 'apache-arrow';
import * as pw from 'parquet-wasm';

/** Bytes `[offset, offset + length)` of the part being read. */
export type ReadPartRange = (offset: number, length: number) => Promise<ArrayBuffer>;

/**
 * A Blob-shaped view of bytes `[start, end)` of a part that fetches only what the reader asks
 * for: parquet-wasm's `ParquetFile.fromFile` reads the footer, then each row group, through
 * `slice(...).arrayBuffer()`, so a part is never held whole.
 */
function rangedBlob(read: ReadPartRange, start: number, end: number): Blob {
  const blob = {
    size: end - start,
    slice: (from = 0, to = end - start) => rangedBlob(read, start + from, start + Math.min(to, end - start)),
    arrayBuffer: () => read(start, end - start),
  };
  return blob as unknown as Blob;
}

/**
 * Rows and per-column nulls of a Parquet part as parquet-wasm (arrow-rs) reads it, one row
 * group at a time. Used in the content-read worker thread and, where its script is not found,
 * in the calling thread.
 */
export async function countParquetContent(read: ReadPartRange, size: number): Promise<{ rows: number; nulls: number[] }> {
  const file = await pw.ParquetFile.fromFile(rangedBlob(read, 0, size));
  try {
    let rows = 0;
    const nulls: number[] = [];
    const groups = file.metadata().numRowGroups();
    for (let g = 0; g < groups; g++) {
      const stream = await file.stream({ rowGroups: [g], batchSize: 8192 });
      for await (const wasmBatch of stream as unknown as AsyncIterable<pw.RecordBatch>) {
        const table = tableFromIPC(wasmBatch.intoIPCStream());
        rows += table.numRows;
        for (let c = 0; c < table.numCols; c++) nulls[c] = (nulls[c] ?? 0) + (table.getChildAt(c)?.nullCount ?? 0);
      }
    }
    if (nulls.length === 0) nulls.push(...tableFromIPC(file.schema().intoIPCStream()).schema.fields.map(() => 0));
    return { rows, nulls };
  } finally {
    file.free();
  }
}
