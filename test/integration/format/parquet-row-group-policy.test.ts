import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Int64, RecordBatch, Schema, Struct, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreateFormatWriter, FormatOptions } from '../../../shared/format/format-writer.js';
import { tryCreateNativeParquetWriter } from '../../../shared/format/native-parquet-writer.js';
import { createParquetWriter } from '../../../shared/format/parquet-writer.js';
import { estimatedRowBytes, rowGroupLimits } from '../../../shared/format/row-group-limits.js';
import { DEFAULT_ROW_GROUP_ROWS, MAX_ROW_GROUP_BYTES } from '../../../shared/format/parquet-encoding-policy.js';
import { readWithPyArrow } from '../../helpers/readers.js';
import { seededRandom } from '../../helpers/seeded-random.js';
import { FileSink } from './file-sink.js';

// One int64 and one text column: the reference's weights give (1 + 8) + (1 + 256) = 266 bytes a row.
const schema = new Schema([new Field('id', new Int64(), false), new Field('label', new Utf8(), true)]);
const ROW_BYTES = 266;
const MIB = 1024 * 1024;

describe('rowGroupLimits (the parquet: block)', () => {
  it('estimates row bytes with the reference weights, meta columns left out', () => {
    expect(estimatedRowBytes(schema)).toBe(ROW_BYTES);
    const withMeta = new Schema([...schema.fields, new Field('_rivet_row_hash', new Int64(), false)]);
    expect(estimatedRowBytes(withMeta)).toBe(ROW_BYTES);
  });

  it("keeps rivet's defaults without the block", () => {
    expect(rowGroupLimits(schema, {})).toEqual({ rows: DEFAULT_ROW_GROUP_ROWS, bytes: MAX_ROW_GROUP_BYTES });
    expect(rowGroupLimits(schema, { rowGroupRows: 7 })).toEqual({ rows: 7, bytes: MAX_ROW_GROUP_BYTES });
  });

  it('auto / fixed_memory: target MB over the estimated row, clamped to 1,000 .. 10,000,000, and a byte cap at the target', () => {
    expect(rowGroupLimits(schema, { rowGroup: { strategy: 'auto', targetMb: 128 } })).toEqual({ rows: Math.floor((128 * MIB) / ROW_BYTES), bytes: 128 * MIB });
    expect(rowGroupLimits(schema, { rowGroup: { strategy: 'fixed_memory', targetMb: 1 } })).toEqual({ rows: 3942, bytes: MIB });
    // Clamped: a tiny target still gives 1,000 rows; a huge one at most ten million.
    const tiny = new Schema([new Field('b', new Int64(), false)]);
    expect(rowGroupLimits(tiny, { rowGroup: { strategy: 'auto', targetMb: 4096 } }).rows).toBe(10_000_000);
    const wide = new Schema(Array.from({ length: 200 }, (_, i) => new Field(`t${i}`, new Utf8(), true)));
    expect(rowGroupLimits(wide, { rowGroup: { strategy: 'auto', targetMb: 1 } }).rows).toBe(1000);
  });

  it('fixed_rows: row_group_rows exactly (1,048,576 when unset); max_row_group_mb caps rows by the estimate and bytes', () => {
    expect(rowGroupLimits(schema, { rowGroup: { strategy: 'fixed_rows', rows: 2500, targetMb: 128 } })).toEqual({ rows: 2500, bytes: Number.MAX_SAFE_INTEGER });
    expect(rowGroupLimits(schema, { rowGroup: { strategy: 'fixed_rows', targetMb: 128 } }).rows).toBe(1_048_576);
    expect(rowGroupLimits(schema, { rowGroup: { strategy: 'fixed_rows', rows: 5000, targetMb: 128, maxMb: 1 } })).toEqual({ rows: 3942, bytes: MIB });
    expect(rowGroupLimits(schema, { rowGroup: { strategy: 'auto', targetMb: 128, maxMb: 2 } })).toEqual({ rows: 7884, bytes: 2 * MIB });
  });
});

const createNative: CreateFormatWriter = async (s, sink, options) => {
  const w = tryCreateNativeParquetWriter(s, sink, options);
  if (!w) throw new Error(`the native encoder declined ${options.compression}`);
  return w;
};
const ENCODERS: [string, CreateFormatWriter][] = [
  ['wasm', createParquetWriter],
  ['native', createNative],
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rivet-row-groups-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function batches(total: number, per: number, label: (i: number) => string | null): RecordBatch[] {
  const out: RecordBatch[] = [];
  for (let from = 0; from < total; from += per) {
    const n = Math.min(per, total - from);
    const ids = vectorFromArray(Array.from({ length: n }, (_, i) => BigInt(from + i)), new Int64());
    const labels = vectorFromArray(Array.from({ length: n }, (_, i) => label(from + i)), new Utf8());
    const children = [ids.data[0], labels.data[0]];
    out.push(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children })));
  }
  return out;
}

async function write(name: string, create: CreateFormatWriter, options: FormatOptions, input: RecordBatch[]): Promise<number[]> {
  const file = join(dir, name);
  const sink = await FileSink.create(file);
  const writer = await create(input[0].schema, sink, options);
  for (const b of input) await writer.write(b);
  await writer.finish();
  await sink.close();
  const r = await readWithPyArrow(file, {});
  expect(r.numRows).toBe(input.reduce((n, b) => n + b.numRows, 0));
  return r.metadata!.rowGroupRows;
}

describe.each(ENCODERS)('%s encoder honours the parquet: block (row groups read back by pyarrow)', (encoder, create) => {
  const short = (i: number) => (i % 7 === 0 ? null : `label-${i % 13}`);

  it('fixed_rows cuts groups of exactly row_group_rows across batches', async () => {
    const groups = await write(`fixed-rows-${encoder}.parquet`, create, { compression: 'zstd', rowGroup: { strategy: 'fixed_rows', rows: 2500, targetMb: 128 } }, batches(10_000, 3000, short));
    expect(groups).toEqual([2500, 2500, 2500, 2500]);
  });

  it('auto sizes groups from target_row_group_mb and the estimated row', async () => {
    const groups = await write(`auto-${encoder}.parquet`, create, { compression: 'snappy', rowGroup: { strategy: 'auto', targetMb: 1 } }, batches(10_000, 1000, short));
    expect(groups).toEqual([3942, 3942, 2116]);
  });

  it('fixed_memory closes a group once its encoded pages reach the target, before the row estimate', async () => {
    // 4 KB of random text a row (incompressible, no codec): 1 MiB holds about 256 rows,
    // while the schema's estimate alone would allow 3,942.
    const rnd = seededRandom(7);
    const text = Array.from({ length: 2000 }, () => Array.from({ length: 4096 }, () => String.fromCharCode(33 + Math.floor(rnd() * 90))).join(''));
    const groups = await write(`memory-${encoder}.parquet`, create, { compression: 'none', rowGroup: { strategy: 'fixed_memory', targetMb: 1 } }, batches(2000, 50, (i) => text[i]));
    expect(groups.reduce((a, b) => a + b, 0)).toBe(2000);
    expect(groups.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...groups)).toBeLessThan(600);
  });
});
