import type { RecordBatch, Schema } from 'apache-arrow';
import { RivetError } from '../../errors/rivet-error.js';
import { mssqlDecoderFor, type MssqlColumnSpec, type MssqlDecoder } from './mssql-decoders.js';
import { batchOfColumns } from '../batch-of-columns.js';
import { valueCeilingBytes, valueTooLarge } from '../value-ceiling.js';

/** One cell of a tedious `row` event with `useColumnNames: false`. */
export interface TediousCell {
  value: unknown;
}

/**
 * Accumulates rows from tedious `row` events (an array of `{ value, metadata }` cells in
 * column order, NULL as null) into preallocated Arrow columns, and turns them into one
 * RecordBatch.
 */
export class MssqlBatchBuilder {
  private readonly decoders: MssqlDecoder[];
  private readonly maxValueBytes: number;
  rows = 0;

  constructor(
    private readonly schema: Schema,
    private readonly columns: readonly MssqlColumnSpec[],
    capacity: number,
    /** Single-cell ceiling for variable-length values, in MiB; 0 disables. */
    maxValueMb = 0,
  ) {
    this.maxValueBytes = valueCeilingBytes(maxValueMb);
    this.decoders = columns.map((c) => {
      const d = mssqlDecoderFor(c, capacity);
      if (typeof d === 'string') throw new Error(`internal: no decoder for column "${c.name}": ${d}`);
      return d;
    });
  }

  addRow(row: readonly TediousCell[]): void {
    const n = this.decoders.length;
    if (row.length !== n) throw new RivetError('SOURCE_QUERY', `SQL Server sent a row with ${row.length} columns, expected ${n}`);
    for (let i = 0; i < n; i++) {
      const v = row[i].value;
      const d = this.decoders[i];
      if (v === null || v === undefined) {
        d.builder.appendNull();
        continue;
      }
      if (d.varlen && this.maxValueBytes !== Infinity) {
        // A UTF-16 string needs at most 3 UTF-8 bytes per code unit: only count when it could matter.
        const size = typeof v === 'string' ? (v.length * 3 > this.maxValueBytes ? Buffer.byteLength(v, 'utf8') : 0) : (v as Buffer).length;
        if (size > this.maxValueBytes) throw valueTooLarge(this.columns[i].name, size, this.maxValueBytes);
      }
      d.decode(v);
    }
    this.rows++;
  }

  /** The batch of every row added so far. The builder must not be used afterwards. */
  finish(): RecordBatch {
    return batchOfColumns(this.schema, this.decoders.map((d) => d.builder.finish()), this.rows);
  }
}
