import { DataType, Field, Int64, makeData, RecordBatch, Schema, Struct, TimeUnit, Timestamp, type Data } from 'apache-arrow';
import { createXXHash128, type IHasher } from 'hash-wasm';
import { ByteBuffer } from '../format/byte-buffer.js';
import { csvColumnRenderer, type CellWriter } from '../format/csv-column-renderer.js';
import { META_COLUMN_PREFIX } from '../types/rivet-type.js';

export const EXPORTED_AT_COLUMN = `${META_COLUMN_PREFIX}exported_at`;
export const ROW_HASH_COLUMN = `${META_COLUMN_PREFIX}row_hash`;

const NULL_MARK = 0x00;
const UNIT_SEPARATOR = 0x1f;
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

type ValueWriter = (data: Data) => CellWriter;

/**
 * `meta_columns:` (docs/modes.md), appended after the source columns of every batch:
 *
 * - `_rivet_exported_at` Timestamp(µs, UTC), not null: one instant per task attempt, taken
 *   when the attempt starts, so every row a part holds carries the same value.
 * - `_rivet_row_hash` Int64, not null: XXH3-128 (seed 0) of the row's source columns
 *   encoded as below, low 64 bits as a signed integer. The encoding is rivet's own
 *   (docs/reference/config.md spells it out); it is stable across runs and versions of
 *   rivet, but it is not the reference tool's hash.
 *
 * Encoding, for each source column in order: NULL → the byte 0x00; otherwise the value's
 * text, then the byte 0x1F after every column (the last one included). The text is the
 * value exactly as rivet writes it into a CSV cell, without CSV quoting: strings verbatim
 * (UTF-8), binary as lowercase hex, uuid 8-4-4-4-12 lowercase, etc.; types CSV cannot hold
 * (lists, wide decimals) use the JSON text of the value.
 */
export class MetaColumns {
  private constructor(
    private readonly exportedAtMicros: bigint | null,
    private readonly hasher: IHasher | null,
    private cached: { source: Schema; out: Schema; writers: ValueWriter[] } | null = null,
  ) {}

  /** Null when the export asks for no meta column. */
  static async create(options: { exportedAt: boolean; rowHash: boolean }, now: Date): Promise<MetaColumns | null> {
    if (!options.exportedAt && !options.rowHash) return null;
    return new MetaColumns(options.exportedAt ? BigInt(now.getTime()) * 1000n : null, options.rowHash ? await createXXHash128() : null);
  }

  append(batch: RecordBatch): RecordBatch {
    const { out, writers } = this.schemaFor(batch.schema);
    const children = [...batch.data.children];
    const n = batch.numRows;
    if (this.exportedAtMicros !== null) {
      const type = out.fields[children.length].type as Timestamp;
      children.push(makeData({ type, length: n, nullCount: 0, data: new BigInt64Array(n).fill(this.exportedAtMicros) }));
    }
    if (this.hasher) {
      children.push(makeData({ type: new Int64(), length: n, nullCount: 0, data: this.rowHashes(batch, writers) }));
    }
    return new RecordBatch(out, makeData({ type: new Struct(out.fields), length: n, nullCount: 0, children }));
  }

  private schemaFor(source: Schema): { out: Schema; writers: ValueWriter[] } {
    if (this.cached?.source === source) return this.cached;
    const fields = [...source.fields];
    if (this.exportedAtMicros !== null) fields.push(new Field(EXPORTED_AT_COLUMN, new Timestamp(TimeUnit.MICROSECOND, 'UTC'), false));
    if (this.hasher) fields.push(new Field(ROW_HASH_COLUMN, new Int64(), false));
    this.cached = { source, out: new Schema(fields, source.metadata), writers: this.hasher ? source.fields.map(valueWriter) : [] };
    return this.cached;
  }

  /** Encode every row of the batch into one buffer, then hash each row's slice. */
  private rowHashes(batch: RecordBatch, writers: ValueWriter[]): BigInt64Array {
    const hasher = this.hasher as IHasher;
    const n = batch.numRows;
    const columns = batch.data.children.map((d, c) => ({ valid: validity(d), write: writers[c](d) }));
    const buf = new ByteBuffer(Math.max(1024, n * 32));
    const ends = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      for (const col of columns) {
        if (col.valid && !col.valid(i)) buf.byte(NULL_MARK);
        else col.write(i, buf);
        buf.byte(UNIT_SEPARATOR);
      }
      ends[i] = buf.length;
    }
    const bytes = buf.take();
    const out = new BigInt64Array(n);
    let start = 0;
    for (let i = 0; i < n; i++) {
      hasher.init();
      hasher.update(bytes.subarray(start, ends[i]));
      out[i] = low64Signed(hasher.digest('binary'));
      start = ends[i];
    }
    return out;
  }
}

/** hash-wasm gives XXH3-128 in canonical (big-endian) byte order: the low 64 bits are the last 8 bytes. */
function low64Signed(digest: Uint8Array): bigint {
  let v = 0n;
  for (let k = 8; k < 16; k++) v = (v << 8n) | BigInt(digest[k]);
  return BigInt.asIntN(64, v);
}

function validity(data: Data): ((i: number) => boolean) | null {
  const bitmap = data.nullBitmap;
  if (data.nullCount === 0 || !bitmap || bitmap.length === 0) return null;
  const offset = data.offset;
  return (i) => {
    const bit = offset + i;
    return (bitmap[bit >> 3] & (1 << (bit & 7))) !== 0;
  };
}

/** The text of a non-NULL value: CSV's rendering, but strings raw (CSV would quote some). */
function valueWriter(field: Field): ValueWriter {
  if (DataType.isUtf8(field.type)) return rawUtf8;
  try {
    return csvColumnRenderer(field);
  } catch {
    return jsonText;
  }
}

function rawUtf8(data: Data): CellWriter {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  return (i, out) => out.bytes(bytes, offsets[i], offsets[i + 1]);
}

const encoder = new TextEncoder();

function jsonText(data: Data): CellWriter {
  const vector = makeVectorOf(data);
  return (i, out) => {
    const b = encoder.encode(JSON.stringify(plain(vector.get(i))));
    out.bytes(b, 0, b.length);
  };
}

function makeVectorOf(data: Data): { get(i: number): unknown } {
  // A single-chunk vector over this column's data, for element access of nested types.
  const batch = new RecordBatch(new Schema([new Field('v', data.type, true)]), makeData({ type: new Struct([new Field('v', data.type, true)]), length: data.length, nullCount: 0, children: [data] }));
  return batch.getChildAt(0) as { get(i: number): unknown };
}

/** Arrow JS values made JSON-safe: bigints as decimal strings, bytes as hex, nested vectors as arrays. */
function plain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return Array.from(v, (b) => HEX[b]).join('');
  if (typeof v === 'object' && v !== null && Symbol.iterator in v) return Array.from(v as Iterable<unknown>, plain);
  if (typeof v === 'object' && v !== null && typeof (v as { toString?: unknown }).toString === 'function' && v.constructor !== Object) return String(v);
  return v;
}
