import { makeData, RecordBatch, Struct, type Schema } from 'apache-arrow';
import { RivetError } from '../../errors/rivet-error.js';
import { mysqlDecoderFor, type MyColumnSpec, type MyDecoder } from './mysql-decoders.js';

const MIB = 1024 * 1024;

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
  ) {
    this.maxValueBytes = maxValueMb > 0 ? maxValueMb * MIB : Infinity;
    this.decoders = columns.map((c) => {
      const d = mysqlDecoderFor(c, capacity, onZeroDate);
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
      if (d.varlen && v.length > this.maxValueBytes) throw this.tooLarge(i, v.length);
      d.decode(v);
    }
    this.rows++;
  }

  private tooLarge(i: number, len: number): RivetError {
    const limitMb = this.maxValueBytes / MIB;
    return new RivetError(
      'VALUE_TOO_LARGE',
      `column "${this.columns[i].name}" has a value of ${(len / MIB).toFixed(1)} MB, over the ${limitMb.toFixed(1)} MB single-value ceiling; ` +
        'one huge cell can exhaust memory whatever the batch size',
      { hint: 'if such large values are legitimate, raise tuning.max_value_mb (or set it to 0 to turn the check off)' },
    );
  }

  /** The batch of every row added so far. The builder must not be used afterwards. */
  finish(): RecordBatch {
    const children = this.decoders.map((d) => d.builder.finish());
    const data = makeData({ type: new Struct(this.schema.fields), length: this.rows, nullCount: 0, children });
    return new RecordBatch(this.schema, data);
  }
}
