/**
 * One Arrow batch holding every type rivet maps (docs/reference/types.md) with edge values and a NULL in
 * each column, plus what the independent readers must give back (canonical shapes of
 * test/helpers/readers.ts) and the CSV text docs/reference/types.md prescribes.
 */
import {
  Binary,
  Bool,
  DateDay,
  Decimal,
  Field,
  FixedSizeBinary,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  RecordBatch,
  Schema,
  Struct,
  Time,
  TimeUnit,
  Timestamp,
  Utf8,
  makeData,
  vectorFromArray,
  type Data,
  type DataType,
} from 'apache-arrow';

export interface FixtureColumn {
  name: string;
  type: DataType;
  metadata?: Record<string, string>;
  data: Data;
  /** Canonical value per row as both readers report it from Parquet. */
  expected: unknown[];
  /** CSV cell per row (docs/reference/types.md), before CSV quoting. */
  csv: string[];
  duckdbType: string;
  pyarrowType: string;
}

const ROWS = 8;

function validityBitmap(values: readonly unknown[]): { nullBitmap: Uint8Array; nullCount: number } {
  const nullBitmap = new Uint8Array(Math.ceil(values.length / 8));
  let nullCount = 0;
  values.forEach((v, i) => {
    if (v === null) nullCount++;
    else nullBitmap[i >> 3] |= 1 << (i & 7);
  });
  return { nullBitmap, nullCount };
}

/** Fixed-width Data from raw storage values (days, µs, unscaled decimals, 16-byte values). */
function raw(type: DataType, values: readonly (number | bigint | Uint8Array | null)[]): Data {
  const { nullBitmap, nullCount } = validityBitmap(values);
  let data: Int32Array | BigInt64Array | Uint32Array | Uint8Array;
  if (type instanceof Decimal) {
    data = new Uint32Array(values.length * 4);
    values.forEach((v, i) => {
      let x = BigInt.asUintN(128, (v as bigint | null) ?? 0n);
      for (let k = 0; k < 4; k++) {
        data[i * 4 + k] = Number(x & 0xffffffffn);
        x >>= 32n;
      }
    });
  } else if (type instanceof FixedSizeBinary) {
    const bytes = new Uint8Array(values.length * type.byteWidth);
    values.forEach((v, i) => v && bytes.set(v as Uint8Array, i * type.byteWidth));
    data = bytes;
  } else if (type instanceof DateDay) {
    data = Int32Array.from(values, (v) => (v as number | null) ?? 0);
  } else {
    data = BigInt64Array.from(values, (v) => (v as bigint | null) ?? 0n);
  }
  return makeData({ type, length: values.length, nullCount, nullBitmap, data } as never);
}

function vec(type: DataType, values: readonly unknown[]): Data {
  return vectorFromArray(values as never[], type as never).data[0] as Data;
}

function uuidBytes(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/-/g, ''), 'hex'));
}

const f32 = Math.fround;
// 1900-01-01T00:00:00Z in µs.
const T1900 = -2_208_988_800_000_000n;
const tsValues = [0n, -1n, -1_500_000n, T1900 + 500_000n, 1_700_000_000_123_456n, 253_402_300_799_999_999n, -62_135_596_800_000_000n, null];
const tsText = [
  '1970-01-01T00:00:00.000000',
  '1969-12-31T23:59:59.999999',
  '1969-12-31T23:59:58.500000',
  '1900-01-01T00:00:00.500000',
  '2023-11-14T22:13:20.123456',
  '9999-12-31T23:59:59.999999',
  '0001-01-01T00:00:00.000000',
  null,
];
const uuids = ['00000000-0000-0000-0000-000000000000', '123e4567-e89b-12d3-a456-426614174000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', null, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '01890a5d-ac96-774b-bcce-b302099a8057', null, '6ba7b810-9dad-11d1-80b4-00c04fd430c8'];
const texts = ['plain', 'a,b', 'say "hi"', 'line1\nline2', 'crlf\r\nend', 'ünïcødé ✓ 🎉', '', null];
const jsons = ['{"a":1}', '[1,2,3]', 'null', '"s,t"', '{"nested":{"x":[true,false]}}', '1.5', null, '{}'];

const text = (v: unknown): string => (v === null ? '' : String(v));

export const FIXTURE_COLUMNS: FixtureColumn[] = [
  {
    name: 'c_bool',
    type: new Bool(),
    data: vec(new Bool(), [true, false, null, true, false, true, false, true]),
    expected: [true, false, null, true, false, true, false, true],
    csv: ['true', 'false', '', 'true', 'false', 'true', 'false', 'true'],
    duckdbType: 'BOOLEAN',
    pyarrowType: 'bool',
  },
  {
    name: 'c_int16',
    type: new Int16(),
    data: vec(new Int16(), [0, -32768, 32767, null, 1, -1, 42, 1000]),
    expected: [0, -32768, 32767, null, 1, -1, 42, 1000],
    csv: ['0', '-32768', '32767', '', '1', '-1', '42', '1000'],
    duckdbType: 'SMALLINT',
    pyarrowType: 'int16',
  },
  {
    name: 'c_int32',
    type: new Int32(),
    data: vec(new Int32(), [0, -2147483648, 2147483647, 7, null, -7, 123456, 1]),
    expected: [0, -2147483648, 2147483647, 7, null, -7, 123456, 1],
    csv: ['0', '-2147483648', '2147483647', '7', '', '-7', '123456', '1'],
    duckdbType: 'INTEGER',
    pyarrowType: 'int32',
  },
  {
    name: 'c_int64',
    type: new Int64(),
    data: vec(new Int64(), [0n, -9223372036854775808n, 9223372036854775807n, 9007199254740993n, -1n, null, 1n, 2n]),
    expected: [0n, -9223372036854775808n, 9223372036854775807n, 9007199254740993n, -1n, null, 1n, 2n],
    csv: ['0', '-9223372036854775808', '9223372036854775807', '9007199254740993', '-1', '', '1', '2'],
    duckdbType: 'BIGINT',
    pyarrowType: 'int64',
  },
  {
    name: 'c_float32',
    type: new Float32(),
    data: vec(new Float32(), [1.5, NaN, Infinity, -Infinity, null, f32(0.1), -0, f32(3.4e38)]),
    expected: [1.5, NaN, Infinity, -Infinity, null, f32(0.1), -0, f32(3.4e38)],
    csv: ['1.5', 'NaN', 'inf', '-inf', '', '0.1', '-0', '340000000000000000000000000000000000000'],
    duckdbType: 'FLOAT',
    pyarrowType: 'float',
  },
  {
    name: 'c_float64',
    type: new Float64(),
    data: vec(new Float64(), [0.1, NaN, Infinity, -Infinity, 1e300, null, 5e-324, 1]),
    expected: [0.1, NaN, Infinity, -Infinity, 1e300, null, 5e-324, 1],
    csv: ['0.1', 'NaN', 'inf', '-inf', `1${'0'.repeat(300)}`, '', `0.${'0'.repeat(323)}5`, '1'],
    duckdbType: 'DOUBLE',
    pyarrowType: 'double',
  },
  {
    // precision ≤ 9: stored as INT32 in Parquet
    name: 'c_dec_9_2',
    type: new Decimal(2, 9, 128),
    data: raw(new Decimal(2, 9, 128), [0n, 1n, -1n, 999999999n, -999999999n, 12345n, null, -50n]),
    expected: ['0.00', '0.01', '-0.01', '9999999.99', '-9999999.99', '123.45', null, '-0.50'],
    csv: ['0.00', '0.01', '-0.01', '9999999.99', '-9999999.99', '123.45', '', '-0.50'],
    duckdbType: 'DECIMAL(9,2)',
    pyarrowType: 'decimal128(9, 2)',
  },
  {
    // precision ≤ 18: INT64
    name: 'c_dec_18_0',
    type: new Decimal(0, 18, 128),
    data: raw(new Decimal(0, 18, 128), [0n, -1n, 999999999999999999n, -999999999999999999n, null, 42n, 7n, -7n]),
    expected: ['0', '-1', '999999999999999999', '-999999999999999999', null, '42', '7', '-7'],
    csv: ['0', '-1', '999999999999999999', '-999999999999999999', '', '42', '7', '-7'],
    duckdbType: 'DECIMAL(18,0)',
    pyarrowType: 'decimal128(18, 0)',
  },
  {
    // precision 38: FIXED_LEN_BYTE_ARRAY, beyond 64 bits
    name: 'c_dec_38_10',
    type: new Decimal(10, 38, 128),
    data: raw(new Decimal(10, 38, 128), [
      0n,
      -1n,
      12345678901234567890123456789012345678n,
      -99999999999999999999999999999999999999n,
      99999999999999999999999999999999999999n,
      null,
      10000000000n,
      -123456789012n,
    ]),
    expected: [
      '0.0000000000',
      '-0.0000000001',
      '1234567890123456789012345678.9012345678',
      '-9999999999999999999999999999.9999999999',
      '9999999999999999999999999999.9999999999',
      null,
      '1.0000000000',
      '-12.3456789012',
    ],
    csv: [
      '0.0000000000',
      '-0.0000000001',
      '1234567890123456789012345678.9012345678',
      '-9999999999999999999999999999.9999999999',
      '9999999999999999999999999999.9999999999',
      '',
      '1.0000000000',
      '-12.3456789012',
    ],
    duckdbType: 'DECIMAL(38,10)',
    pyarrowType: 'decimal128(38, 10)',
  },
  {
    name: 'c_text',
    type: new Utf8(),
    metadata: { 'rivet.native_type': 'text', 'rivet.fidelity': 'exact' },
    data: vec(new Utf8(), texts),
    expected: texts,
    csv: texts.map(text),
    duckdbType: 'VARCHAR',
    pyarrowType: 'string',
  },
  {
    name: 'c_date',
    type: new DateDay(),
    data: raw(new DateDay(), [0, -1, -25567, 19723, 2932896, -719162, null, 11016]),
    expected: ['1970-01-01', '1969-12-31', '1900-01-01', '2024-01-01', '9999-12-31', '0001-01-01', null, '2000-02-29'],
    csv: ['1970-01-01', '1969-12-31', '1900-01-01', '2024-01-01', '9999-12-31', '0001-01-01', '', '2000-02-29'],
    duckdbType: 'DATE',
    pyarrowType: 'date32[day]',
  },
  {
    name: 'c_ts',
    type: new Timestamp(TimeUnit.MICROSECOND),
    metadata: { 'rivet.native_type': 'timestamp', 'rivet.fidelity': 'exact' },
    data: raw(new Timestamp(TimeUnit.MICROSECOND), tsValues),
    expected: tsText,
    csv: tsText.map(text),
    duckdbType: 'TIMESTAMP',
    pyarrowType: 'timestamp[us]',
  },
  {
    name: 'c_tstz',
    type: new Timestamp(TimeUnit.MICROSECOND, 'UTC'),
    metadata: { 'rivet.native_type': 'timestamptz', 'rivet.fidelity': 'exact' },
    data: raw(new Timestamp(TimeUnit.MICROSECOND, 'UTC'), tsValues),
    expected: tsText.map((t) => (t === null ? null : `${t}Z`)),
    csv: tsText.map(text),
    duckdbType: 'TIMESTAMP WITH TIME ZONE',
    pyarrowType: 'timestamp[us, tz=UTC]',
  },
  {
    name: 'c_time',
    type: new Time(TimeUnit.MICROSECOND, 64),
    data: raw(new Time(TimeUnit.MICROSECOND, 64), [0n, 1n, 86_399_999_999n, 45_296_789_012n, null, 3_600_000_000n, 500_000n, 43_200_000_000n]),
    expected: ['00:00:00.000000', '00:00:00.000001', '23:59:59.999999', '12:34:56.789012', null, '01:00:00.000000', '00:00:00.500000', '12:00:00.000000'],
    csv: ['00:00:00.000000', '00:00:00.000001', '23:59:59.999999', '12:34:56.789012', '', '01:00:00.000000', '00:00:00.500000', '12:00:00.000000'],
    duckdbType: 'TIME',
    pyarrowType: 'time64[us]',
  },
  {
    name: 'c_binary',
    type: new Binary(),
    data: vec(new Binary(), [new Uint8Array([]), Uint8Array.of(0, 1, 255), Uint8Array.of(0xde, 0xad, 0xbe, 0xef), null, Uint8Array.of(0x2c, 0x22, 0x0a), Uint8Array.of(0), Uint8Array.of(0x7f), Uint8Array.of(0xab, 0xcd)]),
    expected: ['', '0001ff', 'deadbeef', null, '2c220a', '00', '7f', 'abcd'],
    csv: ['', '0001ff', 'deadbeef', '', '2c220a', '00', '7f', 'abcd'],
    duckdbType: 'BLOB',
    pyarrowType: 'binary',
  },
  {
    name: 'c_uuid',
    type: new FixedSizeBinary(16),
    metadata: { 'ARROW:extension:name': 'arrow.uuid', 'ARROW:extension:metadata': '', 'rivet.native_type': 'uuid', 'rivet.fidelity': 'exact', 'rivet.logical_type': 'uuid' },
    data: raw(new FixedSizeBinary(16), uuids.map((u) => (u === null ? null : uuidBytes(u)))),
    expected: uuids,
    csv: uuids.map(text),
    duckdbType: 'UUID',
    pyarrowType: 'extension<arrow.uuid>',
  },
  {
    name: 'c_json',
    type: new Utf8(),
    metadata: { 'ARROW:extension:name': 'arrow.json', 'ARROW:extension:metadata': '', 'rivet.native_type': 'jsonb', 'rivet.fidelity': 'logical_string', 'rivet.logical_type': 'json' },
    data: vec(new Utf8(), jsons),
    expected: jsons,
    csv: jsons.map(text),
    duckdbType: 'JSON',
    pyarrowType: 'extension<arrow.json>',
  },
];

export function fixtureSchema(columns: FixtureColumn[] = FIXTURE_COLUMNS): Schema {
  return new Schema(columns.map((c) => new Field(c.name, c.type, true, c.metadata ? new Map(Object.entries(c.metadata)) : undefined)));
}

export function fixtureBatch(columns: FixtureColumn[] = FIXTURE_COLUMNS): RecordBatch {
  const schema = fixtureSchema(columns);
  const data = makeData({ type: new Struct(schema.fields), length: ROWS, nullCount: 0, children: columns.map((c) => c.data) });
  return new RecordBatch(schema, data);
}

export function fixtureExpectedRows(columns: FixtureColumn[] = FIXTURE_COLUMNS): Record<string, unknown>[] {
  return Array.from({ length: ROWS }, (_, i) => Object.fromEntries(columns.map((c) => [c.name, c.expected[i]])));
}

/** CSV quoting per docs/reference/types.md plus our CR fix, written independently of the writer. */
export function csvQuote(cell: string): string {
  return /[,"\n\r]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}
