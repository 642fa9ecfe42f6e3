/**
 * Decimals of precision 19–38 are FIXED_LEN_BYTE_ARRAY in Parquet (big-endian, as few bytes
 * as the precision needs). A column of few distinct values is dictionary-encoded, so its
 * dictionary page must hold those same fixed-length big-endian values; readers that get
 * anything else fail on the file (pyarrow "Unexpected end of stream", DuckDB "Out of buffer",
 * polars "dictionary length … is not divisible by size 9").
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decimal, Field, Int64, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Compression, CreateFormatWriter } from '../../../shared/format/format-writer.js';
import { tryCreateNativeParquetWriter } from '../../../shared/format/native-parquet-writer.js';
import { createParquetWriter } from '../../../shared/format/parquet-writer.js';
import { readWithDuckDB, readWithPyArrow } from '../../helpers/readers.js';
import { FileSink } from './file-sink.js';

const ROWS = 300;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rivet-wide-decimal-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const createNative: CreateFormatWriter = async (schema, sink, options) => {
  const w = tryCreateNativeParquetWriter(schema, sink, options);
  if (!w) throw new Error(`the native encoder declined ${options.compression}`);
  return w;
};

/** Unscaled values, four distinct ones and NULLs, cycled: a dictionary-encoded column. */
function unscaled(precision: number): (bigint | null)[] {
  const max = 10n ** BigInt(precision) - 1n;
  const distinct = [123_456_789n, -max, max, null, 0n];
  return Array.from({ length: ROWS }, (_, i) => distinct[i % distinct.length]);
}

function decimalData(type: Decimal, values: (bigint | null)[]) {
  const words = new Uint32Array(values.length * 4);
  const nullBitmap = new Uint8Array(Math.ceil(values.length / 8));
  let nullCount = 0;
  values.forEach((v, i) => {
    if (v === null) {
      nullCount++;
      return;
    }
    nullBitmap[i >> 3] |= 1 << (i & 7);
    let x = BigInt.asUintN(128, v);
    for (let k = 0; k < 4; k++, x >>= 32n) words[i * 4 + k] = Number(x & 0xffffffffn);
  });
  return makeData({ type, length: values.length, nullCount, nullBitmap, data: words });
}

function text(v: bigint | null, scale: number): string | null {
  if (v === null) return null;
  const digits = (v < 0n ? -v : v).toString().padStart(scale + 1, '0');
  return `${v < 0n ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

const ENCODERS: Record<string, CreateFormatWriter> = { native: createNative, wasm: createParquetWriter };
const CASES: [string, Compression][] = [
  ['native', 'zstd'],
  ['native', 'none'],
  ['wasm', 'zstd'],
  ['wasm', 'lz4'],
];

describe.each(CASES)('%s encoder, %s', (encoder, compression) => {
  const create = ENCODERS[encoder];
  it.each([19, 20, 28, 38])('decimal(%i,4) with few distinct values reads back in pyarrow and DuckDB', async (precision) => {
    const type = new Decimal(4, precision, 128);
    const values = unscaled(precision);
    const schema = new Schema([new Field('id', new Int64(), true), new Field('amount', type, true)]);
    const ids = makeData({ type: new Int64(), length: ROWS, nullCount: 0, data: BigInt64Array.from({ length: ROWS }, (_, i) => BigInt(i)) });
    const file = join(dir, `${encoder}-${compression}-${precision}.parquet`);
    const sink = await FileSink.create(file);
    const writer = await create(schema, sink, { compression });
    const children = [ids, decimalData(type, values)];
    await writer.write(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: ROWS, nullCount: 0, children })));
    await writer.finish();
    await sink.close();

    const expected = values.map((v, i) => ({ id: BigInt(i), amount: text(v, 4) }));
    const py = await readWithPyArrow(file);
    expect(py.rows).toEqual(expected);
    expect(py.columns[1].type).toBe(`decimal128(${precision}, 4)`);
    const duck = await readWithDuckDB(file);
    expect(duck.rows).toEqual(expected);
  });
});
