import type { LeafKind } from './parquet-leaf.js';

/**
 * Min/max statistics of Parquet values, kept as their PLAIN bytes (little-endian at the
 * physical width for numbers, the raw bytes for byte arrays, one byte for booleans) and
 * compared the way each kind sorts. A page's extremes are found where the page is encoded
 * (possibly on a compression thread); the chunk merges them in page order.
 */
export interface Extremes {
  min: Uint8Array | null;
  max: Uint8Array | null;
}

/** The rows of one page as the encoder sees them (see parquet-plain-page.ts). */
export interface StatsInput {
  kind: LeafKind;
  rows: number;
  validity: Uint8Array | null;
  validityBit: number;
  values: Uint8Array;
  valuesBit: number;
  offsets: Int32Array | null;
  dataShift: number;
}

export function bit(bitmap: Uint8Array, i: number): boolean {
  return (bitmap[i >> 3] & (1 << (i & 7))) !== 0;
}

export function compareBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): number {
  const n = Math.min(ae - as, be - bs);
  for (let i = 0; i < n; i++) {
    const d = a[as + i] - b[bs + i];
    if (d !== 0) return d;
  }
  return ae - as - (be - bs);
}

/**
 * Min/max of the present, non-NaN values of one page; both null when there are none, and
 * always for fixed-length byte values, whose statistics are not written.
 */
export function pageExtremes(p: StatsInput): Extremes {
  switch (p.kind) {
    case 'fixed':
    case 'decfixed':
      return { min: null, max: null };
    case 'bytes':
      return byteArrayExtremes(p);
    case 'bool':
      return boolExtremes(p);
    case 'i64':
    case 'u64':
    case 'dec64':
      return wideExtremes(p);
    default:
      return narrowExtremes(p);
  }
}

/** Fold a page's extremes into the chunk's running ones. */
export function mergeExtremes(kind: LeafKind, into: Extremes, page: Extremes): void {
  if (page.min && (!into.min || less(kind, page.min, into.min))) into.min = page.min;
  if (page.max && (!into.max || less(kind, into.max, page.max))) into.max = page.max;
  // The spec asks for -0.0 as a zero minimum and +0.0 as a zero maximum.
  if (kind === 'f32' || kind === 'f64') {
    if (into.min && decode(kind, into.min) === 0) into.min = encode(kind, -0);
    if (into.max && decode(kind, into.max) === 0) into.max = encode(kind, 0);
  }
}

function less(kind: LeafKind, a: Uint8Array, b: Uint8Array): boolean {
  if (kind === 'bytes' || kind === 'bool') return compareBytes(a, 0, a.length, b, 0, b.length) < 0;
  return decode(kind, a) < decode(kind, b);
}

/**
 * A value's first four bytes as an unsigned big-endian number, zero-padded. A smaller key
 * means a smaller value (a shorter value that pads with zeros is a prefix, hence smaller);
 * equal keys need the full comparison.
 */
function prefixKey(bytes: Uint8Array, s: number, e: number): number {
  const n = e - s;
  if (n >= 4) return ((bytes[s] << 24) | (bytes[s + 1] << 16) | (bytes[s + 2] << 8) | bytes[s + 3]) >>> 0;
  let k = 0;
  for (let i = 0; i < 4; i++) k = k * 256 + (i < n ? bytes[s + i] : 0);
  return k;
}

function byteArrayExtremes(p: StatsInput): Extremes {
  const offsets = p.offsets as Int32Array;
  const bytes = p.values;
  const shift = p.dataShift;
  const validity = p.validity;
  let minAt = -1;
  let maxAt = -1;
  // Prefix keys settle most comparisons without walking the bytes.
  let minKey = 0;
  let maxKey = 0;
  for (let r = 0; r < p.rows; r++) {
    if (validity && !bit(validity, p.validityBit + r)) continue;
    const s = offsets[r] - shift;
    const e = offsets[r + 1] - shift;
    const key = prefixKey(bytes, s, e);
    if (minAt < 0) {
      minAt = maxAt = r;
      minKey = maxKey = key;
    } else if (key < minKey || (key === minKey && compareBytes(bytes, s, e, bytes, offsets[minAt] - shift, offsets[minAt + 1] - shift) < 0)) {
      minAt = r;
      minKey = key;
    } else if (key > maxKey || (key === maxKey && compareBytes(bytes, s, e, bytes, offsets[maxAt] - shift, offsets[maxAt + 1] - shift) > 0)) {
      maxAt = r;
      maxKey = key;
    }
  }
  if (minAt < 0) return { min: null, max: null };
  return {
    min: bytes.slice(offsets[minAt] - shift, offsets[minAt + 1] - shift),
    max: bytes.slice(offsets[maxAt] - shift, offsets[maxAt + 1] - shift),
  };
}

function boolExtremes(p: StatsInput): Extremes {
  let sawTrue = false;
  let sawFalse = false;
  for (let r = 0; r < p.rows && !(sawTrue && sawFalse); r++) {
    if (p.validity && !bit(p.validity, p.validityBit + r)) continue;
    if (bit(p.values, p.valuesBit + r)) sawTrue = true;
    else sawFalse = true;
  }
  if (!sawTrue && !sawFalse) return { min: null, max: null };
  return { min: Uint8Array.of(sawFalse ? 0 : 1), max: Uint8Array.of(sawTrue ? 1 : 0) };
}

/** 32-bit-or-narrower values and floats, read through a typed array of their own width. */
function narrowExtremes(p: StatsInput): Extremes {
  const { buffer, byteOffset, byteLength } = p.values;
  let values: ArrayLike<number>;
  let stride = 1;
  if (p.kind === 'i16') values = new Int16Array(buffer, byteOffset, byteLength >> 1);
  else if (p.kind === 'f32') values = new Float32Array(buffer, byteOffset, byteLength >> 2);
  else if (p.kind === 'f64') values = new Float64Array(buffer, byteOffset, byteLength >> 3);
  else {
    values = new Int32Array(buffer, byteOffset, byteLength >> 2);
    if (p.kind === 'dec32') stride = 4;
  }
  const validity = p.validity;
  let min = Infinity;
  let max = -Infinity;
  let seen = false;
  for (let r = 0; r < p.rows; r++) {
    if (validity && !bit(validity, p.validityBit + r)) continue;
    const v = values[r * stride];
    if (v !== v) continue; // NaN
    seen = true;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!seen) return { min: null, max: null };
  if (p.kind === 'f32' || p.kind === 'f64') {
    if (min === 0) min = -0;
    if (max === 0) max = 0;
  }
  return { min: encode(p.kind, min), max: encode(p.kind, max) };
}

/** 64-bit values compared as (high word, low word) pairs, so no BigInt is made per value. */
function wideExtremes(p: StatsInput): Extremes {
  const { buffer, byteOffset, byteLength } = p.values;
  const words = new Int32Array(buffer, byteOffset, byteLength >> 2);
  const stride = p.kind === 'dec64' ? 4 : 2;
  const unsigned = p.kind === 'u64';
  const validity = p.validity;
  let minAt = -1;
  let maxAt = -1;
  let minHi = 0;
  let minLo = 0;
  let maxHi = 0;
  let maxLo = 0;
  for (let r = 0; r < p.rows; r++) {
    if (validity && !bit(validity, p.validityBit + r)) continue;
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
  if (minAt < 0) return { min: null, max: null };
  // The low 8 bytes of the slot, little-endian: the INT64 PLAIN bytes.
  const at = (r: number): Uint8Array => p.values.slice(r * stride * 4, r * stride * 4 + 8);
  return { min: at(minAt), max: at(maxAt) };
}

function decode(kind: LeafKind, b: Uint8Array): number | bigint {
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
    case 'i16':
    case 'i32':
    case 'dec32':
      return v.getInt32(0, true);
    default:
      throw new Error(`internal: no numeric statistics for ${kind}`);
  }
}

function encode(kind: LeafKind, x: number): Uint8Array {
  const b = new Uint8Array(kind === 'f64' ? 8 : 4);
  const v = new DataView(b.buffer);
  if (kind === 'f32') v.setFloat32(0, x, true);
  else if (kind === 'f64') v.setFloat64(0, x, true);
  else v.setInt32(0, x, true);
  return b;
}
