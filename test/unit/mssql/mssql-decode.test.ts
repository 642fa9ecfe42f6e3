import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { createParquetWriter } from '../../../shared/format/parquet-writer.js';
import { MssqlBatchBuilder, type TediousCell } from '../../../shared/source/mssql/mssql-batch-builder.js';
import { decimalText, rescale } from '../../../shared/source/mssql/mssql-decoders.js';
import { exactValueAt, installExactDecimals } from '../../../shared/source/mssql/mssql-exact-decimals.js';
import { parseColumnOverrides } from '../../../shared/types/column-override.js';
import { mssqlReadPlan } from '../../../shared/source/mssql/mssql-read-plan.js';
import type { MssqlColumnMetadata } from '../../../shared/source/mssql/mssql-types.js';
import { readWithDuckDB } from '../../helpers/readers.js';

const mssqlPlanForTest = (meta: MssqlColumnMetadata[], overrides?: Record<string, string>) => mssqlReadPlan(meta, parseColumnOverrides(overrides));

/**
 * No SQL Server runs here, so rows are produced the way the driver produces them: TDS ROW
 * token bytes (built below from the protocol's layouts) go through tedious's own row
 * parser, then through rivet's batch builder, then to Parquet, and DuckDB reads it back.
 */
const require = createRequire(import.meta.url);
type RowParser = (parser: { colMetadata: MssqlColumnMetadata[]; buffer: Buffer; position: number; options: object }) => Promise<{ columns: TediousCell[] }>;
const rowParser = require('tedious/lib/token/row-token-parser.js') as RowParser;

const DAYS_0001_TO_1970 = 719_162;

function le(n: bigint, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  let v = BigInt.asUintN(bytes * 8, n);
  for (let i = 0; i < bytes; i++) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

const ticks = (h: number, m: number, s: number, frac7: number) => BigInt((h * 3600 + m * 60 + s) * 1e7 + frac7);
function days(y: number, mo: number, d: number): bigint {
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d); // Date.UTC would read years 0-99 as 1900-1999
  return BigInt(t.getTime() / 86_400_000 + DAYS_0001_TO_1970);
}

/** Cell encoders following MS-TDS 2.2.5.5 (value layouts inside a ROW token). */
const cell = {
  null1: () => Buffer.from([0]),
  bigint: (v: bigint) => Buffer.concat([Buffer.from([8]), le(v, 8)]),
  int: (v: number) => Buffer.concat([Buffer.from([4]), le(BigInt(v), 4)]),
  tinyint: (v: number) => Buffer.from([1, v]),
  bit: (v: boolean) => Buffer.from([1, v ? 1 : 0]),
  float: (v: number) => {
    const b = Buffer.alloc(9);
    b[0] = 8;
    b.writeDoubleLE(v, 1);
    return b;
  },
  decimal: (unscaled: bigint) => Buffer.concat([Buffer.from([17, unscaled >= 0n ? 1 : 0]), le(unscaled >= 0n ? unscaled : -unscaled, 16)]),
  money: (unscaled: bigint) => {
    const u = BigInt.asUintN(64, unscaled);
    const b = Buffer.alloc(9);
    b[0] = 8;
    b.writeInt32LE(Number(BigInt.asIntN(32, u >> 32n)), 1);
    b.writeUInt32LE(Number(u & 0xffffffffn), 5);
    return b;
  },
  smallmoney: (unscaled: number) => {
    const b = Buffer.alloc(5);
    b[0] = 4;
    b.writeInt32LE(unscaled, 1);
    return b;
  },
  date: (d: bigint) => Buffer.concat([Buffer.from([3]), le(d, 3)]),
  time7: (t: bigint) => Buffer.concat([Buffer.from([5]), le(t, 5)]),
  datetime2_7: (t: bigint, d: bigint) => Buffer.concat([Buffer.from([8]), le(t, 5), le(d, 3)]),
  /** datetimeoffset carries the UTC time and date plus the offset in minutes. */
  dto7: (utcT: bigint, utcD: bigint, offsetMin: number) => Buffer.concat([Buffer.from([10]), le(utcT, 5), le(utcD, 3), le(BigInt(offsetMin), 2)]),
  /** datetime: days since 1900-01-01 and 1/300 s ticks. */
  datetime: (d1900: number, t300: number) => Buffer.concat([Buffer.from([8]), le(BigInt(d1900), 4), le(BigInt(t300), 4)]),
  nvarchar: (s: string) => {
    const body = Buffer.from(s, 'utf16le');
    return Buffer.concat([le(BigInt(body.length), 2), body]);
  },
  nvarcharNull: () => Buffer.from([0xff, 0xff]),
  varbinary: (b: Buffer) => Buffer.concat([le(BigInt(b.length), 2), b]),
  guid: (wire: Buffer) => Buffer.concat([Buffer.from([16]), wire]),
};

const meta = (colName: string, name: string, extra: Partial<MssqlColumnMetadata> = {}): MssqlColumnMetadata => ({ colName, type: { name }, ...extra });

const COLUMNS: MssqlColumnMetadata[] = [
  meta('id', 'IntN', { dataLength: 8 }),
  meta('qty', 'IntN', { dataLength: 4 }),
  meta('small', 'IntN', { dataLength: 1 }),
  meta('flag', 'BitN', { dataLength: 1 }),
  meta('ratio', 'FloatN', { dataLength: 8 }),
  meta('amount', 'DecimalN', { precision: 38, scale: 10, dataLength: 17 }),
  meta('price', 'MoneyN', { dataLength: 8 }),
  meta('fee', 'MoneyN', { dataLength: 4 }),
  meta('day', 'Date'),
  meta('at', 'Time', { scale: 7 }),
  meta('local_ts', 'DateTime2', { scale: 7 }),
  meta('legacy_ts', 'DateTimeN', { dataLength: 8 }),
  meta('instant', 'DateTimeOffset', { scale: 7 }),
  meta('name', 'NVarChar', { dataLength: 200 }),
  meta('blob', 'VarBinary', { dataLength: 16 }),
  meta('uid', 'UniqueIdentifier', { dataLength: 16 }),
];

// SQL Server stores a GUID with its first three groups little-endian ("mixed-endian").
const GUID_TEXT = '6f9619ff-8b86-d011-b42d-00c04fc964ff';
const GUID_WIRE = Buffer.from('ff19966f868b11d0b42d00c04fc964ff', 'hex');

const ROW1 = Buffer.concat([
  cell.bigint(9_223_372_036_854_775_807n),
  cell.int(-2_147_483_648),
  cell.tinyint(255),
  cell.bit(true),
  cell.float(0.1),
  // 1234567890123456789012345678.9012345678: 38 digits, far beyond a double's 15-17
  cell.decimal(12345678901234567890123456789012345678n),
  cell.money(9_223_372_036_854_775_807n), // 922337203685477.5807, money's maximum
  cell.smallmoney(-2_147_483_648), // -214748.3648, smallmoney's minimum
  cell.date(days(2024, 2, 29)),
  cell.time7(ticks(23, 59, 59, 9_999_999)),
  cell.datetime2_7(ticks(12, 34, 56, 1_234_567), days(2024, 3, 10)),
  // 2024-03-10 00:00:01 + 1/300 s: datetime ticks of 1/300 s → .003 s
  cell.datetime(Date.UTC(2024, 2, 10) / 86_400_000 + 25_567, 301),
  // 12:34:56.1234567 at +02:00 = 10:34:56.1234567 UTC
  cell.dto7(ticks(10, 34, 56, 1_234_567), days(2024, 3, 10), 120),
  cell.nvarchar('héllo, 世界 🚀'),
  cell.varbinary(Buffer.from([0, 1, 254, 255])),
  cell.guid(GUID_WIRE),
]);

const ROW2 = Buffer.concat([
  cell.bigint(-1n),
  cell.null1(),
  cell.null1(),
  cell.null1(),
  cell.null1(),
  cell.decimal(-5n), // -0.0000000005
  cell.money(-1n), // -0.0001
  cell.null1(),
  cell.date(days(1, 1, 1)),
  cell.time7(0n),
  cell.datetime2_7(0n, days(1900, 1, 1)),
  cell.null1(),
  cell.dto7(0n, days(1969, 12, 31), -300),
  cell.nvarcharNull(),
  cell.nvarcharNull(),
  cell.null1(),
]);

async function parseRow(buffer: Buffer): Promise<TediousCell[]> {
  const parser = { colMetadata: COLUMNS, buffer, position: 0, options: { useUTC: true, lowerCaseGuids: true, useColumnNames: false } };
  const token = await rowParser(parser);
  expect(parser.position).toBe(buffer.length);
  return token.columns;
}

let batch: RecordBatch;

beforeAll(async () => {
  installExactDecimals();
  const plan = mssqlPlanForTest(COLUMNS);
  const builder = new MssqlBatchBuilder(plan.schema, plan.columns, 1);
  builder.addRow(await parseRow(ROW1));
  builder.addRow(await parseRow(ROW2));
  batch = builder.finish();
});

describe('exact decimals through tedious', () => {
  it('reads DECIMAL(38,10) and MONEY bytes as exact unscaled BigInts', async () => {
    const cols = await parseRow(ROW1);
    expect(cols[5].value).toBe(12345678901234567890123456789012345678n);
    expect(cols[6].value).toBe(9_223_372_036_854_775_807n);
    expect(cols[7].value).toBe(-2_147_483_648n);
    expect(cols[0].value).toBe('9223372036854775807');
  });

  it('is needed: the double tedious would return cannot hold such a value', () => {
    const v = 12345678901234567890123456789012345678n;
    expect(decimalText(v, 10)).toBe('1234567890123456789012345678.9012345678');
    expect(String(Number(v) / 1e10)).not.toBe(decimalText(v, 10));
  });

  it('decodes the raw layouts directly', () => {
    expect(exactValueAt(Buffer.from([0]), 0, 'DecimalN')).toBeNull();
    expect(exactValueAt(Buffer.concat([Buffer.from([5, 0]), le(42n, 4)]), 0, 'NumericN')).toBe(-42n);
    expect(exactValueAt(Buffer.from([0]), 0, 'MoneyN')).toBeNull();
    expect(exactValueAt(Buffer.from([1, 2]), 0, 'Int')).toBeUndefined();
  });

  it('rescales by truncation and prints exact text', () => {
    expect(rescale(123456n, 4, 2)).toBe(1234n);
    expect(rescale(-123456n, 4, 2)).toBe(-1234n);
    expect(rescale(12n, 0, 3)).toBe(12000n);
    expect(decimalText(-5n, 10)).toBe('-0.0000000005');
    expect(decimalText(1234n, 0)).toBe('1234');
  });
});

describe('rows into Arrow', () => {
  it('maps the schema with native types and fidelity metadata', () => {
    const f = (n: string) => batch.schema.fields.find((x) => x.name === n)!;
    expect(f('amount').type).toMatchObject({ precision: 38, scale: 10, bitWidth: 128 });
    expect(f('amount').metadata.get('rivet.native_type')).toBe('decimal(38,10)');
    expect(f('price').metadata.get('rivet.native_type')).toBe('money');
    expect(f('uid').metadata.get('rivet.logical_type')).toBe('uuid');
    expect(f('instant').metadata.get('rivet.native_type')).toBe('datetimeoffset(7)');
    expect(batch.schema.fields.every((x) => x.nullable && x.metadata.get('rivet.fidelity') === 'exact')).toBe(true);
  });

  it('writes uniqueidentifier in canonical (RFC 4122) byte order', () => {
    const bytes = batch.getChild('uid')!.get(0) as Uint8Array;
    expect(Buffer.from(bytes).toString('hex')).toBe(GUID_TEXT.replace(/-/g, ''));
  });

  it('reads back exactly with DuckDB (a reader we did not write)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rivet-mssql-decode-'));
    const file = path.join(dir, 'rows.parquet');
    const chunks: Uint8Array[] = [];
    const writer = await createParquetWriter(batch.schema, { write: async (c) => void chunks.push(c) }, { compression: 'zstd' });
    await writer.write(batch);
    await writer.finish();
    writeFileSync(file, Buffer.concat(chunks));
    const { rows, columns } = await readWithDuckDB(file);
    const types = Object.fromEntries(columns.map((c) => [c.name, c.type]));
    expect(types).toMatchObject({
      id: 'BIGINT',
      qty: 'INTEGER',
      small: 'SMALLINT',
      flag: 'BOOLEAN',
      ratio: 'DOUBLE',
      amount: 'DECIMAL(38,10)',
      price: 'DECIMAL(19,4)',
      fee: 'DECIMAL(10,4)',
      day: 'DATE',
      at: 'TIME',
      local_ts: 'TIMESTAMP',
      legacy_ts: 'TIMESTAMP',
      instant: 'TIMESTAMP WITH TIME ZONE',
      name: 'VARCHAR',
      blob: 'BLOB',
      uid: 'UUID',
    });
    expect(rows[0]).toEqual({
      id: 9_223_372_036_854_775_807n,
      qty: -2_147_483_648,
      small: 255,
      flag: true,
      ratio: 0.1,
      amount: '1234567890123456789012345678.9012345678',
      price: '922337203685477.5807',
      fee: '-214748.3648',
      day: '2024-02-29',
      // time(7) and datetime2(7) are truncated to microseconds
      at: '23:59:59.999999',
      local_ts: '2024-03-10T12:34:56.123456',
      legacy_ts: '2024-03-10T00:00:01.003000',
      instant: '2024-03-10T10:34:56.123456Z',
      name: 'héllo, 世界 🚀',
      blob: '0001feff',
      uid: GUID_TEXT,
    });
    expect(rows[1]).toEqual({
      id: -1n,
      qty: null,
      small: null,
      flag: null,
      ratio: null,
      amount: '-0.0000000005',
      price: '-0.0001',
      fee: null,
      day: '0001-01-01',
      at: '00:00:00.000000',
      local_ts: '1900-01-01T00:00:00.000000',
      legacy_ts: null,
      instant: '1969-12-31T00:00:00.000000Z',
      name: null,
      blob: null,
      uid: null,
    });
  });
});

describe('batch limits', () => {
  it('refuses a value over tuning.max_value_mb', () => {
    const m = [meta('doc', 'NVarChar', { dataLength: 0xffff })];
    const plan = mssqlPlanForTest(m);
    const b = new MssqlBatchBuilder(plan.schema, plan.columns, 4, 1);
    b.addRow([{ value: 'x'.repeat(1000) }]);
    expect(() => b.addRow([{ value: 'é'.repeat(600_000) }])).toThrow(/1\.1 MB, over the 1\.0 MB single-value ceiling/);
  });

  it('refuses a row with the wrong number of cells', () => {
    const plan = mssqlPlanForTest([meta('a', 'Int')]);
    const b = new MssqlBatchBuilder(plan.schema, plan.columns, 4);
    expect(() => b.addRow([{ value: 1 }, { value: 2 }])).toThrow(/2 columns, expected 1/);
  });
});
