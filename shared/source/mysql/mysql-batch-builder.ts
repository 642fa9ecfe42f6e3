import type { RecordBatch, Schema } from 'apache-arrow';
import { RivetError } from '../../errors/rivet-error.js';
import { mysqlDecoderFor, type MyColumnSpec, type MyDecoder } from './mysql-decoders.js';
import { batchOfColumns } from '../batch-of-columns.js';
import { SizeMemo } from '../column-builders.js';
import { valueCeilingBytes, valueTooLarge } from '../value-ceiling.js';

/**
 * Accumulates rows as mysql2 delivers them with `rowsAsArray` and no type casting (one
 * array of value buffers per row, NULL as null) into preallocated Arrow columns, and turns
 * them into one RecordBatch.
 */
export class MysqlBatchBuilder {
  private readonly decoders: MyDecoder[];
  private readonly maxValueBytes: number;
  rows = 0;

  constructor(
    private readonly schema: Schema,
    private readonly columns: readonly MyColumnSpec[],
    capacity: number,
    /** Single-cell ceiling for variable-length values, in MiB; 0 disables. */
    maxValueMb: number,
    onZeroDate: (col: MyColumnSpec) => void,
    /** Per column, kept for the whole read: sizes measured on the previous batch, and recycled memory. */
    memos: readonly SizeMemo[] = columns.map(() => new SizeMemo()),
  ) {
    this.maxValueBytes = valueCeilingBytes(maxValueMb);
    this.decoders = columns.map((c, i) => {
      const d = mysqlDecoderFor(c, capacity, onZeroDate, memos[i]);
      if (typeof d === 'string') throw new Error(`internal: no decoder for column "${c.name}": ${d}`);
      return d;
    });
  }

  addRow(row: readonly (Buffer | null)[]): void {
    const n = this.decoders.length;
    if (row.length !== n) throw new RivetError('SOURCE_QUERY', `MySQL sent a row with ${row.length} fields, expected ${n}`);
    for (let i = 0; i < n; i++) {
      const v = row[i];
      const d = this.decoders[i];
      if (v === null || v === undefined) {
        d.builder.appendNull();
        continue;
      }
      if (d.varlen && v.length > this.maxValueBytes) throw valueTooLarge(this.columns[i].name, v.length, this.maxValueBytes);
      d.decode(v);
    }
    this.rows++;
  }

  /** The batch of every row added so far. The builder must not be used afterwards. */
  finish(): RecordBatch {
    return batchOfColumns(this.schema, this.decoders.map((d) => d.builder.finish()), this.rows);
  }
}
