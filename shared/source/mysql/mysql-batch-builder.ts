import type { RecordBatch, Schema } from 'apache-arrow';
import { RivetError } from '../../errors/rivet-error.js';
import { mysqlDecoderFor, type MyColumnSpec, type MyDecoder } from './mysql-decoders.js';
import { batchOfColumns } from '../batch-of-columns.js';
import { SizeMemo } from '../column-builders.js';
import { valueCeilingBytes, valueTooLarge } from '../value-ceiling.js';

/**
 * Accumulates rows into preallocated Arrow columns and turns them into one RecordBatch.
 * Rows arrive either as the body of a text-protocol row packet (`addPacket`, the read path:
 * values are decoded where they lie in the socket's buffer) or as mysql2 delivers them with
 * `rowsAsArray` and no type casting (`addRow`: one Buffer per value, NULL as null).
 */
export class MysqlBatchBuilder {
  private readonly decoders: MyDecoder[];
  private readonly maxValueBytes: number;
  rows = 0;
  /** Bytes of the rows added, as sent on the wire (values and their length prefixes): what the batch budget is measured in. */
  bytes = 0;

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
        this.bytes += 1;
        continue;
      }
      this.bytes += v.length + (v.length < 251 ? 1 : v.length < 65536 ? 3 : v.length < 16777216 ? 4 : 9);
      if (d.varlen && v.length > this.maxValueBytes) throw valueTooLarge(this.columns[i].name, v.length, this.maxValueBytes);
      d.decode(v, 0, v.length);
    }
    this.rows++;
  }

  /**
   * One row from the body of a text-protocol ResultsetRow packet, `buf[off, end)`: per
   * column a length-encoded string, or 0xFB for NULL. Each value is decoded in place — no
   * Buffer per value, which is what mysql2's own row parser costs.
   */
  addPacket(buf: Buffer, off: number, end: number): void {
    const decoders = this.decoders;
    const n = decoders.length;
    this.bytes += end - off;
    for (let i = 0; i < n; i++) {
      if (off >= end) throw new RivetError('SOURCE_QUERY', `MySQL sent a row with ${i} fields, expected ${n}`);
      const d = decoders[i];
      let len = buf[off++];
      if (len >= 0xfb) {
        if (len === 0xfb) {
          d.builder.appendNull();
          continue;
        }
        if (len === 0xfc) {
          len = buf[off] | (buf[off + 1] << 8);
          off += 2;
        } else if (len === 0xfd) {
          len = buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16);
          off += 3;
        } else if (len === 0xfe) {
          len = buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * 0x1_0000_0000;
          off += 8;
        } else {
          throw new RivetError('SOURCE_QUERY', `MySQL sent a malformed row (length byte 0x${len.toString(16)} in field ${i + 1})`);
        }
      }
      const stop = off + len;
      if (stop > end) throw new RivetError('SOURCE_QUERY', `MySQL sent a truncated row (field ${i + 1} of ${n} runs past the packet)`);
      if (d.varlen && len > this.maxValueBytes) throw valueTooLarge(this.columns[i].name, len, this.maxValueBytes);
      d.decode(buf, off, stop);
      off = stop;
    }
    if (off !== end) throw new RivetError('SOURCE_QUERY', `MySQL sent a row with more than the ${n} fields expected`);
    this.rows++;
  }

  /** The batch of every row added so far. The builder must not be used afterwards. */
  finish(): RecordBatch {
    return batchOfColumns(this.schema, this.decoders.map((d) => d.builder.finish()), this.rows);
  }
}
