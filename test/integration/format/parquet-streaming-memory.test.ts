import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Float64, Int64, RecordBatch, Schema, Struct, TimeUnit, Timestamp, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import { wasmMemory } from 'parquet-wasm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createParquetWriter } from '../../../shared/format/parquet-writer.js';
import { queryWithDuckDB } from '../../helpers/readers.js';
import { FileSink } from './file-sink.js';

const TOTAL_ROWS = 3_000_000;
const BATCH_ROWS = 10_000;
const MiB = 1024 * 1024;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rivet-parquet-mem-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const schema = new Schema([
  new Field('id', new Int64(), true),
  new Field('amount', new Float64(), true),
  new Field('label', new Utf8(), true),
  new Field('at', new Timestamp(TimeUnit.MICROSECOND, 'UTC'), true),
]);

// The label column is shared by every batch (it is immutable), so generating 3M rows costs
// little; ids, amounts and timestamps are fresh per batch so row groups differ.
const labels = vectorFromArray(Array.from({ length: BATCH_ROWS }, (_, i) => `label-${i % 997}-${i}`), new Utf8()).data[0];

function batch(first: number): RecordBatch {
  const ids = new BigInt64Array(BATCH_ROWS);
  const amounts = new Float64Array(BATCH_ROWS);
  const at = new BigInt64Array(BATCH_ROWS);
  for (let i = 0; i < BATCH_ROWS; i++) {
    const id = first + i;
    ids[i] = BigInt(id);
    amounts[i] = id * 0.25;
    at[i] = 1_700_000_000_000_000n + BigInt(id) * 1_000_003n;
  }
  const children = [
    makeData({ type: new Int64(), length: BATCH_ROWS, nullCount: 0, data: ids }),
    makeData({ type: new Float64(), length: BATCH_ROWS, nullCount: 0, data: amounts }),
    labels,
    makeData({ type: new Timestamp(TimeUnit.MICROSECOND, 'UTC'), length: BATCH_ROWS, nullCount: 0, data: at }),
  ];
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: BATCH_ROWS, nullCount: 0, children }));
}

it('streams 3M rows with wasm memory and RSS bounded far below the data size', { timeout: 180_000 }, async () => {
  const file = join(dir, 'big.parquet');
  const sink = await FileSink.create(file);
  const writer = await createParquetWriter(schema, sink, { compression: 'zstd' });
  const rss0 = process.memoryUsage().rss;
  let arrowBytes = 0;
  let wasmAtThird = 0;
  let rssAtThird = 0;
  let peakRss = 0;
  const sinkBytesSeen: number[] = [];
  for (let first = 0; first < TOTAL_ROWS; first += BATCH_ROWS) {
    const b = batch(first);
    arrowBytes += b.data.children.reduce((n, c) => n + (c.values?.byteLength ?? 0) + (c.valueOffsets?.byteLength ?? 0), 0);
    await writer.write(b);
    if (first === TOTAL_ROWS / 3) {
      wasmAtThird = wasmMemory().buffer.byteLength;
      rssAtThird = process.memoryUsage().rss;
    }
    if (first % 300_000 === 0) {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      sinkBytesSeen.push(sink.bytes);
    }
  }
  await writer.finish();
  await sink.close();
  const wasmEnd = wasmMemory().buffer.byteLength;
  const rssEnd = process.memoryUsage().rss;
  peakRss = Math.max(peakRss, rssEnd);
  const fileBytes = (await stat(file)).size;

  console.log(
    `[parquet streaming] rows=${TOTAL_ROWS} arrow≈${(arrowBytes / MiB).toFixed(0)} MiB file=${(fileBytes / MiB).toFixed(1)} MiB ` +
      `wasm@1/3=${(wasmAtThird / MiB).toFixed(1)} MiB wasm@end=${(wasmEnd / MiB).toFixed(1)} MiB ` +
      `rss0=${(rss0 / MiB).toFixed(0)} MiB rss@1/3=${(rssAtThird / MiB).toFixed(0)} MiB rss@end=${(rssEnd / MiB).toFixed(0)} MiB peakRss=${(peakRss / MiB).toFixed(0)} MiB ` +
      `sinkWrites=${sink.writes}`,
  );

  // Streaming: bytes reached the sink while rows were still coming in, one write per row group or so.
  expect(sinkBytesSeen.filter((n) => n > 0).length).toBeGreaterThan(5);
  expect(sink.writes).toBeGreaterThanOrEqual(Math.floor(TOTAL_ROWS / 122_880));
  expect(writer.bytesWritten).toBe(fileBytes);
  // Wasm memory never shrinks, so growth after the first third would mean a leak or
  // whole-file buffering; the absolute level must stay far below the data written.
  expect(wasmEnd - wasmAtThird).toBeLessThanOrEqual(4 * MiB);
  expect(wasmEnd).toBeLessThan(64 * MiB);
  expect(arrowBytes).toBeGreaterThan(2 * wasmEnd);
  expect(peakRss - rss0).toBeLessThan(arrowBytes);

  const [summary] = await queryWithDuckDB(
    `SELECT count(*)::BIGINT AS n, sum(id)::BIGINT AS ids, (SELECT count(DISTINCT row_group_id)::BIGINT FROM parquet_metadata('${file}')) AS groups FROM read_parquet('${file}')`,
  );
  expect(summary).toEqual({ n: BigInt(TOTAL_ROWS), ids: (BigInt(TOTAL_ROWS) * BigInt(TOTAL_ROWS - 1)) / 2n, groups: BigInt(Math.ceil(TOTAL_ROWS / 122_880)) });
});
