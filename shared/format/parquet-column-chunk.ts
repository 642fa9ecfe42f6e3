import type { Data } from 'apache-arrow';
import { ByteBuffer } from './byte-buffer.js';
import type { Compression } from './format-writer.js';
import type { PageCompressPool } from './page-compress-pool.js';
import type { PageCodec } from './parquet-page-codec.js';
import type { ParquetLeaf } from './parquet-leaf.js';
import { bitWidthFor, definitionLevels, packIndices } from './parquet-rle.js';
import { encodeThriftStruct, type ThriftStruct } from './thrift-compact.js';
import { thriftField } from './thrift-field.js';

/** Target size of a data page before compression (arrow-rs' default as well). */
export const PAGE_BYTES = 1024 * 1024;
/** A dictionary larger than this stops growing: the rest of the chunk is written plain. */
const DICTIONARY_LIMIT_BYTES = 1024 * 1024;
/** Byte-array min/max longer than this are left out of the statistics rather than truncated. */
const MAX_STAT_BYTES = 64;

const Encoding = { PLAIN: 0, RLE: 3, RLE_DICTIONARY: 8 } as const;
const PageType = { DATA_PAGE: 0, DICTIONARY_PAGE: 2 } as const;

const f = thriftField;

/** What the footer needs to know about a finished column chunk. */
export interface ChunkSummary {
  bytes: Uint8Array[];
  numValues: number;
  uncompressedSize: number;
  compressedSize: number;
  /** Offsets relative to the start of the chunk. */
  dictionaryPageOffset: number | null;
  dataPageOffset: number;
  encodings: number[];
  statistics: ThriftStruct;
}

/** Running min/max over the values of a chunk, compared the way the column's sort order says. */
interface Extremes {
  min: Uint8Array | null;
  max: Uint8Array | null;
}

/**
 * One column's pages for the row group in progress: values arrive as Arrow slices, are
 * PLAIN- or dictionary-encoded into ~1 MiB pages and compressed at once, so the row group
 * costs its compressed size in memory, not its Arrow size.
 */
interface PendingPage {
  rows: number;
  encoding: number;
  bodyLength: number;
  packed: Uint8Array | Promise<Uint8Array>;
}

/** Where page bodies are compressed: in this thread, or handed to compression threads. */
export interface PageCompressor {
  readonly codec: PageCodec;
  readonly pool: PageCompressPool | null;
  readonly compression: Compression;
  readonly level: number | undefined;
}

export class ColumnChunkBuilder {
  private pages: PendingPage[] = [];
  /** Page body bytes so far, before compression. */
  private uncompressed = 0;
  private numValues = 0;
  private nullCount = 0;
  private readonly ext: Extremes = { min: null, max: null };
  private statsValid = true;
  private usedPlain = false;
  private usedDictionary = false;
  // Dictionary state for the chunk: value key → index, and the dictionary page body.
  private dict: Map<unknown, number> | null = null;
  private dictBody: ByteBuffer | null = null;
  private dictCount = 0;

  constructor(
    readonly leaf: ParquetLeaf,
    private readonly compressor: PageCompressor,
    private readonly dictionary: boolean,
  ) {
    this.resetDictionary();
  }

  /** Bytes encoded so far (before compression), page headers included. */
  get encodedBytes(): number {
    return this.uncompressed + (this.dictBody?.length ?? 0);
  }

  /** Append rows [0, data.length) of one Arrow column slice. */
  append(data: Data): void {
    const n = data.length;
    if (n === 0) return;
    const bytesPerRow = Math.max(1, this.plainBytes(data, 0, n) / n);
    const rowsPerPage = Math.max(1, Math.floor(PAGE_BYTES / bytesPerRow));
    for (let start = 0; start < n; start += rowsPerPage) this.page(data, start, Math.min(n, start + rowsPerPage));
  }

  /** Close the chunk: its pages (dictionary first), sizes and statistics. Resets the builder. */
  async finish(): Promise<ChunkSummary> {
    const out: Uint8Array[] = [];
    let uncompressed = 0;
    let compressed = 0;
    let dictionaryPageOffset: number | null = null;
    if (this.usedDictionary && this.dictBody) {
      const body = this.dictBody.take();
      const packed = this.compressor.codec.compress(body);
      const header = encodeThriftStruct([
        f.i32(1, PageType.DICTIONARY_PAGE),
        f.i32(2, body.length),
        f.i32(3, packed.length),
        f.struct(7, [f.i32(1, this.dictCount), f.i32(2, Encoding.PLAIN)]),
      ]);
      out.push(header, packed);
      dictionaryPageOffset = 0;
      uncompressed += header.length + body.length;
      compressed += header.length + packed.length;
    }
    const dataPageOffset = dictionaryPageOffset === null ? 0 : out[0].length + out[1].length;
    for (const page of this.pages) {
      const packed = await page.packed;
      const header = encodeThriftStruct([
        f.i32(1, PageType.DATA_PAGE),
        f.i32(2, page.bodyLength),
        f.i32(3, packed.length),
        f.struct(5, [f.i32(1, page.rows), f.i32(2, page.encoding), f.i32(3, Encoding.RLE), f.i32(4, Encoding.RLE)]),
      ]);
      out.push(header, packed);
      uncompressed += header.length + page.bodyLength;
      compressed += header.length + packed.length;
    }
    const encodings: number[] = [Encoding.RLE];
    if (this.usedPlain || this.usedDictionary) encodings.unshift(Encoding.PLAIN);
    if (this.usedDictionary) encodings.push(Encoding.RLE_DICTIONARY);
    if (encodings.length === 1) encodings.unshift(Encoding.PLAIN);
    const statistics: ThriftStruct = [];
    statistics.push(f.i64(3, this.nullCount));
    if (this.statsValid && this.ext.max && this.ext.min) statistics.push(f.bin(5, this.ext.max), f.bin(6, this.ext.min));
    const summary: ChunkSummary = {
      bytes: out,
      numValues: this.numValues,
      uncompressedSize: uncompressed,
      compressedSize: compressed,
      dictionaryPageOffset,
      dataPageOffset,
      encodings,
      statistics,
    };
    this.pages = [];
    this.uncompressed = 0;
    this.numValues = 0;
    this.nullCount = 0;
    this.ext.min = null;
    this.ext.max = null;
    this.statsValid = true;
    this.usedPlain = false;
    this.usedDictionary = false;
    this.resetDictionary();
    return summary;
  }

  private resetDictionary(): void {
    this.dict = this.dictionary ? new Map() : null;
    this.dictBody = this.dictionary ? new ByteBuffer(64 * 1024) : null;
    this.dictCount = 0;
  }

  private page(data: Data, start: number, end: number): void {
    const rows = end - start;
    const validity = data.nullCount > 0 && data.nullBitmap && data.nullBitmap.length > 0 ? data.nullBitmap : null;
    const levels = this.leaf.required ? null : definitionLevels(validity, data.offset + start, rows);
    const present = validity ? countValid(validity, data.offset + start, rows) : rows;
    if (this.leaf.required && present !== rows) throw new Error(`column "${this.leaf.name}" is required but has nulls`);
    this.nullCount += rows - present;
    this.numValues += rows;

    const useDict = this.dict !== null && this.dictBody !== null && this.dictBody.length < DICTIONARY_LIMIT_BYTES;
    const prefix = levels ? 4 + levels.length : 0;
    let body: Uint8Array;
    let encoding: number;
    if (useDict) {
      body = withPrefix(prefix, this.dictionaryValues(data, start, end, validity, present));
      encoding = Encoding.RLE_DICTIONARY;
      this.usedDictionary = true;
    } else {
      // Byte arrays, the bulk of wide rows, are encoded straight into the page body.
      body = this.leaf.kind === 'bytes' ? plainByteArrays(data, start, end, validity, present, prefix) : withPrefix(prefix, this.plainValues(data, start, end, validity, present));
      encoding = Encoding.PLAIN;
      this.usedPlain = true;
    }
    if (levels) {
      new DataView(body.buffer, body.byteOffset).setUint32(0, levels.length, true);
      body.set(levels, 4);
    }
    this.updateStats(data, start, end, validity);

    const { codec, pool, compression, level } = this.compressor;
    // Read before compressing: a body handed to a compression thread is detached (length 0).
    const bodyLength = body.length;
    let packed: Uint8Array | Promise<Uint8Array>;
    if (codec.thriftCodec === 0) packed = body;
    else if (!pool) packed = codec.compress(body);
    else if (codec.compressAsync) packed = pool.track(codec.compressAsync(body), bodyLength);
    else packed = pool.compress(body, compression, level);
    // A failure is reported when the chunk is finished; until then it must not count as unhandled.
    if (packed instanceof Promise) packed.catch(() => undefined);
    this.pages.push({ rows, encoding, bodyLength, packed });
    this.uncompressed += bodyLength;
  }

  /** PLAIN size of rows [start, end), nulls counted as if present (an estimate for paging). */
  private plainBytes(data: Data, start: number, end: number): number {
    const n = end - start;
    switch (this.leaf.kind) {
      case 'bool':
        return Math.ceil(n / 8);
      case 'bytes': {
        const o = data.valueOffsets as Int32Array;
        return o[end] - o[start] + 4 * n;
      }
      case 'fixed':
      case 'decfixed':
        return (this.leaf.typeLength ?? 16) * n;
      case 'i64':
      case 'u64':
      case 'f64':
      case 'dec64':
        return 8 * n;
      default:
        return 4 * n;
    }
  }

  private plainValues(data: Data, start: number, end: number, validity: Uint8Array | null, present: number): Uint8Array {
    const kind = this.leaf.kind;
    const base = data.offset;
    if (kind === 'bool') return packBools(data.values as Uint8Array, base, start, end, validity);
    if (kind === 'bytes') throw new Error('byte arrays are encoded by plainByteArrays');
    const values = data.values as ArrayBufferView;
    const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    switch (kind) {
      case 'i32':
      case 'f32':
        return copyFixed(raw, 4, 4, base, start, end, validity, present);
      case 'i64':
      case 'u64':
      case 'f64':
        return copyFixed(raw, 8, 8, base, start, end, validity, present);
      case 'fixed':
        return copyFixed(raw, this.leaf.typeLength ?? 16, this.leaf.typeLength ?? 16, base, start, end, validity, present);
      case 'dec32':
        return copyFixed(raw, 16, 4, base, start, end, validity, present);
      case 'dec64':
        return copyFixed(raw, 16, 8, base, start, end, validity, present);
      case 'i16':
        return widenInt16(values as Int16Array, base, start, end, validity, present);
      case 'decfixed':
        return bigEndianDecimals(raw, this.leaf.typeLength ?? 16, base, start, end, validity, present);
    }
    throw new Error(`unsupported leaf kind ${String(kind)}`);
  }

  /** Indices into the chunk's dictionary for the present values, adding new values to it. */
  private dictionaryValues(data: Data, start: number, end: number, validity: Uint8Array | null, present: number): Uint8Array {
    const dict = this.dict as Map<unknown, number>;
    const body = this.dictBody as ByteBuffer;
    const indices = new Int32Array(present);
    let k = 0;
    const base = data.offset;
    const kind = this.leaf.kind;
    const add = (key: unknown, write: () => void): number => {
      let idx = dict.get(key);
      if (idx === undefined) {
        idx = this.dictCount++;
        dict.set(key, idx);
        write();
      }
      return idx;
    };
    if (kind === 'bytes') {
      const offsets = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let r = start; r < end; r++) {
        if (validity && !bit(validity, base + r)) continue;
        const s = offsets[r];
        const e = offsets[r + 1];
        indices[k++] = add(buf.toString('latin1', s, e), () => {
          const len = e - s;
          body.byte(len & 0xff);
          body.byte((len >>> 8) & 0xff);
          body.byte((len >>> 16) & 0xff);
          body.byte(len >>> 24);
          body.bytes(bytes, s, e);
        });
      }
    } else {
      const values = data.values as ArrayBufferView;
      const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      const stride = kind === 'dec32' || kind === 'dec64' ? 16 : kind === 'fixed' ? (this.leaf.typeLength ?? 16) : kind === 'i64' || kind === 'u64' ? 8 : kind === 'i16' ? 2 : 4;
      const width = kind === 'dec64' || kind === 'i64' || kind === 'u64' ? 8 : kind === 'fixed' ? stride : 4;
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let r = start; r < end; r++) {
        if (validity && !bit(validity, base + r)) continue;
        const at = r * stride;
        let key: unknown;
        if (kind === 'fixed') key = Buffer.from(raw.buffer, raw.byteOffset + at, width).toString('latin1');
        else if (kind === 'i16') key = view.getInt16(at, true);
        else if (width === 4) key = view.getInt32(at, true);
        else {
          const hi = view.getInt32(at + 4, true);
          key = hi >= -0x200000 && hi < 0x200000 ? hi * 4294967296 + view.getUint32(at, true) : view.getBigInt64(at, true);
        }
        indices[k++] = add(key, () => {
          if (kind === 'i16') {
            const v = view.getInt16(at, true);
            body.byte(v & 0xff);
            body.byte((v >> 8) & 0xff);
            const sign = v < 0 ? 0xff : 0;
            body.byte(sign);
            body.byte(sign);
          } else body.bytes(raw, at, at + width);
        });
      }
    }
    const width = bitWidthFor(this.dictCount);
    const packed = packIndices(indices, present, width);
    const out = new Uint8Array(1 + packed.length);
    out[0] = width;
    out.set(packed, 1);
    return out;
  }

  private updateStats(data: Data, start: number, end: number, validity: Uint8Array | null): void {
    if (!this.statsValid) return;
    const kind = this.leaf.kind;
    const base = data.offset;
    if (kind === 'fixed' || kind === 'decfixed') {
      this.statsValid = false;
      return;
    }
    if (kind === 'bytes') {
      byteArrayExtremes(data, start, end, validity, this.ext);
      if ((this.ext.min && this.ext.min.length > MAX_STAT_BYTES) || (this.ext.max && this.ext.max.length > MAX_STAT_BYTES)) this.statsValid = false;
      return;
    }
    if (kind === 'bool') {
      boolExtremes(data.values as Uint8Array, base, start, end, validity, this.ext);
      return;
    }
    const values = data.values as ArrayBufferView;
    const view = new DataView(values.buffer, values.byteOffset, values.byteLength);
    numericExtremes(kind, view, base, start, end, validity, this.ext);
  }
}

function bit(bitmap: Uint8Array, i: number): boolean {
  return (bitmap[i >> 3] & (1 << (i & 7))) !== 0;
}

function countValid(bitmap: Uint8Array, from: number, n: number): number {
  let c = 0;
  let i = from;
  const end = from + n;
  while (i < end && (i & 7) !== 0) {
    if (bit(bitmap, i)) c++;
    i++;
  }
  while (i + 8 <= end) {
    let b = bitmap[i >> 3];
    b = b - ((b >> 1) & 0x55);
    b = (b & 0x33) + ((b >> 2) & 0x33);
    c += (b + (b >> 4)) & 0x0f;
    i += 8;
  }
  while (i < end) {
    if (bit(bitmap, i)) c++;
    i++;
  }
  return c;
}

/** Fixed-width values of rows [start, end): `width` bytes taken from each `stride`-byte slot. */
function copyFixed(raw: Uint8Array, stride: number, width: number, base: number, start: number, end: number, validity: Uint8Array | null, present: number): Uint8Array {
  if (!validity && stride === width) return raw.subarray(start * stride, end * stride);
  if (stride % 4 === 0 && width % 4 === 0 && raw.byteOffset % 4 === 0) {
    // Word copies: decimals narrowed from 16-byte slots, and fixed-width values with nulls.
    const src = new Int32Array(raw.buffer, raw.byteOffset, raw.byteLength >> 2);
    const out = new Int32Array((present * width) >> 2);
    const sw = stride >> 2;
    const ww = width >> 2;
    let k = 0;
    for (let r = start; r < end; r++) {
      if (validity && !bit(validity, base + r)) continue;
      const at = r * sw;
      for (let w = 0; w < ww; w++) out[k++] = src[at + w];
    }
    return new Uint8Array(out.buffer);
  }
  const out = new Uint8Array(present * width);
  let k = 0;
  for (let r = start; r < end; r++) {
    if (validity && !bit(validity, base + r)) continue;
    const at = r * stride;
    for (let b = 0; b < width; b++) out[k++] = raw[at + b];
  }
  return out;
}

function widenInt16(values: Int16Array, base: number, start: number, end: number, validity: Uint8Array | null, present: number): Uint8Array {
  const out = new Int32Array(present);
  let k = 0;
  for (let r = start; r < end; r++) {
    if (validity && !bit(validity, base + r)) continue;
    out[k++] = values[r];
  }
  return new Uint8Array(out.buffer);
}

/** decimal128 (16 bytes little-endian two's complement) → `width` bytes big-endian. */
function bigEndianDecimals(raw: Uint8Array, width: number, base: number, start: number, end: number, validity: Uint8Array | null, present: number): Uint8Array {
  const out = new Uint8Array(present * width);
  let k = 0;
  for (let r = start; r < end; r++) {
    if (validity && !bit(validity, base + r)) continue;
    const at = r * 16;
    for (let b = width - 1; b >= 0; b--) out[k++] = raw[at + b];
  }
  return out;
}

function packBools(bits: Uint8Array, base: number, start: number, end: number, validity: Uint8Array | null): Uint8Array {
  const out = new Uint8Array(Math.ceil((end - start) / 8));
  let k = 0;
  for (let r = start; r < end; r++) {
    const i = base + r;
    if (validity && !bit(validity, i)) continue;
    if (bit(bits, i)) out[k >> 3] |= 1 << (k & 7);
    k++;
  }
  return out.subarray(0, Math.ceil(k / 8));
}

/** A fresh buffer (it may be transferred to a compression thread) of `prefix` spare bytes then `values`. */
function withPrefix(prefix: number, values: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix + values.length);
  out.set(values, prefix);
  return out;
}

/** PLAIN byte arrays (4-byte length, bytes) after `prefix` spare bytes, in a buffer of their own. */
function plainByteArrays(data: Data, start: number, end: number, validity: Uint8Array | null, present: number, prefix: number): Uint8Array {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const base = data.offset;
  const out = new Uint8Array(prefix + offsets[end] - offsets[start] + 4 * present);
  let at = prefix;
  for (let r = start; r < end; r++) {
    if (validity && !bit(validity, base + r)) continue;
    const s = offsets[r];
    const len = offsets[r + 1] - s;
    out[at] = len & 0xff;
    out[at + 1] = (len >>> 8) & 0xff;
    out[at + 2] = (len >>> 16) & 0xff;
    out[at + 3] = len >>> 24;
    at += 4;
    if (len > 32) out.set(bytes.subarray(s, s + len), at);
    else for (let b = 0; b < len; b++) out[at + b] = bytes[s + b];
    at += len;
  }
  // Null slots that still span bytes leave the estimate too large: trim by copy, keeping
  // the buffer the page's own.
  return at === out.length ? out : out.slice(0, at);
}

function compareBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): number {
  const n = Math.min(ae - as, be - bs);
  for (let i = 0; i < n; i++) {
    const d = a[as + i] - b[bs + i];
    if (d !== 0) return d;
  }
  return ae - as - (be - bs);
}

function byteArrayExtremes(data: Data, start: number, end: number, validity: Uint8Array | null, ext: Extremes): void {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const base = data.offset;
  let minAt = -1;
  let maxAt = -1;
  for (let r = start; r < end; r++) {
    if (validity && !bit(validity, base + r)) continue;
    if (minAt < 0) {
      minAt = maxAt = r;
      continue;
    }
    const s = offsets[r];
    const e = offsets[r + 1];
    if (compareBytes(bytes, s, e, bytes, offsets[minAt], offsets[minAt + 1]) < 0) minAt = r;
    else if (compareBytes(bytes, s, e, bytes, offsets[maxAt], offsets[maxAt + 1]) > 0) maxAt = r;
  }
  if (minAt < 0) return;
  const min = bytes.slice(offsets[minAt], offsets[minAt + 1]);
  const max = bytes.slice(offsets[maxAt], offsets[maxAt + 1]);
  if (!ext.min || compareBytes(min, 0, min.length, ext.min, 0, ext.min.length) < 0) ext.min = min;
  if (!ext.max || compareBytes(max, 0, max.length, ext.max, 0, ext.max.length) > 0) ext.max = max;
}

function boolExtremes(bits: Uint8Array, base: number, start: number, end: number, validity: Uint8Array | null, ext: Extremes): void {
  let sawTrue = ext.max !== null && ext.max[0] === 1;
  let sawFalse = ext.min !== null && ext.min[0] === 0;
  for (let r = start; r < end && !(sawTrue && sawFalse); r++) {
    const i = base + r;
    if (validity && !bit(validity, i)) continue;
    if (bit(bits, i)) sawTrue = true;
    else sawFalse = true;
  }
  if (sawTrue || sawFalse) {
    ext.min = Uint8Array.of(sawFalse ? 0 : 1);
    ext.max = Uint8Array.of(sawTrue ? 1 : 0);
  }
}

/** Min/max of numeric values, stored as their PLAIN bytes (little-endian, physical width). */
function numericExtremes(kind: ParquetLeaf['kind'], view: DataView, base: number, start: number, end: number, validity: Uint8Array | null, ext: Extremes): void {
  const extremes = kind === 'i64' || kind === 'u64' || kind === 'dec64' ? wideExtremes(kind, view, base, start, end, validity) : narrowExtremes(kind, view, base, start, end, validity);
  if (extremes === null) return;
  let [min, max] = extremes;
  const prevMin = ext.min ? decode(kind, ext.min) : null;
  const prevMax = ext.max ? decode(kind, ext.max) : null;
  if (prevMin !== null && prevMin < min) min = prevMin;
  if (prevMax !== null && prevMax > max) max = prevMax;
  // The spec asks for -0.0 as a zero minimum and +0.0 as a zero maximum.
  if (kind === 'f32' || kind === 'f64') {
    if (min === 0) min = -0;
    if (max === 0) max = 0;
  }
  ext.min = encode(kind, min);
  ext.max = encode(kind, max);
}

/** 32-bit-or-narrower values and floats, read through a typed array of their own width. */
function narrowExtremes(kind: ParquetLeaf['kind'], view: DataView, base: number, start: number, end: number, validity: Uint8Array | null): [number, number] | null {
  const buf = view.buffer;
  const at = view.byteOffset;
  let values: ArrayLike<number>;
  let stride = 1;
  if (kind === 'i16') values = new Int16Array(buf, at, view.byteLength >> 1);
  else if (kind === 'f32') values = new Float32Array(buf, at, view.byteLength >> 2);
  else if (kind === 'f64') values = new Float64Array(buf, at, view.byteLength >> 3);
  else {
    values = new Int32Array(buf, at, view.byteLength >> 2);
    if (kind === 'dec32') stride = 4;
  }
  let min = Infinity;
  let max = -Infinity;
  let seen = false;
  for (let r = start; r < end; r++) {
    if (validity && !bit(validity, base + r)) continue;
    const v = values[r * stride];
    if (v !== v) continue; // NaN
    seen = true;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return seen ? [min, max] : null;
}

/** 64-bit values compared as (high word, low word) pairs, so no BigInt is made per value. */
function wideExtremes(kind: ParquetLeaf['kind'], view: DataView, base: number, start: number, end: number, validity: Uint8Array | null): [bigint, bigint] | null {
  const words = new Int32Array(view.buffer, view.byteOffset, view.byteLength >> 2);
  const stride = kind === 'dec64' ? 4 : 2;
  const unsigned = kind === 'u64';
  let minAt = -1;
  let maxAt = -1;
  let minHi = 0;
  let minLo = 0;
  let maxHi = 0;
  let maxLo = 0;
  for (let r = start; r < end; r++) {
    if (validity && !bit(validity, base + r)) continue;
    const k = r * stride;
    const lo = words[k] >>> 0;
    const hi = unsigned ? words[k + 1] >>> 0 : words[k + 1];
    if (minAt < 0) {
      minAt = maxAt = r;
      minHi = maxHi = hi;
      minLo = maxLo = lo;
      continue;
    }
    if (hi < minHi || (hi === minHi && lo < minLo)) {
      minAt = r;
      minHi = hi;
      minLo = lo;
    }
    if (hi > maxHi || (hi === maxHi && lo > maxLo)) {
      maxAt = r;
      maxHi = hi;
      maxLo = lo;
    }
  }
  if (minAt < 0) return null;
  const read = (r: number): bigint => (unsigned ? view.getBigUint64(r * stride * 4, true) : view.getBigInt64(r * stride * 4, true));
  return [read(minAt), read(maxAt)];
}

function decode(kind: ParquetLeaf['kind'], b: Uint8Array): number | bigint {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (kind) {
    case 'f32':
      return v.getFloat32(0, true);
    case 'f64':
      return v.getFloat64(0, true);
    case 'u64':
      return v.getBigUint64(0, true);
    case 'i64':
    case 'dec64':
      return v.getBigInt64(0, true);
    default:
      return v.getInt32(0, true);
  }
}

function encode(kind: ParquetLeaf['kind'], x: number | bigint): Uint8Array {
  const wide = kind === 'f64' || kind === 'u64' || kind === 'i64' || kind === 'dec64';
  const b = new Uint8Array(wide ? 8 : 4);
  const v = new DataView(b.buffer);
  switch (kind) {
    case 'f32':
      v.setFloat32(0, x as number, true);
      break;
    case 'f64':
      v.setFloat64(0, x as number, true);
      break;
    case 'u64':
      v.setBigUint64(0, x as bigint, true);
      break;
    case 'i64':
    case 'dec64':
      v.setBigInt64(0, x as bigint, true);
      break;
    default:
      v.setInt32(0, x as number, true);
  }
  return b;
}

