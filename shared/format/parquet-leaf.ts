import { DataType, TimeUnit, type Field } from 'apache-arrow';
import type { ThriftField, ThriftStruct } from './thrift-compact.js';
import { thriftField } from './thrift-field.js';

/** parquet.thrift Type (physical types). */
export const Physical = { BOOLEAN: 0, INT32: 1, INT64: 2, FLOAT: 4, DOUBLE: 5, BYTE_ARRAY: 6, FIXED_LEN_BYTE_ARRAY: 7 } as const;

/**
 * How the values of one Arrow column become Parquet values:
 * - `i32`/`i64`/`u64`/`f32`/`f64`/`bool`: the Arrow values as they are;
 * - `i16`: widened to INT32;
 * - `dec32`/`dec64`/`decfixed`: decimal128 narrowed to INT32, INT64 or big-endian bytes;
 * - `bytes`: Utf8 / Binary; `fixed`: FixedSizeBinary.
 */
export type LeafKind = 'bool' | 'i16' | 'i32' | 'i64' | 'u64' | 'f32' | 'f64' | 'dec32' | 'dec64' | 'decfixed' | 'bytes' | 'fixed';

export interface ParquetLeaf {
  name: string;
  kind: LeafKind;
  physical: number;
  /** Bytes per value for FIXED_LEN_BYTE_ARRAY. */
  typeLength?: number;
  required: boolean;
  /** The schema element's type annotations (converted type, logical type, scale, precision). */
  annotations: ThriftStruct;
}

const Converted = { UTF8: 0, DECIMAL: 5, DATE: 6, TIME_MILLIS: 7, TIME_MICROS: 8, TIMESTAMP_MILLIS: 9, TIMESTAMP_MICROS: 10, UINT_64: 14, INT_16: 16, JSON: 19 } as const;
const Logical = { STRING: 1, DECIMAL: 5, DATE: 6, TIME: 7, TIMESTAMP: 8, INTEGER: 10, JSON: 12, UUID: 14 } as const;

const { i32, struct, bool, byte } = thriftField;

function converted(c: number): ThriftField {
  return i32(6, c);
}
function logical(member: number, body: ThriftStruct = []): ThriftField {
  return struct(10, [struct(member, body)]);
}
function unit(u: TimeUnit): ThriftStruct {
  const member = u === TimeUnit.MILLISECOND ? 1 : u === TimeUnit.MICROSECOND ? 2 : 3;
  return [struct(member, [])];
}

/** Bytes of the smallest two's-complement integer that holds every decimal of `precision` digits. */
export function decimalByteLength(precision: number): number {
  return Math.ceil((precision * Math.log2(10) + 1) / 8);
}

/**
 * The Parquet leaf for a top-level Arrow field, as arrow-rs (the wasm encoder) lays it
 * out, or null for what this encoder leaves to the wasm one: nested types, decimal256,
 * second-precision times and timestamps (arrow-rs rescales those), unsigned narrow ints.
 */
export function parquetLeaf(field: Field): ParquetLeaf | null {
  const t = field.type as DataType;
  const name = field.name;
  const required = !field.nullable;
  const ext = field.metadata.get('ARROW:extension:name') ?? '';
  const rivetLogical = field.metadata.get('rivet.logical_type') ?? '';
  const leaf = (kind: LeafKind, physical: number, annotations: ThriftStruct, typeLength?: number): ParquetLeaf => ({
    name,
    kind,
    physical,
    required,
    annotations,
    ...(typeLength !== undefined ? { typeLength } : {}),
  });

  if (DataType.isBool(t)) return leaf('bool', Physical.BOOLEAN, []);
  if (DataType.isInt(t)) {
    if (t.isSigned && t.bitWidth === 16) return leaf('i16', Physical.INT32, [converted(Converted.INT_16), logical(Logical.INTEGER, [byte(1, 16), bool(2, true)])]);
    if (t.isSigned && t.bitWidth === 32) return leaf('i32', Physical.INT32, []);
    if (t.isSigned && t.bitWidth === 64) return leaf('i64', Physical.INT64, []);
    if (!t.isSigned && t.bitWidth === 64) return leaf('u64', Physical.INT64, [converted(Converted.UINT_64), logical(Logical.INTEGER, [byte(1, 64), bool(2, false)])]);
    return null;
  }
  if (DataType.isFloat(t)) {
    if (t.precision === 1) return leaf('f32', Physical.FLOAT, []);
    if (t.precision === 2) return leaf('f64', Physical.DOUBLE, []);
    return null;
  }
  if (DataType.isDecimal(t)) {
    if (t.bitWidth !== 128 || t.scale < 0) return null;
    const ann = [converted(Converted.DECIMAL), i32(7, t.scale), i32(8, t.precision), logical(Logical.DECIMAL, [i32(1, t.scale), i32(2, t.precision)])];
    if (t.precision <= 9) return leaf('dec32', Physical.INT32, ann);
    if (t.precision <= 18) return leaf('dec64', Physical.INT64, ann);
    return leaf('decfixed', Physical.FIXED_LEN_BYTE_ARRAY, ann, decimalByteLength(t.precision));
  }
  if (DataType.isDate(t)) {
    if (t.unit !== 0) return null; // DateMillisecond: arrow-rs converts it to days
    return leaf('i32', Physical.INT32, [converted(Converted.DATE), logical(Logical.DATE)]);
  }
  if (DataType.isTime(t)) {
    if (t.unit === TimeUnit.MILLISECOND) return leaf('i32', Physical.INT32, [converted(Converted.TIME_MILLIS), logical(Logical.TIME, [bool(1, false), struct(2, unit(t.unit))])]);
    if (t.unit === TimeUnit.MICROSECOND) return leaf('i64', Physical.INT64, [converted(Converted.TIME_MICROS), logical(Logical.TIME, [bool(1, false), struct(2, unit(t.unit))])]);
    return null;
  }
  if (DataType.isTimestamp(t)) {
    if (t.unit === TimeUnit.SECOND) return null;
    const utc = t.timezone !== null && t.timezone !== undefined && t.timezone !== '';
    const ann: ThriftStruct = [];
    if (t.unit === TimeUnit.MILLISECOND) ann.push(converted(Converted.TIMESTAMP_MILLIS));
    if (t.unit === TimeUnit.MICROSECOND) ann.push(converted(Converted.TIMESTAMP_MICROS));
    ann.push(logical(Logical.TIMESTAMP, [bool(1, utc), struct(2, unit(t.unit))]));
    return leaf('i64', Physical.INT64, ann);
  }
  if (DataType.isUtf8(t)) {
    if (ext === 'arrow.json' || rivetLogical === 'json') return leaf('bytes', Physical.BYTE_ARRAY, [converted(Converted.JSON), logical(Logical.JSON)]);
    return leaf('bytes', Physical.BYTE_ARRAY, [converted(Converted.UTF8), logical(Logical.STRING)]);
  }
  if (DataType.isBinary(t)) return leaf('bytes', Physical.BYTE_ARRAY, []);
  if (DataType.isFixedSizeBinary(t)) {
    const uuid = t.byteWidth === 16 && (ext === 'arrow.uuid' || rivetLogical === 'uuid');
    return leaf('fixed', Physical.FIXED_LEN_BYTE_ARRAY, uuid ? [logical(Logical.UUID)] : [], t.byteWidth);
  }
  return null;
}
