/**
 * Differential test of both Parquet encoders against four readers we did not write (pyarrow,
 * polars, DuckDB, parquet-java): every Arrow type the sources produce × value shape × codec ×
 * encoder × file layout (one column beside the key; every type in one file; the same in
 * several row groups written from two batches). All files are written first, then each
 * reader reads them all in one process, and every value is compared with the source value.
 *
 * Where a reader cannot represent a type, the test states what it does instead
 * (`READER_LIMITS`), so a change in any reader or encoder shows up here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RivetError } from '../../../shared/errors/rivet-error.js';
import type { Compression, FormatOptions } from '../../../shared/format/format-writer.js';
import { createParquetFileWriter } from '../../../shared/format/parquet-file-writer.js';
import { canonicalLabel, type RivetType } from '../../../shared/types/rivet-type.js';
import { PANEL_READERS, readWithPanel, type PanelReader, type PanelValue } from '../../helpers/parquet-reader-panel.js';
import { FileSink } from './file-sink.js';
import { MATRIX_ROWS, MATRIX_TYPES, SHAPES, expectedPanelValue, matrixBatch, matrixField, normalDecimal, shapeValues, type MatrixType, type Shape } from './type-matrix-columns.js';

type Encoder = 'native' | 'wasm';
type Layout = 'single' | 'wide' | 'row_groups';

/** The codecs each encoder writes: the native encoder has no LZ4 and leaves it to the wasm one. */
const CODECS: Record<Encoder, Compression[]> = {
  native: ['zstd', 'snappy', 'gzip', 'none'],
  wasm: ['zstd', 'snappy', 'gzip', 'lz4', 'none'],
};

/** Row-group size of the `row_groups` layout: 200 rows in two batches of 100 make four groups. */
const SMALL_ROW_GROUP = 64;

interface WrittenFile {
  path: string;
  encoder: Encoder;
  compression: Compression;
  layout: Layout;
  shape: Shape;
  columns: { name: string; type: MatrixType; values: unknown[] }[];
}

/**
 * What a reader does with a type it cannot carry: `refuses` (the file fails to read, with an
 * error matching the pattern), or `reads` it with a reader-specific value in place of the
 * source value.
 */
type Limit =
  | { refuses: RegExp }
  | { reads: (expected: PanelValue) => PanelValue; why: string }
  /** A reader bug: values are not compared, but some must still differ, so that a fixed reader shows up here. */
  | { misreads: (expected: PanelValue) => PanelValue; why: string };

const READER_LIMITS: Partial<Record<PanelReader, (t: RivetType) => Limit | null>> = {
  // polars' Decimal stops at 38 digits.
  polars: (t) => (t.kind === 'decimal' && t.precision > 38 ? { refuses: /precision must be between 1 and 38, got \d+/ } : null),
  duckdb: (t) => {
    if (t.kind === 'decimal' && t.precision > 38) {
      // Read as DOUBLE, and wrongly: a value of a 26-byte FIXED_LEN_BYTE_ARRAY decimal (precision 60) comes back
      // 2^48 times too large, or right, depending on its bytes; pyarrow's files as well as ours (DuckDB 1.5.x).
      return { misreads: (v) => floatBits(Number(v)), why: 'DECIMAL stops at 38 digits: wider decimals are read as DOUBLE, wrongly' };
    }
    if (t.kind === 'timestamp' && t.unit === 'nanosecond' && t.timezone !== null) {
      // BigInt division truncates toward zero, as DuckDB does here (pre-1970 values round up).
      return { reads: (v) => String((BigInt(v as string) / 1000n) * 1000n), why: 'TIMESTAMPTZ has microseconds: nanoseconds are dropped' };
    }
    return null;
  },
};

function floatBits(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return Buffer.from(view.buffer).toString('hex');
}

/** Each reader's own name for the type it reads each column as (null: it refuses the column). */
const READER_TYPES: Record<PanelReader, Record<string, string | null>> = {
  'pyarrow': {
    c_bool: 'bool',
    c_int16: 'int16',
    c_int32: 'int32',
    c_int64: 'int64',
    c_uint64: 'uint64',
    c_float32: 'float',
    c_float64: 'double',
    c_decimal_9_2: 'decimal128(9, 2)',
    c_decimal_18_4: 'decimal128(18, 4)',
    c_decimal_19_4: 'decimal128(19, 4)',
    c_decimal_20_4: 'decimal128(20, 4)',
    c_decimal_38_10: 'decimal128(38, 10)',
    c_decimal_38_0: 'decimal128(38, 0)',
    c_date: 'date32[day]',
    c_time: 'time64[us]',
    c_timestamp_us: 'timestamp[us]',
    c_timestamp_us_utc: 'timestamp[us, tz=UTC]',
    c_timestamp_ns: 'timestamp[ns]',
    c_timestamp_ns_utc: 'timestamp[ns, tz=UTC]',
    c_string: 'string',
    c_json: 'extension<arrow.json>',
    c_binary: 'binary',
    c_uuid: 'extension<arrow.uuid>',
    c_decimal_60_10: 'decimal256(60, 10)',
    c_list_int32: 'list<item: int32>',
    c_list_float64: 'list<item: double>',
    c_list_string: 'list<item: string>',
    c_list_decimal_10_2: 'list<item: decimal128(10, 2)>',
    c_list_uuid: 'list<item: extension<arrow.uuid>>',
    c_list_date: 'list<item: date32[day]>',
    c_list_timestamptz: 'list<item: timestamp[us, tz=UTC]>',
    c_list_json: 'list<item: extension<arrow.json>>',
  },
  'polars': {
    c_bool: 'Boolean',
    c_int16: 'Int16',
    c_int32: 'Int32',
    c_int64: 'Int64',
    c_uint64: 'UInt64',
    c_float32: 'Float32',
    c_float64: 'Float64',
    c_decimal_9_2: 'Decimal(precision=9, scale=2)',
    c_decimal_18_4: 'Decimal(precision=18, scale=4)',
    c_decimal_19_4: 'Decimal(precision=19, scale=4)',
    c_decimal_20_4: 'Decimal(precision=20, scale=4)',
    c_decimal_38_10: 'Decimal(precision=38, scale=10)',
    c_decimal_38_0: 'Decimal(precision=38, scale=0)',
    c_date: 'Date',
    c_time: 'Time',
    c_timestamp_us: "Datetime(time_unit='us', time_zone=None)",
    c_timestamp_us_utc: "Datetime(time_unit='us', time_zone='UTC')",
    c_timestamp_ns: "Datetime(time_unit='ns', time_zone=None)",
    c_timestamp_ns_utc: "Datetime(time_unit='ns', time_zone='UTC')",
    c_string: 'String',
    c_json: "Extension('arrow.json', String, '')",
    c_binary: 'Binary',
    c_uuid: 'Binary',
    c_decimal_60_10: null,
    c_list_int32: 'List(Int32)',
    c_list_float64: 'List(Float64)',
    c_list_string: 'List(String)',
    c_list_decimal_10_2: 'List(Decimal(precision=10, scale=2))',
    c_list_uuid: 'List(Binary)',
    c_list_date: 'List(Date)',
    c_list_timestamptz: "List(Datetime(time_unit='us', time_zone='UTC'))",
    c_list_json: "List(Extension('arrow.json', String, ''))",
  },
  'duckdb': {
    c_bool: 'BOOLEAN',
    c_int16: 'SMALLINT',
    c_int32: 'INTEGER',
    c_int64: 'BIGINT',
    c_uint64: 'UBIGINT',
    c_float32: 'FLOAT',
    c_float64: 'DOUBLE',
    c_decimal_9_2: 'DECIMAL(9,2)',
    c_decimal_18_4: 'DECIMAL(18,4)',
    c_decimal_19_4: 'DECIMAL(19,4)',
    c_decimal_20_4: 'DECIMAL(20,4)',
    c_decimal_38_10: 'DECIMAL(38,10)',
    c_decimal_38_0: 'DECIMAL(38,0)',
    c_date: 'DATE',
    c_time: 'TIME',
    c_timestamp_us: 'TIMESTAMP',
    c_timestamp_us_utc: 'TIMESTAMP WITH TIME ZONE',
    c_timestamp_ns: 'TIMESTAMP_NS',
    c_timestamp_ns_utc: 'TIMESTAMP WITH TIME ZONE',
    c_string: 'VARCHAR',
    c_json: 'JSON',
    c_binary: 'BLOB',
    c_uuid: 'UUID',
    c_decimal_60_10: 'DOUBLE',
    c_list_int32: 'INTEGER[]',
    c_list_float64: 'DOUBLE[]',
    c_list_string: 'VARCHAR[]',
    c_list_decimal_10_2: 'DECIMAL(10,2)[]',
    c_list_uuid: 'UUID[]',
    c_list_date: 'DATE[]',
    c_list_timestamptz: 'TIMESTAMP WITH TIME ZONE[]',
    c_list_json: 'JSON[]',
  },
  'parquet-java': {
    c_bool: 'BOOLEAN',
    c_int16: 'INT32 INTEGER(16,true)',
    c_int32: 'INT32',
    c_int64: 'INT64',
    c_uint64: 'INT64 INTEGER(64,false)',
    c_float32: 'FLOAT',
    c_float64: 'DOUBLE',
    c_decimal_9_2: 'INT32 DECIMAL(9,2)',
    c_decimal_18_4: 'INT64 DECIMAL(18,4)',
    c_decimal_19_4: 'FIXED_LEN_BYTE_ARRAY DECIMAL(19,4)',
    c_decimal_20_4: 'FIXED_LEN_BYTE_ARRAY DECIMAL(20,4)',
    c_decimal_38_10: 'FIXED_LEN_BYTE_ARRAY DECIMAL(38,10)',
    c_decimal_38_0: 'FIXED_LEN_BYTE_ARRAY DECIMAL(38,0)',
    c_date: 'INT32 DATE',
    c_time: 'INT64 TIME(MICROS,false)',
    c_timestamp_us: 'INT64 TIMESTAMP(MICROS,false)',
    c_timestamp_us_utc: 'INT64 TIMESTAMP(MICROS,true)',
    c_timestamp_ns: 'INT64 TIMESTAMP(NANOS,false)',
    c_timestamp_ns_utc: 'INT64 TIMESTAMP(NANOS,true)',
    c_string: 'BINARY STRING',
    c_json: 'BINARY JSON',
    c_binary: 'BINARY',
    c_uuid: 'FIXED_LEN_BYTE_ARRAY UUID',
    c_decimal_60_10: 'FIXED_LEN_BYTE_ARRAY DECIMAL(60,10)',
    c_list_int32: 'GROUP LIST',
    c_list_float64: 'GROUP LIST',
    c_list_string: 'GROUP LIST',
    c_list_decimal_10_2: 'GROUP LIST',
    c_list_uuid: 'GROUP LIST',
    c_list_date: 'GROUP LIST',
    c_list_timestamptz: 'GROUP LIST',
    c_list_json: 'GROUP LIST',
  },
};

function limitOf(reader: PanelReader, t: RivetType): Limit | null {
  return READER_LIMITS[reader]?.(t) ?? null;
}

let dir: string;
const files: WrittenFile[] = [];
let panel: Awaited<ReturnType<typeof readWithPanel>>;
let readerMs: Record<string, number> = {};
const declined: string[] = [];
let writeMs = 0;
let readMs = 0;

function isNativeType(t: RivetType): boolean {
  return !(t.kind === 'list' || (t.kind === 'decimal' && t.precision > 38));
}

async function writeParquet(path: string, encoder: Encoder, batches: RecordBatch[], options: FormatOptions): Promise<void> {
  const before = process.env.RIVET_PARQUET_ENCODER;
  process.env.RIVET_PARQUET_ENCODER = encoder;
  const sink = await FileSink.create(path);
  try {
    const writer = await createParquetFileWriter(batches[0].schema, sink, options);
    for (const b of batches) await writer.write(b);
    await writer.finish();
  } finally {
    await sink.close();
    if (before === undefined) delete process.env.RIVET_PARQUET_ENCODER;
    else process.env.RIVET_PARQUET_ENCODER = before;
  }
}

/** The same columns as two batches of half the rows each. */
function twoBatches(columns: WrittenFile['columns']): RecordBatch[] {
  const half = MATRIX_ROWS / 2;
  const part = (from: number, to: number) => columns.map((c) => ({ field: matrixField(c.type), values: c.values.slice(from, to) as never[] }));
  return [matrixBatch(part(0, half), 0), matrixBatch(part(half, MATRIX_ROWS), half)];
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rivet-reader-matrix-'));
  const started = Date.now();
  for (const encoder of ['native', 'wasm'] as const) {
    for (const compression of CODECS[encoder]) {
      for (const shape of SHAPES) {
        for (const type of MATRIX_TYPES) {
          const path = join(dir, `single-${encoder}-${compression}-${shape}-${type.name}.parquet`);
          const columns = [{ name: type.name, type, values: shapeValues(type, shape) }];
          const batch = matrixBatch(columns.map((c) => ({ field: matrixField(c.type), values: c.values })));
          try {
            await writeParquet(path, encoder, [batch], { compression });
          } catch (e) {
            // The native encoder declines what it does not write; which types those are is asserted below.
            if (encoder === 'native' && e instanceof RivetError && e.code === 'USAGE') {
              if (compression === 'zstd' && shape === 'unique') declined.push(canonicalLabel(type.rivet));
              continue;
            }
            throw e;
          }
          files.push({ path, encoder, compression, layout: 'single', shape, columns });
        }
        const types = MATRIX_TYPES.filter((t) => encoder === 'wasm' || isNativeType(t.rivet));
        const columns = types.map((type) => ({ name: type.name, type, values: shapeValues(type, shape) }));
        const wide = join(dir, `wide-${encoder}-${compression}-${shape}.parquet`);
        await writeParquet(wide, encoder, [matrixBatch(columns.map((c) => ({ field: matrixField(c.type), values: c.values })))], { compression });
        files.push({ path: wide, encoder, compression, layout: 'wide', shape, columns });
        const groups = join(dir, `groups-${encoder}-${compression}-${shape}.parquet`);
        await writeParquet(groups, encoder, twoBatches(columns), { compression, rowGroupRows: SMALL_ROW_GROUP });
        files.push({ path: groups, encoder, compression, layout: 'row_groups', shape, columns });
      }
    }
  }
  writeMs = Date.now() - started;
  const readStarted = Date.now();
  panel = await readWithPanel(files.map((f) => f.path));
  readMs = Date.now() - readStarted;
  readerMs = panel.ms;
}, 600_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function normalise(t: RivetType, v: PanelValue): PanelValue {
  if (v === null) return null;
  if (t.kind === 'decimal' && typeof v === 'string') return normalDecimal(v);
  if (t.kind === 'list' && Array.isArray(v)) return v.map((x) => normalise(t.inner, x));
  return v;
}

function samePanelValue(a: PanelValue, b: PanelValue): boolean {
  if (a === b) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  return a.every((x, i) => samePanelValue(x, b[i]));
}

/** Every difference between what `reader` read and the source values, one line each. */
function mismatches(reader: PanelReader): string[] {
  const out: string[] = [];
  for (const f of files) {
    const got = panel[reader].get(f.path);
    const where = `${f.layout}/${f.encoder}/${f.compression}/${f.shape}`;
    if (!got) {
      out.push(`${where}: no answer`);
      continue;
    }
    if ('error' in got) {
      out.push(`${where} [${f.columns.map((c) => c.name).join(',')}]: ${got.error}`);
      continue;
    }
    if (got.rows.length !== MATRIX_ROWS) out.push(`${where}: ${got.rows.length} rows`);
    if (f.layout === 'row_groups' && got.rowGroups !== undefined && got.rowGroups !== Math.ceil(MATRIX_ROWS / SMALL_ROW_GROUP)) {
      out.push(`${where}: ${got.rowGroups} row groups`);
    }
    const index = new Map(got.columns.map((c, i) => [c.name, i]));
    const idAt = index.get('id');
    got.rows.forEach((row, r) => {
      if (idAt === undefined || row[idAt] !== String(r)) out.push(`${where}: row ${r} has id ${idAt === undefined ? 'missing' : String(row[idAt])}`);
    });
    for (const c of f.columns) {
      const limit = limitOf(reader, c.type.rivet);
      const refused = got.columnErrors?.[c.name];
      if (limit && 'refuses' in limit) {
        if (refused === undefined || !limit.refuses.test(refused)) out.push(`${where} ${c.name}: expected a refusal matching ${limit.refuses}, got ${refused ?? 'the values'}`);
        continue;
      }
      if (refused !== undefined) {
        out.push(`${where} ${c.name}: ${refused}`);
        continue;
      }
      const at = index.get(c.name);
      if (at === undefined) {
        out.push(`${where}: column ${c.name} missing`);
        continue;
      }
      const rows = Math.min(MATRIX_ROWS, got.rows.length);
      if (limit && 'misreads' in limit) {
        let differs = false;
        for (let r = 0; r < rows && !differs; r++) {
          const want = expectedPanelValue(c.type.rivet, c.values[r] as never);
          differs = !samePanelValue(got.rows[r][at], want === null ? null : limit.misreads(want));
        }
        if (!differs && f.shape !== 'all_null') out.push(`${where} ${c.name}: now reads right; update READER_LIMITS and docs/reference/types.md`);
        continue;
      }
      for (let r = 0; r < rows; r++) {
        let want = expectedPanelValue(c.type.rivet, c.values[r] as never);
        if (limit && 'reads' in limit && want !== null) want = limit.reads(want);
        const have = normalise(c.type.rivet, got.rows[r][at]);
        if (!samePanelValue(have, want)) {
          out.push(`${where} ${c.name} row ${r}: read ${JSON.stringify(have)?.slice(0, 80)}, wrote ${JSON.stringify(want)?.slice(0, 80)}`);
          break; // one line per column and file is enough to see the pattern
        }
      }
    }
  }
  return out;
}

describe('Parquet written by both encoders, read by four independent readers', () => {
  it('covers every type, shape, codec, encoder and layout', () => {
    const layouts = new Set(files.map((f) => `${f.layout}/${f.encoder}/${f.compression}`));
    expect(layouts.size).toBe(3 * (CODECS.native.length + CODECS.wasm.length));
    expect(new Set(files.flatMap((f) => f.columns.map((c) => c.name)))).toEqual(new Set(MATRIX_TYPES.map((t) => t.name)));
    console.info(`reader matrix: ${files.length} files written in ${writeMs} ms, read by ${PANEL_READERS.length} readers in ${readMs} ms (${JSON.stringify(readerMs)})`);
  });

  it('the native encoder declines exactly Decimal256 and lists, which the wasm encoder writes', () => {
    expect(declined.sort()).toEqual(MATRIX_TYPES.filter((t) => !isNativeType(t.rivet)).map((t) => canonicalLabel(t.rivet)).sort());
  });

  it.each(PANEL_READERS)('%s reads each column as the type documented in docs/reference/types.md', (reader) => {
    const seen: Record<string, string | null> = {};
    for (const f of files) {
      const got = panel[reader].get(f.path);
      if (!got || 'error' in got) continue;
      for (const c of got.columns) {
        if (c.name === 'id') continue;
        // A type that differs between files shows up as both.
        seen[c.name] = seen[c.name] === undefined || seen[c.name] === c.type ? c.type : `${seen[c.name]} | ${c.type}`;
      }
      for (const name of Object.keys(got.columnErrors ?? {})) seen[name] ??= null;
    }
    expect(seen).toEqual(READER_TYPES[reader]);
  });

  it.each(PANEL_READERS)('%s reads every value as written', (reader) => {
    const found = mismatches(reader);
    expect(found.length, `${found.length} mismatches, the first ones:\n${found.slice(0, 30).join('\n')}`).toBe(0);
  });
});
