import { i16, i32 } from './big-endian.js';
import type { RecordBatch, Schema } from 'apache-arrow';
import { RivetError } from '../../errors/rivet-error.js';
import { SizeMemo } from './column-builders.js';
import { pgDecoderFor, type FieldDecoder, type PgColumnSpec } from './pg-decoders.js';
import { batchOfColumns } from '../batch-of-columns.js';
import { valueCeilingBytes, valueTooLarge } from '../value-ceiling.js';

/**
 * Accumulates rows in PostgreSQL's binary tuple layout (int16 field count, then per field an
 * int32 length, −1 for NULL, and the value bytes: a DataRow body and a binary COPY tuple are
 * identical) into preallocated Arrow columns, and turns them into one RecordBatch.
 */
export class PgBatchBuilder {
  private readonly decoders: FieldDecoder[];
  private readonly maxValueBytes: number;
  /** The fields of one tuple from `p`, one unrolled step per column (see `fieldLoop`). */
  private readonly decodeFields: FieldLoop;
  rows = 0;
  /** Wire bytes of the rows added so far (the tuple bodies). */
  bytes = 0;

  constructor(
    private readonly schema: Schema,
    private readonly columns: readonly PgColumnSpec[],
    capacity: number,
    /** Single-cell ceiling for variable-length values, in MiB; 0 disables. */
    private readonly maxValueMb = 0,
    /** Per column, the sizes measured on the previous batch of the same read. */
    private readonly memos: readonly SizeMemo[] = columns.map(() => new SizeMemo()),
  ) {
    this.maxValueBytes = valueCeilingBytes(maxValueMb);
    this.decoders = columns.map((c, i) => {
      const d = pgDecoderFor(c, capacity, memos[i]);
      if (typeof d === 'string') throw new Error(`internal: no decoder for column "${c.name}": ${d}`);
      return d;
    });
    this.decodeFields = fieldLoop(this.decoders, (i, len) => valueTooLarge(this.columns[i].name, len, this.maxValueBytes), this.maxValueBytes);
  }

  /** Decode one tuple starting at `off`; returns the offset just past it. */
  addRow(buf: Buffer, off: number): number {
    const n = i16(buf, off);
    if (n !== this.decoders.length) {
      throw new RivetError('SOURCE_QUERY', `PostgreSQL sent a row with ${n} fields, expected ${this.decoders.length}`);
    }
    const p = this.decodeFields(buf, off + 2);
    if (p > buf.length) throw new RivetError('SOURCE_QUERY', `PostgreSQL sent a truncated row (${p - off} bytes announced, ${buf.length - off} received)`);
    this.rows++;
    this.bytes += p - off;
    return p;
  }

  /**
   * A builder for the next batch of the same read: its buffers start at the sizes this one
   * measures on `finish` (call it after `finish`, or it falls back to the earlier batch's).
   */
  successor(capacity: number): PgBatchBuilder {
    return new PgBatchBuilder(this.schema, this.columns, capacity, this.maxValueMb, this.memos);
  }

  /** The batch of every row added so far. The builder must not be used afterwards. */
  finish(): RecordBatch {
    return batchOfColumns(this.schema, this.decoders.map((d) => d.builder.finish()), this.rows);
  }
}

type FieldLoop = (buf: Buffer, p: number) => number;
type FieldLoopFactory = (i32: (b: Uint8Array, o: number) => number, tooLarge: (i: number, len: number) => Error, max: number, ...decoders: FieldDecoder[]) => FieldLoop;

/** Compiled loop bodies by column layout ("v" variable-length, "f" fixed), shared by every batch and read. */
const loopFactories = new Map<string, FieldLoopFactory>();

/**
 * The per-field loop unrolled into straight-line code, one step per column. In a loop,
 * `decoders[i].decode(...)` is one call site that sees every column's decoder, so V8 cannot
 * inline any of them; unrolled, each site sees one decoder and the small ones inline. The
 * generated text depends only on the column count and which columns are variable-length —
 * never on names or data — and is compiled once per layout.
 */
function fieldLoop(decoders: FieldDecoder[], tooLarge: (i: number, len: number) => Error, max: number): FieldLoop {
  const layout = decoders.map((d) => (d.varlen ? 'v' : 'f')).join('');
  let factory = loopFactories.get(layout);
  if (!factory) {
    const params = decoders.map((_, i) => `d${i}`);
    const steps = decoders.map((d, i) =>
      [
        `len = i32(buf, p); p += 4;`,
        `if (len < 0) d${i}.builder.appendNull();`,
        `else {`,
        d.varlen ? `  if (len > max) throw tooLarge(${i}, len);` : '',
        `  d${i}.decode(buf, p, len); p += len;`,
        `}`,
      ].join('\n'),
    );
    factory = new Function('i32', 'tooLarge', 'max', ...params, `return function decodeFields(buf, p) {\nlet len;\n${steps.join('\n')}\nreturn p;\n};`) as FieldLoopFactory;
    loopFactories.set(layout, factory);
  }
  return factory(i32, tooLarge, max, ...decoders);
}
