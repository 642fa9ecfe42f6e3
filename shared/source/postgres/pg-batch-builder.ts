import { i16 } from './big-endian.js';
import type { RecordBatch, Schema } from 'apache-arrow';
import { RivetError } from '../../errors/rivet-error.js';
import { SizeMemo } from '../column-builders.js';
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
  /** The fields of one tuple from field `k` at `p`, one unrolled step per column (see `fieldLoop`). */
  private readonly decodeFields: FieldLoop;
  rows = 0;
  /** Wire bytes of the rows added so far (the tuple bodies). */
  bytes = 0;
  /** Where `continueRow` last stopped: the field that was not complete, and the offset of its length word. */
  stopField = 0;
  stopAt = 0;
  /** Wire bytes of the current, incomplete tuple consumed so far. */
  private partialBytes = 0;

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
    this.decodeFields = fieldLoop(this, this.decoders, (i, len) => valueTooLarge(this.columns[i].name, len, this.maxValueBytes), this.maxValueBytes);
  }

  /**
   * Decode one whole tuple (a DataRow body) from `off`; `end` is the end of the message.
   * Returns the offset just past the tuple.
   */
  addRow(buf: Buffer, off: number, end: number): number {
    if (end - off < 2) throw truncatedRow(end - off);
    const n = i16(buf, off);
    if (n !== this.decoders.length) throw fieldCountError(n, this.decoders.length);
    const p = this.continueRow(buf, off, off + 2, end, 0);
    if (p < 0) throw truncatedRow(end - off);
    return p;
  }

  /** Fields per tuple. */
  get fieldCount(): number {
    return this.decoders.length;
  }

  /**
   * Decode the fields `k`, `k + 1`, … of the current tuple; field `k`'s length word is at `p`
   * and the bytes available end at `end`. `start` is where this call's part of the tuple
   * begins (the field count word for `k = 0`, else `p`), for the byte count. Returns the
   * offset just past the tuple once it is complete (it then counts as a row), else −1: field
   * `stopField` is not wholly in `[p, end)`. Fields before it went to their columns, it and
   * the later ones did not; continue with `k = stopField` from the bytes at `stopAt` on.
   */
  continueRow(buf: Buffer, start: number, p: number, end: number, k: number): number {
    const q = this.decodeFields(buf, p, end, k);
    if (q < 0) {
      this.partialBytes += this.stopAt - start;
      return -1;
    }
    this.rows++;
    this.bytes += this.partialBytes + (q - start);
    this.partialBytes = 0;
    return q;
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

function truncatedRow(got: number): RivetError {
  return new RivetError('SOURCE_QUERY', `PostgreSQL sent a truncated row (${got} bytes received)`, { hint: 'rerun the export; if it persists, report it' });
}

export function fieldCountError(n: number, expected: number): RivetError {
  return new RivetError('SOURCE_QUERY', `PostgreSQL sent a row with ${n} fields, expected ${expected}`, { hint: 'rerun the export; if it persists, report it' });
}

/** Returns the offset past the tuple, or −1 after setting `stop.stopField` / `stop.stopAt`. */
type FieldLoop = (buf: Buffer, p: number, end: number, k: number) => number;
interface StopPoint {
  stopField: number;
  stopAt: number;
}
type FieldLoopFactory = (
  stop: StopPoint,
  tooLarge: (i: number, len: number) => Error,
  max: number,
  ...decoders: FieldDecoder[]
) => FieldLoop;

/** Compiled loop bodies by column layout ("v" variable-length, "f" fixed), shared by every batch and read. */
const loopFactories = new Map<string, FieldLoopFactory>();

/**
 * The per-field loop unrolled into straight-line code, one step per column. In a loop,
 * `decoders[i].decode(...)` is one call site that sees every column's decoder, so V8 cannot
 * inline any of them; unrolled, each site sees one decoder and the small ones inline. The
 * generated text depends only on the column count, which columns are variable-length and
 * the decoders' `source` texts — never on names or data — and is compiled once per layout.
 * V8 inlines only so many bytecodes into one function; text written into the loop itself
 * does not count against that budget, hence `source` for the hottest decoders.
 *
 * Each step first checks that its field lies wholly below `end` and otherwise stops before
 * touching its column, so a tuple split across COPY payloads is decoded in one pass and
 * resumed at the field it stopped at (the `switch` enters the unrolled steps at field `k`
 * and falls through the rest). The size ceiling is checked before waiting for a value's
 * bytes, so an oversized value fails without being buffered first.
 */
function fieldLoop(stop: StopPoint, decoders: FieldDecoder[], tooLarge: (i: number, len: number) => Error, max: number): FieldLoop {
  const layout = decoders.map((d) => (d.varlen ? 'v' : 'f') + (d.source ?? '')).join('\n');
  let factory = loopFactories.get(layout);
  if (!factory) {
    const params = decoders.map((_, i) => `d${i}`);
    const steps = decoders.map((d, i) =>
      [
        `case ${i}:`,
        `if (end - p < 4) { stop.stopField = ${i}; stop.stopAt = p; return -1; }`,
        // Read in place rather than through i32(), for the inlining budget (see above).
        `len = (buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3];`,
        `if (len < 0) { d${i}.builder.appendNull(); p += 4; }`,
        `else {`,
        d.varlen ? `  if (len > max) throw tooLarge(${i}, len);` : '',
        `  if (end - p - 4 < len) { stop.stopField = ${i}; stop.stopAt = p; return -1; }`,
        d.source ? `  p += 4; ${d.source.replaceAll('$', `d${i}`)} p += len;` : `  p += 4; d${i}.decode(buf, p, len); p += len;`,
        `}`,
        '// falls through',
      ].join('\n'),
    );
    factory = new Function(
      'stop',
      'tooLarge',
      'max',
      ...params,
      `return function decodeFields(buf, p, end, k) {\nlet len;\nswitch (k) {\n${steps.join('\n')}\n}\nreturn p;\n};`,
    ) as FieldLoopFactory;
    loopFactories.set(layout, factory);
  }
  return factory(stop, tooLarge, max, ...decoders);
}
