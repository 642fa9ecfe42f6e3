import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Date_,
  DateUnit,
  Decimal,
  Field,
  Float32,
  Float64,
  Int8,
  List,
  RecordBatch,
  Schema,
  Struct,
  TimeUnit,
  Timestamp,
  Utf8,
  makeData,
  vectorFromArray,
  type DataType,
} from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRivetError } from '../../../shared/errors/rivet-error.js';
import { createCsvWriter } from '../../../shared/format/csv-writer.js';
import { readWithDuckDB, readWithPyArrow } from '../../helpers/readers.js';
import { FIXTURE_COLUMNS, csvQuote, fixtureBatch, fixtureExpectedRows, fixtureSchema } from './all-types-fixture.js';
import { FileSink, MemorySink } from './file-sink.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rivet-csv-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HEADER = FIXTURE_COLUMNS.map((c) => c.name).join(',');
const expectedLines = (from = 0, to = 8): string[] =>
  Array.from({ length: to - from }, (_, k) => FIXTURE_COLUMNS.map((c) => csvQuote(c.csv[from + k])).join(','));

async function csvText(schema: Schema, batches: RecordBatch[]): Promise<string> {
  const sink = new MemorySink();
  const writer = await createCsvWriter(schema, sink, { compression: 'zstd' });
  for (const b of batches) await writer.write(b);
  await writer.finish();
  return sink.text();
}

/** One-column CSV body (header dropped) for golden checks of a single type. */
async function cells(type: DataType, data: ReturnType<typeof makeData>): Promise<string[]> {
  const schema = new Schema([new Field('v', type, true)]);
  const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: data.length, nullCount: 0, children: [data] }));
  return (await csvText(schema, [batch])).split('\n').slice(1, -1);
}

describe('csv writer, all types', () => {
  let file: string;
  beforeAll(async () => {
    file = join(dir, 'all.csv');
    const sink = await FileSink.create(file);
    const writer = await createCsvWriter(fixtureSchema(), sink, { compression: 'zstd', compressionLevel: 19 });
    await writer.write(fixtureBatch());
    await writer.finish();
    await sink.close();
    expect(writer.extension).toBe('csv');
    expect(writer.rowsWritten).toBe(8);
    expect(writer.bytesWritten).toBe(sink.bytes);
  });

  it('renders exactly as docs/reference/types.md prescribes (uncompressed, LF, unquoted header)', async () => {
    const text = await readFile(file, 'utf8');
    expect(text).toBe([HEADER, ...expectedLines()].join('\n') + '\n');
  });

  it('reads back cell for cell in DuckDB and pyarrow', async () => {
    const duck = await readWithDuckDB(file, { allVarchar: true });
    const py = await readWithPyArrow(file, { allVarchar: true });
    expect(duck.rows).toHaveLength(8);
    expect(py.numRows).toBe(8);
    for (const [i, row] of duck.rows.entries()) {
      // DuckDB reads an empty unquoted field as NULL, pyarrow (strings) as ''.
      expect(row).toEqual(Object.fromEntries(FIXTURE_COLUMNS.map((c) => [c.name, c.csv[i] === '' ? null : c.csv[i]])));
      expect(py.rows[i]).toEqual(Object.fromEntries(FIXTURE_COLUMNS.map((c) => [c.name, c.csv[i]])));
    }
  });

  it('types that DuckDB can infer come back as the values that went in', async () => {
    const duck = await readWithDuckDB(file);
    const types = Object.fromEntries(duck.columns.map((c) => [c.name, c.type]));
    expect(types).toMatchObject({ c_bool: 'BOOLEAN', c_int64: 'BIGINT', c_float64: 'DOUBLE', c_date: 'DATE', c_ts: 'TIMESTAMP', c_tstz: 'TIMESTAMP', c_time: 'TIME' });
    const want = fixtureExpectedRows();
    for (const [i, row] of duck.rows.entries()) {
      for (const name of ['c_bool', 'c_int64', 'c_float64', 'c_date', 'c_ts', 'c_time', 'c_text', 'c_json', 'c_uuid']) {
        // CSV cannot tell NULL from '' for text; everything else must be exact.
        const expected = name === 'c_text' && want[i][name] === '' ? null : want[i][name];
        expect(row[name], `${name} row ${i}`).toEqual(expected);
      }
      const tstz = want[i].c_tstz as string | null;
      expect(row.c_tstz).toEqual(tstz === null ? null : tstz.slice(0, -1));
    }
  });

  it('handles sliced batches (bit and value offsets)', async () => {
    const b = fixtureBatch();
    const text = await csvText(fixtureSchema(), [b.slice(3, 8), b.slice(0, 3)]);
    expect(text).toBe([HEADER, ...expectedLines(3, 8), ...expectedLines(0, 3)].join('\n') + '\n');
  });

  it('writes the header only for an empty export', async () => {
    expect(await csvText(fixtureSchema(), [])).toBe(`${HEADER}\n`);
  });
});

describe('csv writer, golden rendering', () => {
  it('floats: shortest round-trip, never exponent notation', async () => {
    const f64 = [1, 0.1, -0, 1e21, 1.5e-7, 123456789.125, -2.5e-300, Number.MAX_VALUE, 0.30000000000000004, NaN, Infinity, -Infinity];
    expect(await cells(new Float64(), vectorFromArray(f64, new Float64()).data[0])).toEqual([
      '1',
      '0.1',
      '-0',
      '1000000000000000000000',
      '0.00000015',
      '123456789.125',
      `-0.${'0'.repeat(299)}25`,
      `17976931348623157${'0'.repeat(292)}`,
      '0.30000000000000004',
      'NaN',
      'inf',
      '-inf',
    ]);
    const f32 = [0.1, 123456789, 16777217, 1e-7, 3.14159, 1e10].map(Math.fround);
    expect(await cells(new Float32(), vectorFromArray(f32, new Float32()).data[0])).toEqual(['0.1', '123456790', '16777216', '0.0000001', '3.14159', '10000000000']);
  });

  it('decimals: exact text, scale 0 and negative scale', async () => {
    const dec = (scale: number, precision: number, values: bigint[]) => {
      const words = new Uint32Array(values.length * 4);
      values.forEach((v, i) => {
        let x = BigInt.asUintN(128, v);
        for (let k = 0; k < 4; k++, x >>= 32n) words[i * 4 + k] = Number(x & 0xffffffffn);
      });
      const type = new Decimal(scale, precision, 128);
      return cells(type, makeData({ type, length: values.length, nullCount: 0, data: words }));
    };
    expect(await dec(0, 38, [0n, -5n, 10n ** 37n])).toEqual(['0', '-5', `1${'0'.repeat(37)}`]);
    expect(await dec(-2, 5, [0n, 3n, -12n])).toEqual(['0', '300', '-1200']);
    expect(await dec(4, 10, [1n, -1n, 123456n, -99990000n])).toEqual(['0.0001', '-0.0001', '12.3456', '-9999.0000']);
  });

  it('timestamps before 1970 with fractions, and years outside 0..9999', async () => {
    const type = new Timestamp(TimeUnit.MICROSECOND);
    const us = [-1n, -999_999n, -1_000_001n, -86_400_000_001n, 253_402_300_800_000_000n, -62_167_219_200_000_000n, -62_167_219_200_000_001n];
    expect(await cells(type, makeData({ type, length: us.length, nullCount: 0, data: BigInt64Array.from(us) }))).toEqual([
      '1969-12-31T23:59:59.999999',
      '1969-12-31T23:59:59.000001',
      '1969-12-31T23:59:58.999999',
      '1969-12-30T23:59:59.999999',
      '+10000-01-01T00:00:00.000000',
      '0000-01-01T00:00:00.000000',
      '-0001-12-31T23:59:59.999999',
    ]);
  });

  it('text quoting: only when needed, CR included, inner quotes doubled, UTF-8 untouched', async () => {
    const text = ['', 'a b', 'x,y', 'He said "no"', 'cr\ronly', 'lf\nonly', '"', 'naïve 🎉', ' lead', 'tab\tin'];
    expect(await cells(new Utf8(), vectorFromArray(text, new Utf8()).data[0])).toEqual([
      '',
      'a b',
      '"x,y"',
      '"He said ""no"""',
      '"cr\ronly"',
      '"lf',
      'only"',
      '""""',
      'naïve 🎉',
      ' lead',
      'tab\tin',
    ]);
  });

  it('hands the sink large chunks, not one write per row', async () => {
    const n = 200_000;
    const schema = new Schema([new Field('s', new Utf8(), true)]);
    const data = vectorFromArray(Array.from({ length: n }, (_, i) => `row number ${i}`), new Utf8()).data[0];
    const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children: [data] }));
    const sink = new MemorySink();
    const writer = await createCsvWriter(schema, sink, { compression: 'none' });
    await writer.write(batch);
    await writer.finish();
    expect(writer.bytesWritten).toBeGreaterThan(3_000_000);
    expect(sink.chunks.length).toBeLessThanOrEqual(Math.ceil(writer.bytesWritten / (1024 * 1024)) + 1);
    expect(sink.chunks.length).toBeGreaterThan(1);
    expect(sink.text().split('\n')[n]).toBe(`row number ${n - 1}`);
  });
});

describe('csv writer, unsupported types', () => {
  const cases: [string, DataType][] = [
    ['list', new List(new Field('item', new Int8(), true))],
    ['decimal256', new Decimal(2, 60, 256)],
    ['timestamp ns', new Timestamp(TimeUnit.NANOSECOND, 'UTC')],
    ['date64', new Date_(DateUnit.MILLISECOND)],
    ['int8', new Int8()],
  ];
  it.each(cases)('%s fails at creation naming the column, its type and the way out', async (_label, type) => {
    const schema = new Schema([new Field('ok', new Utf8(), true), new Field('bad_col', type, true)]);
    const sink = new MemorySink();
    const err = await createCsvWriter(schema, sink, { compression: 'none' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isRivetError(err)).toBe(true);
    if (!isRivetError(err)) return;
    expect(err.code).toBe('FORMAT');
    expect(err.message).toContain('bad_col');
    expect(err.message).toContain(String(type));
    expect(err.message).toMatch(/no CSV representation/);
    expect(err.hint).toMatch(/format: parquet/);
    expect(err.hint).toMatch(/remove/);
    expect(sink.chunks).toHaveLength(0);
  });
});
