import { DataType, type RecordBatch } from 'apache-arrow';
import { isMetaColumn } from '../types/rivet-type.js';

/**
 * Longest value in bytes of each text and binary column of `batch`, folded into `into`
 * (shape drift compares it with earlier runs). Read from the offsets, never from the values.
 */
export function foldTextMax(batch: RecordBatch, into: Record<string, number>): void {
  batch.schema.fields.forEach((f, i) => {
    if (isMetaColumn(f.name)) return;
    const t = f.type;
    if (!(DataType.isUtf8(t) || DataType.isBinary(t) || DataType.isLargeUtf8(t) || DataType.isLargeBinary(t))) return;
    const col = batch.getChildAt(i);
    if (!col) return;
    let max = into[f.name] ?? 0;
    for (const d of col.data) {
      const off = d.valueOffsets as ArrayLike<number | bigint>;
      for (let r = 0; r < d.length; r++) {
        const len = Number(off[r + 1]) - Number(off[r]);
        if (len > max) max = len;
      }
    }
    into[f.name] = max;
  });
}
