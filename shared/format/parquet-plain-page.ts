import type { Data } from 'apache-arrow';
import type { LeafKind, ParquetLeaf } from './parquet-leaf.js';
import { bit, pageExtremes, type Extremes, type StatsInput } from './parquet-page-stats.js';
import { definitionLevels } from './parquet-rle.js';

/**
 * Everything needed to encode one PLAIN data page, with no reference to Arrow objects, so it
 * can be encoded here or posted to a compression thread (`transferablePageJob`):
 * - `validity`: the validity bitmap, row r's bit at `validityBit + r` (null: no nulls);
 * - `values`: bool → bits, row r's at `valuesBit + r`; fixed-width kinds → row r's slot at
 *   `r * stride` bytes (aligned for its element type); bytes → the bytes of row r are
 *   `values[offsets[r] - dataShift, offsets[r + 1] - dataShift)`;
 * - `offsets`: rows + 1 Arrow offsets (bytes only).
 */
export interface PlainPageJob extends StatsInput {
  /** Bytes per value of a FIXED_LEN_BYTE_ARRAY or big-endian decimal. */
  typeLength: number;
  required: boolean;
}

/** An encoded page body (definition levels, then PLAIN values) and what it says about the chunk. */
export interface PlainPage {
  body: Uint8Array;
  nullCount: number;
  extremes: Extremes;
}

/** Bytes per row of a fixed-width kind in its Arrow buffer. */
function strideOf(kind: LeafKind, typeLength: number): number {
  switch (kind) {
    case 'i16':
      return 2;
    case 'i32':
    case 'f32':
      return 4;
    case 'i64':
    case 'u64':
    case 'f64':
      return 8;
    case 'dec32':
    case 'dec64':
    case 'decfixed':
      return 16;
    case 'fixed':
      return typeLength;
    default:
      return 0;
  }
}

/** A page of rows [start, end) of an Arrow column slice, as views (no copy). */
export function plainPageJob(leaf: ParquetLeaf, data: Data, start: number, end: number): PlainPageJob {
  const validity = data.nullCount > 0 && data.nullBitmap && data.nullBitmap.length > 0 ? data.nullBitmap : null;
  const job: PlainPageJob = {
    kind: leaf.kind,
    typeLength: leaf.typeLength ?? 16,
    required: leaf.required,
    rows: end - start,
    validity,
    validityBit: data.offset + start,
    values: new Uint8Array(0),
    valuesBit: 0,
    offsets: null,
    dataShift: 0,
  };
  const values = data.values as ArrayBufferView;
  const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (leaf.kind === 'bool') {
    job.values = raw;
    job.valuesBit = data.offset + start;
  } else if (leaf.kind === 'bytes') {
    job.values = raw;
    job.offsets = (data.valueOffsets as Int32Array).subarray(start, end + 1);
  } else {
    const stride = strideOf(leaf.kind, job.typeLength);
    job.values = raw.subarray(start * stride, end * stride);
  }
  return job;
}

const align8 = (n: number): number => (n + 7) & ~7;

/** Bytes `transferablePageJob` needs for a page. */
export function transferableBytes(job: PlainPageJob): number {
  const validity = job.validity ? ((job.validityBit & 7) + job.rows + 7) >> 3 : 0;
  const offsets = job.offsets ? (job.rows + 1) * 4 : 0;
  let values: number;
  if (job.kind === 'bool') values = ((job.valuesBit & 7) + job.rows + 7) >> 3;
  else if (job.offsets) values = job.offsets[job.rows] - job.offsets[0];
  else values = job.values.byteLength;
  return align8(offsets) + align8(values) + validity;
}

/**
 * The same page with its arrays copied into `block` (at least `transferableBytes(job)` long),
 * ready to be transferred to another thread: a transfer detaches the buffer, and the Arrow
 * buffers must stay usable here. Offsets first and values 8-aligned, so typed views work.
 */
export function transferablePageJob(job: PlainPageJob, block: ArrayBuffer): PlainPageJob {
  const out: PlainPageJob = { ...job };
  let at = 0;
  const bytes = new Uint8Array(block);
  if (job.offsets) {
    const offsets = new Int32Array(block, 0, job.rows + 1);
    offsets.set(job.offsets);
    out.offsets = offsets;
    at = align8(offsets.byteLength);
  }
  let values: Uint8Array;
  if (job.kind === 'bool') {
    values = job.values.subarray(job.valuesBit >> 3, (job.valuesBit + job.rows + 7) >> 3);
    out.valuesBit = job.valuesBit & 7;
  } else if (job.offsets) {
    values = job.values.subarray(job.offsets[0] - job.dataShift, job.offsets[job.rows] - job.dataShift);
    out.dataShift = job.offsets[0];
  } else {
    values = job.values;
  }
  bytes.set(values, at);
  out.values = bytes.subarray(at, at + values.byteLength);
  at += align8(values.byteLength);
  if (job.validity) {
    const v = job.validity.subarray(job.validityBit >> 3, (job.validityBit + job.rows + 7) >> 3);
    bytes.set(v, at);
    out.validity = bytes.subarray(at, at + v.byteLength);
    out.validityBit = job.validityBit & 7;
  }
  return out;
}

/** PLAIN size of a page estimated from its inputs, nulls counted as present (for row-group sizing before the page exists). */
export function estimatedPlainBytes(job: PlainPageJob): number {
  if (job.kind === 'bool') return Math.ceil(job.rows / 8);
  if (job.offsets) return job.offsets[job.rows] - job.offsets[0] + 4 * job.rows;
  const width = job.kind === 'dec32' || job.kind === 'i16' ? 4 : job.kind === 'dec64' ? 8 : strideOf(job.kind, job.typeLength);
  return width * job.rows;
}

export function countValid(bitmap: Uint8Array, from: number, n: number): number {
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

/**
 * Where page bytes are written: `n` bytes, 8-aligned, not necessarily zeroed. A compression
 * thread hands out the same scratch for every page (the body only lives until it is
 * compressed); elsewhere each page gets fresh memory.
 */
export type PageAlloc = (n: number, purpose: 'values' | 'body') => Uint8Array;

const fresh: PageAlloc = (n) => new Uint8Array(n);

/** Encode a PLAIN data page: definition levels (optional columns), the present values, and their statistics. */
export function encodePlainPage(job: PlainPageJob, alloc: PageAlloc = fresh): PlainPage {
  const { rows, validity } = job;
  const present = validity ? countValid(validity, job.validityBit, rows) : rows;
  if (job.required && present !== rows) throw new Error('a required column has nulls');
  const levels = job.required ? null : definitionLevels(validity, job.validityBit, rows);
  const prefix = levels ? 4 + levels.length : 0;
  let body: Uint8Array;
  if (job.kind === 'bytes') {
    body = plainByteArrays(job, present, prefix, alloc);
  } else {
    const values = plainValues(job, present, alloc);
    if (prefix === 0) body = values;
    else {
      body = alloc(prefix + values.length, 'body');
      body.set(values, prefix);
    }
  }
  if (levels) {
    new DataView(body.buffer, body.byteOffset).setUint32(0, levels.length, true);
    body.set(levels, 4);
  }
  return { body, nullCount: rows - present, extremes: pageExtremes(job) };
}

/** The page's PLAIN values (no levels); a view of `job.values` where they are already laid out so. */
function plainValues(job: PlainPageJob, present: number, alloc: PageAlloc): Uint8Array {
  const { kind, values: raw, rows } = job;
  const validity = job.validity;
  const vb = job.validityBit;
  switch (kind) {
    case 'bool':
      return packBools(raw, job.valuesBit, rows, validity, vb, present, alloc(Math.ceil(present / 8), 'values'));
    case 'i32':
    case 'f32':
      return copyFixed(raw, 4, 4, rows, validity, vb, present, alloc);
    case 'i64':
    case 'u64':
    case 'f64':
      return copyFixed(raw, 8, 8, rows, validity, vb, present, alloc);
    case 'fixed':
      return copyFixed(raw, job.typeLength, job.typeLength, rows, validity, vb, present, alloc);
    case 'dec32':
      return copyFixed(raw, 16, 4, rows, validity, vb, present, alloc);
    case 'dec64':
      return copyFixed(raw, 16, 8, rows, validity, vb, present, alloc);
    case 'i16':
      return widenInt16(new Int16Array(raw.buffer, raw.byteOffset, raw.byteLength >> 1), rows, validity, vb, present, alloc);
    case 'decfixed':
      return bigEndianDecimals(raw, job.typeLength, rows, validity, vb, present, alloc);
    case 'bytes':
      break;
  }
  throw new Error(`internal: no PLAIN values for leaf kind ${kind}`);
}

/** Fixed-width values: `width` bytes taken from each `stride`-byte slot. */
function copyFixed(raw: Uint8Array, stride: number, width: number, rows: number, validity: Uint8Array | null, vb: number, present: number, alloc: PageAlloc): Uint8Array {
  if (!validity && stride === width) return raw.subarray(0, rows * stride);
  const out = alloc(present * width, 'values');
  if (stride % 4 === 0 && width % 4 === 0 && raw.byteOffset % 4 === 0) {
    // Word copies: decimals narrowed from 16-byte slots, and fixed-width values with nulls.
    const src = new Int32Array(raw.buffer, raw.byteOffset, raw.byteLength >> 2);
    const dst = new Int32Array(out.buffer, out.byteOffset, out.byteLength >> 2);
    const sw = stride >> 2;
    const ww = width >> 2;
    let k = 0;
    for (let r = 0; r < rows; r++) {
      if (validity && !bit(validity, vb + r)) continue;
      const at = r * sw;
      for (let w = 0; w < ww; w++) dst[k++] = src[at + w];
    }
    return out;
  }
  let k = 0;
  for (let r = 0; r < rows; r++) {
    if (validity && !bit(validity, vb + r)) continue;
    const at = r * stride;
    for (let b = 0; b < width; b++) out[k++] = raw[at + b];
  }
  return out;
}

function widenInt16(values: Int16Array, rows: number, validity: Uint8Array | null, vb: number, present: number, alloc: PageAlloc): Uint8Array {
  const out = alloc(present * 4, 'values');
  const dst = new Int32Array(out.buffer, out.byteOffset, present);
  let k = 0;
  for (let r = 0; r < rows; r++) {
    if (validity && !bit(validity, vb + r)) continue;
    dst[k++] = values[r];
  }
  return out;
}

/** decimal128 (16 bytes little-endian two's complement) → `width` bytes big-endian. */
function bigEndianDecimals(raw: Uint8Array, width: number, rows: number, validity: Uint8Array | null, vb: number, present: number, alloc: PageAlloc): Uint8Array {
  const out = alloc(present * width, 'values');
  let k = 0;
  for (let r = 0; r < rows; r++) {
    if (validity && !bit(validity, vb + r)) continue;
    const at = r * 16;
    for (let b = width - 1; b >= 0; b--) out[k++] = raw[at + b];
  }
  return out;
}

/** The present booleans bit-packed from bit 0 of `out` (which holds exactly enough bytes). */
function packBools(bits: Uint8Array, from: number, rows: number, validity: Uint8Array | null, vb: number, present: number, out: Uint8Array): Uint8Array {
  if (!validity) {
    // Every row present: the Arrow bits shifted down to bit 0.
    const shift = from & 7;
    const first = from >> 3;
    if (shift === 0) out.set(bits.subarray(first, first + out.length));
    else for (let g = 0; g < out.length; g++) out[g] = ((bits[first + g] >> shift) | ((bits[first + g + 1] ?? 0) << (8 - shift))) & 0xff;
  } else {
    out.fill(0);
    let k = 0;
    for (let r = 0; r < rows; r++) {
      if (!bit(validity, vb + r)) continue;
      if (bit(bits, from + r)) out[k >> 3] |= 1 << (k & 7);
      k++;
    }
  }
  // Bits past the last value belong to nothing; cleared so the page is the same whatever the slice.
  const tail = present & 7;
  if (tail !== 0 && out.length > 0) out[out.length - 1] &= (1 << tail) - 1;
  return out;
}

/** `prefix` spare bytes then `values`, in a buffer of its own (it may be transferred). */
export function withPrefix(prefix: number, values: Uint8Array): Uint8Array {
  if (prefix === 0 && values.byteOffset === 0 && values.byteLength === values.buffer.byteLength) return values;
  const out = new Uint8Array(prefix + values.length);
  out.set(values, prefix);
  return out;
}

/** PLAIN byte arrays (4-byte length, bytes) after `prefix` spare bytes. */
function plainByteArrays(job: PlainPageJob, present: number, prefix: number, alloc: PageAlloc): Uint8Array {
  const offsets = job.offsets as Int32Array;
  const bytes = job.values;
  const shift = job.dataShift;
  const validity = job.validity;
  const vb = job.validityBit;
  const rows = job.rows;
  const out = alloc(prefix + offsets[rows] - offsets[0] + 4 * present, 'body');
  let at = prefix;
  for (let r = 0; r < rows; r++) {
    if (validity && !bit(validity, vb + r)) continue;
    const s = offsets[r] - shift;
    const len = offsets[r + 1] - shift - s;
    out[at] = len & 0xff;
    out[at + 1] = (len >>> 8) & 0xff;
    out[at + 2] = (len >>> 16) & 0xff;
    out[at + 3] = len >>> 24;
    at += 4;
    if (len > 32) out.set(bytes.subarray(s, s + len), at);
    else for (let b = 0; b < len; b++) out[at + b] = bytes[s + b];
    at += len;
  }
  // Null slots that still span bytes leave the estimate too large.
  return at === out.length ? out : out.subarray(0, at);
}
