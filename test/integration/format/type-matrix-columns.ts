/**
 * Every Arrow type the three sources produce (docs/reference/types.md), each with values in
 * the shapes that take different paths through a Parquet encoder: all distinct (PLAIN pages),
 * a few distinct values with and without NULLs (dictionary pages), all NULL, and the type's
 * edge values cycled (dictionary pages of extremes). Values are given as the source decoders
 * would hold them (unscaled decimals, epoch days / micros, bytes), turned into Arrow data
 * here and into the shape of test/helpers/parquet-reader-panel.ts for comparison.
 */
import { Field, Struct, makeData, type Data, type DataType, RecordBatch, Schema, Int64 } from 'apache-arrow';
import { rivetField, type RivetType } from '../../../shared/types/rivet-type.js';
import type { PanelValue } from '../../helpers/parquet-reader-panel.js';

export const SHAPES = ['unique', 'few', 'few_nulls', 'all_null', 'edges'] as const;
export type Shape = (typeof SHAPES)[number];

/** Rows per file: enough non-null values (≥ 64, ≤ 1 in 10 distinct) for the encoders to choose a dictionary. */
export const MATRIX_ROWS = 200;

type Scalar = boolean | number | bigint | string | Uint8Array;
type Value = Scalar | null | Value[];

export interface MatrixType {
  /** Column name in files holding many types. */
  name: string;
  rivet: RivetType;
  nativeType: string;
  /** Value of row i in the `unique` shape, once the edges are used up. */
  unique(i: number): Value;
  few: Value[];
  edges: Value[];
}

const f32 = Math.fround;
const pow = (b: bigint, e: number): bigint => b ** BigInt(e);
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 0xff);
const uuid = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));
const UUIDS = ['00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff', '123e4567e89b12d3a456426614174000', '01890a5dac96774bbcceb302099a8057'].map(uuid);
/** Longer than any statistics bound (64 bytes) or inline-copy threshold, short enough to read back 1350 files quickly. */
const LONG_TEXT = 'long ✓ text '.repeat(100);

const DAY_0001 = -719_162; // 0001-01-01
const DAY_9999 = 2_932_896; // 9999-12-31
const MICROS_0001 = -62_135_596_800_000_000n;
const MICROS_9999 = 253_402_300_799_999_999n;
const MICROS_1900 = -2_208_988_800_000_000n;

function decimalType(precision: number, scale: number): MatrixType {
  const max = pow(10n, precision) - 1n;
  return {
    name: `c_decimal_${precision}_${scale}`,
    rivet: { kind: 'decimal', precision, scale },
    nativeType: 'numeric',
    unique: (i) => BigInt(i) * 1_000_003n - 77n,
    few: [123_456_789n % max, -max, max, 0n],
    edges: [max, -max, 0n, 1n, -1n, pow(10n, scale), -(pow(10n, precision - 1) + 7n)],
  };
}

function timestampType(unit: 'microsecond' | 'nanosecond', timezone: null | 'UTC'): MatrixType {
  const micros = unit === 'microsecond';
  return {
    name: `c_timestamp_${unit === 'microsecond' ? 'us' : 'ns'}${timezone ? '_utc' : ''}`,
    rivet: { kind: 'timestamp', unit, timezone },
    nativeType: timezone ? 'timestamptz' : 'timestamp',
    unique: (i) => (micros ? 1_700_000_000_123_456n : 1_700_000_000_123_456_789n) + BigInt(i) * 3_600_000_001n,
    few: micros ? [0n, MICROS_1900 + 500_000n, 1_700_000_000_123_456n] : [0n, -1_000_000_001n, 1_700_000_000_123_456_789n],
    // Nanosecond timestamps cover 1677-09-21 .. 2262-04-11 (int64 nanoseconds); their ends are left out of
    // the edges because DuckDB keeps ±(2^63-1) for infinity.
    edges: micros
      ? [MICROS_0001, MICROS_9999, 0n, -1n, -1_500_000n, MICROS_1900 + 500_000n]
      : [-9_223_372_036_854_775_000n, 9_223_372_036_854_775_000n, 0n, -1n, -1_500_000_001n, MICROS_1900 * 1000n + 1n],
  };
}

function listType(name: string, inner: RivetType, elementOf: MatrixType): MatrixType {
  const e = elementOf;
  return {
    name: `c_list_${name}`,
    rivet: { kind: 'list', inner },
    nativeType: `_${e.nativeType}`,
    unique: (i) => [e.unique(i), e.unique(i + 1)],
    few: [[e.few[0], e.few[1]], [], [e.few[2] ?? e.few[0], null]],
    edges: [[], [null], e.edges.slice(0, 4), Array.from({ length: 100 }, (_, i) => e.edges[i % e.edges.length])],
  };
}

const scalar = {
  int32: { name: 'c_int32', rivet: { kind: 'int32' }, nativeType: 'int4', unique: (i: number) => i * 7919 - 500_000, few: [7, -7, 100_000], edges: [-2_147_483_648, 2_147_483_647, 0, -1, 1] },
  string: {
    name: 'c_string',
    rivet: { kind: 'string' },
    nativeType: 'text',
    unique: (i: number) => `value ${i} ü`,
    few: ['alpha', 'beta', 'γάμμα'],
    edges: ['', 'a', LONG_TEXT, 'ünïcødé ✓ 🎉 𝄞', 'line\nbreak\r\n"quoted",', 'nul\u0000byte'],
  },
  date: { name: 'c_date', rivet: { kind: 'date' }, nativeType: 'date', unique: (i: number) => 19_000 + i * 37, few: [0, -25_567, 19_675], edges: [DAY_0001, DAY_9999, 0, -1, -25_567] },
  uuid: { name: 'c_uuid', rivet: { kind: 'uuid' }, nativeType: 'uuid', unique: (i: number) => bytes(16, i), few: UUIDS.slice(2), edges: UUIDS },
  json: {
    name: 'c_json',
    rivet: { kind: 'json' },
    nativeType: 'jsonb',
    unique: (i: number) => `{"i":${i}}`,
    few: ['{}', '{"a":[1,2]}', 'null'],
    edges: ['{}', '[]', 'null', '"ü ✓"', '{"nested":{"x":[true,false,1.5e300]}}', `{"long":"${'x'.repeat(1500)}"}`],
  },
  float64: {
    name: 'c_float64',
    rivet: { kind: 'float64' },
    nativeType: 'float8',
    unique: (i: number) => i * 1.1 - 3.3,
    few: [0.1, -2.5, 1e300],
    edges: [NaN, Infinity, -Infinity, -0, 0, Number.MAX_VALUE, Number.MIN_VALUE, -Number.MAX_VALUE, 0.1],
  },
  timestamptz: timestampType('microsecond', 'UTC'),
} satisfies Record<string, MatrixType>;

export const MATRIX_TYPES: MatrixType[] = [
  { name: 'c_bool', rivet: { kind: 'bool' }, nativeType: 'bool', unique: (i) => i % 2 === 0, few: [true, false], edges: [true, false, false] },
  { name: 'c_int16', rivet: { kind: 'int16' }, nativeType: 'int2', unique: (i) => i * 97 - 9000, few: [7, -7, 300], edges: [-32_768, 32_767, 0, -1, 1] },
  scalar.int32,
  { name: 'c_int64', rivet: { kind: 'int64' }, nativeType: 'int8', unique: (i) => BigInt(i) * 1_000_000_007n - 9n, few: [42n, -42n, 9_007_199_254_740_993n], edges: [-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 2n ** 53n + 1n] },
  { name: 'c_uint64', rivet: { kind: 'u_int64' }, nativeType: 'bigint unsigned', unique: (i) => 2n ** 63n + BigInt(i) * 12_345n, few: [0n, 2n ** 64n - 1n, 2n ** 63n], edges: [0n, 2n ** 64n - 1n, 2n ** 63n, 2n ** 63n - 1n, 1n] },
  { name: 'c_float32', rivet: { kind: 'float32' }, nativeType: 'float4', unique: (i) => f32(i * 1.25 - 3.3), few: [f32(0.1), -2.5, f32(3.4e38)], edges: [NaN, Infinity, -Infinity, -0, 0, f32(3.4028234663852886e38), f32(1.4e-45), f32(0.1)] },
  scalar.float64,
  decimalType(9, 2),
  decimalType(18, 4),
  decimalType(19, 4),
  decimalType(20, 4),
  decimalType(38, 10),
  decimalType(38, 0),
  decimalType(60, 10),
  scalar.date,
  { name: 'c_time', rivet: { kind: 'time', unit: 'microsecond' }, nativeType: 'time', unique: (i) => BigInt(i) * 400_000_001n, few: [0n, 43_200_000_000n, 86_399_999_999n], edges: [0n, 1n, 86_399_999_999n, 43_200_000_000n] },
  timestampType('microsecond', null),
  scalar.timestamptz,
  timestampType('nanosecond', null),
  timestampType('nanosecond', 'UTC'),
  scalar.string,
  scalar.json,
  { name: 'c_binary', rivet: { kind: 'binary' }, nativeType: 'bytea', unique: (i) => bytes(1 + (i % 40), i), few: [utf8('ab'), new Uint8Array(0), Uint8Array.of(0, 255)], edges: [new Uint8Array(0), Uint8Array.of(0), Uint8Array.of(255, 254), bytes(1500, 3)] },
  scalar.uuid,
  listType('int32', { kind: 'int32' }, scalar.int32),
  listType('float64', { kind: 'float64' }, scalar.float64),
  listType('string', { kind: 'string' }, scalar.string),
  listType('decimal_10_2', { kind: 'decimal', precision: 10, scale: 2 }, decimalType(10, 2)),
  listType('uuid', { kind: 'uuid' }, scalar.uuid),
  listType('date', { kind: 'date' }, scalar.date),
  listType('timestamptz', { kind: 'timestamp', unit: 'microsecond', timezone: 'UTC' }, scalar.timestamptz),
  listType('json', { kind: 'json' }, scalar.json),
];

/** Row values of `type` in `shape`. */
export function shapeValues(type: MatrixType, shape: Shape, rows = MATRIX_ROWS): Value[] {
  switch (shape) {
    case 'unique':
      return Array.from({ length: rows }, (_, i) => (i < type.edges.length ? type.edges[i] : type.unique(i)));
    case 'few':
      return Array.from({ length: rows }, (_, i) => type.few[i % type.few.length]);
    case 'few_nulls':
      return Array.from({ length: rows }, (_, i) => (i % 3 === 0 ? null : type.few[i % type.few.length]));
    case 'all_null':
      return Array.from({ length: rows }, () => null);
    case 'edges':
      return Array.from({ length: rows }, (_, i) => type.edges[i % type.edges.length]);
  }
}

function validity(values: readonly Value[]): { nullBitmap: Uint8Array; nullCount: number } {
  const nullBitmap = new Uint8Array(Math.ceil(values.length / 8));
  let nullCount = 0;
  values.forEach((v, i) => {
    if (v === null) nullCount++;
    else nullBitmap[i >> 3] |= 1 << (i & 7);
  });
  return { nullBitmap, nullCount };
}

/** Arrow data for `values` of `type`, laid out as the source builders lay it out. */
export function arrowData(type: DataType, values: readonly Value[]): Data {
  const { nullBitmap, nullCount } = validity(values);
  const length = values.length;
  const base = { type, length, nullCount, nullBitmap } as Record<string, unknown>;
  const t = type as DataType & { bitWidth?: number; byteWidth?: number; children?: Field[] };
  const name = type.constructor.name;
  if (name === 'Bool') {
    const bits = new Uint8Array(Math.ceil(length / 8));
    values.forEach((v, i) => v === true && (bits[i >> 3] |= 1 << (i & 7)));
    return makeData({ ...base, data: bits } as never);
  }
  if (name === 'Utf8' || name === 'Binary') {
    const parts = values.map((v) => (v === null ? new Uint8Array(0) : typeof v === 'string' ? utf8(v) : (v as Uint8Array)));
    const valueOffsets = new Int32Array(length + 1);
    parts.forEach((p, i) => (valueOffsets[i + 1] = valueOffsets[i] + p.length));
    const data = new Uint8Array(valueOffsets[length]);
    parts.forEach((p, i) => data.set(p, valueOffsets[i]));
    return makeData({ ...base, valueOffsets, data } as never);
  }
  if (name === 'List') {
    const valueOffsets = new Int32Array(length + 1);
    const flat: Value[] = [];
    values.forEach((v, i) => {
      if (Array.isArray(v)) flat.push(...v);
      valueOffsets[i + 1] = flat.length;
    });
    return makeData({ ...base, valueOffsets, child: arrowData(t.children![0].type, flat) } as never);
  }
  if (name === 'FixedSizeBinary') {
    const data = new Uint8Array(length * t.byteWidth!);
    values.forEach((v, i) => v !== null && data.set(v as Uint8Array, i * t.byteWidth!));
    return makeData({ ...base, data } as never);
  }
  if (name === 'Decimal') {
    const words = t.bitWidth! / 32;
    const data = new Uint32Array(length * words);
    values.forEach((v, i) => {
      let x = BigInt.asUintN(t.bitWidth!, (v as bigint | null) ?? 0n);
      for (let k = 0; k < words; k++, x >>= 32n) data[i * words + k] = Number(x & 0xffffffffn);
    });
    return makeData({ ...base, data } as never);
  }
  const num = (v: Value): number => (v ?? 0) as number;
  const big = (v: Value): bigint => BigInt((v ?? 0) as bigint);
  let data: ArrayBufferView;
  switch (name) {
    case 'Int16':
      data = Int16Array.from(values, num);
      break;
    case 'Int32':
    case 'DateDay':
      data = Int32Array.from(values, num);
      break;
    case 'Float32':
      data = Float32Array.from(values, num);
      break;
    case 'Float64':
      data = Float64Array.from(values, num);
      break;
    case 'Uint64':
      data = BigUint64Array.from(values, big);
      break;
    default: // Int64, Time (64-bit), Timestamp
      data = BigInt64Array.from(values, big);
  }
  return makeData({ ...base, data } as never);
}

/** The Arrow field the sources give a column of this type: nullable, with rivet's metadata and extensions. */
export function matrixField(type: MatrixType, name = type.name): Field {
  return rivetField(name, type.rivet, type.nativeType);
}

/** A batch of an `id` key (row numbers from `firstId`) beside the given columns. */
export function matrixBatch(columns: { field: Field; values: Value[] }[], firstId = 0): RecordBatch {
  const rows = columns[0]?.values.length ?? 0;
  const idField = new Field('id', new Int64(), true);
  const schema = new Schema([idField, ...columns.map((c) => c.field)]);
  const ids = arrowData(new Int64(), Array.from({ length: rows }, (_, i) => BigInt(firstId + i)));
  const children = [ids, ...columns.map((c) => arrowData(c.field.type, c.values))];
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children }));
}

function floatBits(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return Buffer.from(view.buffer).toString('hex');
}

/** Exact decimal text without trailing fraction zeros: the readers differ only in those. */
export function normalDecimal(s: string): string {
  let out = s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
  if (/^-0*$/.test(out)) out = '0';
  return out;
}

function decimalText(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  const digits = String(neg ? -unscaled : unscaled).padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return normalDecimal(`${neg ? '-' : ''}${text}`);
}

/** What every reader of the panel must report for `value` of `rivet`. */
export function expectedPanelValue(rivet: RivetType, value: Value): PanelValue {
  if (value === null) return null;
  switch (rivet.kind) {
    case 'bool':
      return value as boolean;
    case 'float32':
    case 'float64':
      return floatBits(value as number);
    case 'decimal':
      return decimalText(value as bigint, rivet.scale);
    case 'time':
      return String((value as bigint) * 1000n);
    case 'timestamp':
      return String(rivet.unit === 'microsecond' ? (value as bigint) * 1000n : (value as bigint));
    case 'binary':
    case 'uuid':
      return Buffer.from(value as Uint8Array).toString('hex');
    case 'list':
      return (value as Value[]).map((v) => expectedPanelValue(rivet.inner, v));
    default:
      return String(value);
  }
}
