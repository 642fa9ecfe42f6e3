import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type, type RecordBatch } from 'apache-arrow';
import pg from 'pg';
import { silentLogger } from '../../../shared/log/logger.js';
import { openPostgresSource } from '../../../shared/source/postgres/pg-source.js';
import type { Source } from '../../../shared/source/source.js';
import { arrowTypeName } from '../../../shared/types/arrow-type-name.js';
import { freshSchema, pgExec, testPgUrl } from '../../helpers/pg.js';
import { bytesAt, col, collect, decimalAt, int32At, int64At, isNull, utcMicros, uuidAt, valueAt } from './arrow-values.js';

let schema: string;
let source: Source;
let batch: RecordBatch;

const DAY_2000 = 10957;

beforeAll(async () => {
  schema = await freshSchema('pgtypes');
  await pgExec(`
    CREATE TYPE ${schema}.mood AS ENUM ('sad', 'happy');
    CREATE TABLE ${schema}.all_types (
      id int4 PRIMARY KEY,
      b bool, i2 int2, i4 int4, i8 int8, o oid, f4 float4, f8 float8,
      n38 numeric(38,10), n10 numeric(10,0), n52 numeric(5,2),
      d date, t time, ts timestamp, tstz timestamptz,
      txt text, vc varchar(20), bp char(5), nm name,
      by bytea, js json, jb jsonb, u uuid, iv interval, mood ${schema}.mood, arr int4[], tarr text[]
    )`);
  // Insert through a session in a non-UTC zone: timestamptz literals are read in that zone.
  const c = new pg.Client({ connectionString: testPgUrl() });
  await c.connect();
  try {
    await c.query("SET TimeZone = 'America/New_York'");
    await c.query(`INSERT INTO ${schema}.all_types VALUES
      (1, true, 12, 123456, 1234567890123, 4000000000, 1.5, 2.25,
       12345.6789, 42, 123.45,
       '2024-02-29', '13:14:15.123456', '2024-02-29 13:14:15.123456', '2024-03-10 01:30:00.000001',
       'héllo wörld ✓ 😀', 'abc', 'ab', 'some_name',
       '\\x00ff0001', '{"a" : [1, 2.50], "b":"x y"}', '{"b": 1, "a": "x\\" y", "c": 12345678901234567890.5}',
       'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '1 year 2 months 3 days 04:05:06.789', 'happy', '{1,NULL,3}', '{"x",NULL,""}'),
      (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (3, false, -32768, -2147483648, -9223372036854775808, 0, '-0', 'NaN',
       -1234567890123456789012345678.0123456789, -9999999999, -999.99,
       '1900-01-01', '00:00:00', '1969-07-20 20:17:40.123456', '1969-12-31 18:59:59.999999',
       '', '', '', '',
       '\\x', '[]', '{}',
       '00000000-0000-0000-0000-000000000000', '-1 days -00:00:01.5', 'sad', '{}', '{}'),
      (4, true, 32767, 2147483647, 9223372036854775807, 4294967295, 'Infinity', '-Infinity',
       0.0000000001, 0, 0,
       '2262-04-11', '23:59:59.999999', '0001-01-01 00:00:00', '9999-12-31 23:59:59.999999',
       repeat('x', 10000), 'z', 'abcde', 'n',
       decode(repeat('00', 100), 'hex'), 'null', '"str"',
       'ffffffff-ffff-ffff-ffff-ffffffffffff', '0 seconds', NULL, '{-5}', '{"a,b"}'),
      (5, NULL, 1, 1, 1, 1, 1, 1,
       -0.0000000001, 1, -0.01,
       '1970-01-01', '12:00:00', '1970-01-01 00:00:00', '1970-01-01 00:00:00+00',
       'x', NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, '-1 year -1 month', NULL, NULL, NULL)`);
  } finally {
    await c.end();
  }
  source = await openPostgresSource({ connection: { engine: 'postgres', url: testPgUrl() }, log: silentLogger });
  const batches = await collect(source.read(`SELECT * FROM ${schema}.all_types ORDER BY id`, { batchSize: 100 }));
  expect(batches).toHaveLength(1);
  batch = batches[0];
});

afterAll(async () => {
  await source?.close();
  await pgExec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
});

describe('PostgreSQL types → Arrow', () => {
  it('maps every column to the documented Arrow type with metadata', () => {
    const types = Object.fromEntries(batch.schema.fields.map((f) => [f.name, arrowTypeName(f.type)]));
    expect(types).toEqual({
      id: 'Int32',
      b: 'Boolean',
      i2: 'Int16',
      i4: 'Int32',
      i8: 'Int64',
      o: 'Int64',
      f4: 'Float32',
      f8: 'Float64',
      n38: 'Decimal128(38, 10)',
      n10: 'Decimal128(10, 0)',
      n52: 'Decimal128(5, 2)',
      d: 'Date32',
      t: 'Time64(Microsecond)',
      ts: 'Timestamp(Microsecond, None)',
      tstz: 'Timestamp(Microsecond, Some("UTC"))',
      txt: 'Utf8',
      vc: 'Utf8',
      bp: 'Utf8',
      nm: 'Utf8',
      by: 'Binary',
      js: 'Utf8',
      jb: 'Utf8',
      u: 'FixedSizeBinary(16)',
      iv: 'Utf8',
      mood: 'Utf8',
      arr: 'List(Field { name: "item", data_type: Int32, nullable: true })',
      tarr: 'List(Field { name: "item", data_type: Utf8, nullable: true })',
    });
    for (const f of batch.schema.fields) expect(f.nullable).toBe(true);
    const meta = (name: string) => Object.fromEntries(batch.schema.fields.find((f) => f.name === name)!.metadata);
    expect(meta('i4')).toEqual({ 'rivet.native_type': 'int4', 'rivet.fidelity': 'exact' });
    expect(meta('jb')).toEqual({
      'rivet.native_type': 'jsonb',
      'rivet.fidelity': 'logical_string',
      'rivet.logical_type': 'json',
      'ARROW:extension:name': 'arrow.json',
      'ARROW:extension:metadata': '',
    });
    expect(meta('u')['ARROW:extension:name']).toBe('arrow.uuid');
    expect(meta('u')['rivet.logical_type']).toBe('uuid');
    expect(meta('mood')).toEqual({ 'rivet.native_type': 'mood', 'rivet.fidelity': 'compatible', 'rivet.logical_type': 'enum' });
    expect(meta('iv')['rivet.logical_type']).toBe('interval');
    expect(meta('arr')).toEqual({ 'rivet.native_type': '_int4', 'rivet.fidelity': 'compatible' });
    expect(meta('txt')).toEqual({ 'rivet.native_type': 'text', 'rivet.fidelity': 'exact' });
  });

  it('reads NULL in every column', () => {
    expect(batch.numRows).toBe(5);
    for (const f of batch.schema.fields) {
      if (f.name !== 'id') expect(isNull(batch, f.name, 1), f.name).toBe(true);
    }
  });

  it('reads booleans and integers, including the extremes', () => {
    expect([0, 1, 2, 3, 4].map((r) => valueAt(batch, 'b', r))).toEqual([true, null, false, true, null]);
    expect([0, 2, 3].map((r) => valueAt(batch, 'i2', r))).toEqual([12, -32768, 32767]);
    expect([0, 2, 3].map((r) => valueAt(batch, 'i4', r))).toEqual([123456, -2147483648, 2147483647]);
    expect([0, 2, 3].map((r) => int64At(batch, 'i8', r))).toEqual([1234567890123n, -9223372036854775808n, 9223372036854775807n]);
    expect([0, 2, 3].map((r) => int64At(batch, 'o', r))).toEqual([4000000000n, 0n, 4294967295n]);
  });

  it('reads floats including NaN, ±Infinity and -0', () => {
    expect(valueAt(batch, 'f4', 0)).toBe(1.5);
    expect(Object.is(valueAt(batch, 'f4', 2), -0)).toBe(true);
    expect(valueAt(batch, 'f4', 3)).toBe(Infinity);
    expect(valueAt(batch, 'f8', 0)).toBe(2.25);
    expect(valueAt(batch, 'f8', 2)).toBeNaN();
    expect(valueAt(batch, 'f8', 3)).toBe(-Infinity);
  });

  it('reads numerics exactly at the declared scale', () => {
    expect(decimalAt(batch, 'n38', 0)).toBe(123456789000000n);
    expect(decimalAt(batch, 'n38', 2)).toBe(-12345678901234567890123456780123456789n);
    expect(decimalAt(batch, 'n38', 3)).toBe(1n);
    expect(decimalAt(batch, 'n38', 4)).toBe(-1n);
    expect([0, 2, 3, 4].map((r) => decimalAt(batch, 'n10', r))).toEqual([42n, -9999999999n, 0n, 1n]);
    expect([0, 2, 3, 4].map((r) => decimalAt(batch, 'n52', r))).toEqual([12345n, -99999n, 0n, -1n]);
  });

  it('reads dates, times and timestamps as UTC-based integers', () => {
    expect(int32At(batch, 'd', 0)).toBe(Date.UTC(2024, 1, 29) / 86_400_000);
    expect(int32At(batch, 'd', 2)).toBe(Date.UTC(1900, 0, 1) / 86_400_000);
    expect(int32At(batch, 'd', 3)).toBe(Date.UTC(2262, 3, 11) / 86_400_000);
    expect(int32At(batch, 'd', 4)).toBe(0);
    expect(DAY_2000).toBe(Date.UTC(2000, 0, 1) / 86_400_000);

    expect(int64At(batch, 't', 0)).toBe(((13n * 60n + 14n) * 60n + 15n) * 1_000_000n + 123456n);
    expect(int64At(batch, 't', 2)).toBe(0n);
    expect(int64At(batch, 't', 3)).toBe(86_400_000_000n - 1n);

    expect(int64At(batch, 'ts', 0)).toBe(utcMicros('2024-02-29T13:14:15', 123456));
    expect(int64At(batch, 'ts', 2)).toBe(utcMicros('1969-07-20T20:17:40', 123456));
    expect(int64At(batch, 'ts', 3)).toBe(-62135596800000000n);
    expect(int64At(batch, 'ts', 4)).toBe(0n);

    // Inserted as New York wall-clock times: 01:30 EST = 06:30 UTC.
    expect(int64At(batch, 'tstz', 0)).toBe(utcMicros('2024-03-10T06:30:00', 1));
    expect(int64At(batch, 'tstz', 2)).toBe(-1n);
    expect(int64At(batch, 'tstz', 3)).toBe(utcMicros('9999-12-31T23:59:59', 999999) + 5n * 3_600_000_000n);
    expect(int64At(batch, 'tstz', 4)).toBe(0n);
  });

  it('reads text, including unicode, empty strings and long values', () => {
    expect(valueAt(batch, 'txt', 0)).toBe('héllo wörld ✓ 😀');
    expect(valueAt(batch, 'txt', 2)).toBe('');
    expect(valueAt(batch, 'txt', 3)).toBe('x'.repeat(10000));
    expect(valueAt(batch, 'vc', 0)).toBe('abc');
    expect(valueAt(batch, 'vc', 2)).toBe('');
    expect(valueAt(batch, 'bp', 0)).toBe('ab   ');
    expect(valueAt(batch, 'bp', 2)).toBe('     ');
    expect(valueAt(batch, 'nm', 0)).toBe('some_name');
  });

  it('reads bytea raw, zero bytes included', () => {
    expect(bytesAt(batch, 'by', 0)).toBe('00ff0001');
    expect(bytesAt(batch, 'by', 2)).toBe('');
    expect(bytesAt(batch, 'by', 3)).toBe('00'.repeat(100));
  });

  it('reads json and jsonb as compact text without touching numbers', () => {
    expect(valueAt(batch, 'js', 0)).toBe('{"a":[1,2.50],"b":"x y"}');
    expect(valueAt(batch, 'js', 2)).toBe('[]');
    expect(valueAt(batch, 'js', 3)).toBe('null');
    expect(valueAt(batch, 'jb', 0)).toBe('{"a":"x\\" y","b":1,"c":12345678901234567890.5}');
    expect(valueAt(batch, 'jb', 2)).toBe('{}');
    expect(valueAt(batch, 'jb', 3)).toBe('"str"');
  });

  it('reads uuid as 16 raw bytes', () => {
    expect(col(batch, 'u').type.typeId).toBe(Type.FixedSizeBinary);
    expect(uuidAt(batch, 'u', 0)).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    expect(uuidAt(batch, 'u', 2)).toBe('00000000-0000-0000-0000-000000000000');
    expect(uuidAt(batch, 'u', 3)).toBe('ffffffff-ffff-ffff-ffff-ffffffffffff');
  });

  it('reads interval as ISO-8601 and enum as its label', () => {
    expect(valueAt(batch, 'iv', 0)).toBe('P1Y2M3DT4H5M6.789000S');
    expect(valueAt(batch, 'iv', 2)).toBe('P-1DT-1.500000S');
    expect(valueAt(batch, 'iv', 3)).toBe('PT0S');
    expect(valueAt(batch, 'iv', 4)).toBe('P-1Y-1M');
    expect([0, 2, 3].map((r) => valueAt(batch, 'mood', r))).toEqual(['happy', 'sad', null]);
  });

  it('reads 1-D arrays as lists with NULL elements preserved', () => {
    const list = (name: string, r: number) => {
      const v = valueAt(batch, name, r) as Iterable<unknown> | null;
      return v === null ? null : [...v];
    };
    expect(list('arr', 0)).toEqual([1, null, 3]);
    expect(list('arr', 2)).toEqual([]);
    expect(list('arr', 3)).toEqual([-5]);
    expect(list('tarr', 0)).toEqual(['x', null, '']);
    expect(list('tarr', 3)).toEqual(['a,b']);
    expect(list('tarr', 4)).toBeNull();
  });
});
