// What reading a part back costs, next to writing it (dist/ build, no database):
// the streamed Parquet read-back (page walk + footer parse + checks) every part passes before
// it is published, the quote-aware CSV record count, and the ranged footer read of `validate`.
// Usage: npm run build && node bench/read-back-cost.mjs [rows=1000000]
import { execFileSync } from 'node:child_process';
import { cpus, tmpdir, totalmem } from 'node:os';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Field, Float64, Int64, RecordBatch, Schema, Struct, TimestampMicrosecond, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import { createFormatWriter } from '../dist/shared/format/registry.js';
import { ParquetReadBack } from '../dist/shared/format/parquet-read-back.js';
import { parquetFooterProblems } from '../dist/shared/format/parquet-footer-check.js';
import { CsvRecordCounter } from '../dist/shared/format/csv-record-counter.js';
import { fetchParquetFooter } from '../dist/shared/format/parquet-footer-reader.js';
import { openLocalDestination } from '../dist/shared/destination/local-destination.js';

const rows = Number(process.argv[2] ?? 1_000_000);
const BATCH = 10_000;
const schema = new Schema([
  new Field('id', new Int64(), false),
  new Field('amount', new Float64(), true),
  new Field('at', new TimestampMicrosecond('UTC'), true),
  new Field('note', new Utf8(), true),
]);

function batch(start, n) {
  const cols = [
    vectorFromArray(Array.from({ length: n }, (_, i) => BigInt(start + i)), new Int64()),
    vectorFromArray(Array.from({ length: n }, (_, i) => ((start + i) * 7919) % 100000 / 100), new Float64()),
    vectorFromArray(Array.from({ length: n }, (_, i) => 1.7e12 + (start + i) * 1000), new TimestampMicrosecond('UTC')),
    // Every fifth note has a quoted line feed, so the CSV counter meets what it exists for.
    vectorFromArray(Array.from({ length: n }, (_, i) => ((start + i) % 5 === 0 ? `say "hi"\nrow ${start + i}` : `row ${start + i}`)), new Utf8()),
  ];
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children: cols.map((c) => c.data[0]) }));
}

const batches = [];
for (let s = 0; s < rows; s += BATCH) batches.push(batch(s, Math.min(BATCH, rows - s)));

/** Encode once into memory; returns the chunks as the sink saw them and the encode time. */
async function encode(format) {
  const chunks = [];
  const t0 = process.hrtime.bigint();
  const w = await createFormatWriter(format, schema, { write: async (c) => void chunks.push(c.slice()) }, { compression: 'zstd' });
  for (const b of batches) await w.write(b);
  await w.finish();
  return { chunks, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

function timeMs(f, repeat = 5) {
  const times = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = process.hrtime.bigint();
    f();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(repeat / 2)];
}

const parquet = await encode('parquet');
const pBytes = parquet.chunks.reduce((n, c) => n + c.length, 0);
let result;
const pMs = timeMs(() => {
  const r = new ParquetReadBack();
  for (const c of parquet.chunks) r.feed(c);
  result = r.end();
  const problems = parquetFooterProblems(result, { schema, rows, rowGroupRows: 122_880 });
  if (problems.length) throw new Error(problems.join('; '));
});

const csv = await encode('csv');
const cBytes = csv.chunks.reduce((n, c) => n + c.length, 0);
const cMs = timeMs(() => {
  const counter = new CsvRecordCounter();
  for (const c of csv.chunks) counter.feed(c);
  if (counter.records !== rows) throw new Error(`counted ${counter.records}`);
});

const dir = await mkdtemp(join(tmpdir(), 'rivet-read-back-'));
await writeFile(join(dir, 'part.parquet'), Buffer.concat(parquet.chunks));
const dest = openLocalDestination(dir);
const fTimes = [];
for (let i = 0; i < 20; i++) {
  const t0 = process.hrtime.bigint();
  await fetchParquetFooter(pBytes, (o, l) => dest.readRange('part.parquet', o, l));
  fTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
await rm(dir, { recursive: true, force: true });
const fMs = fTimes.sort((a, b) => a - b)[10];

const commit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
})();
const mb = (n) => (n / 1024 / 1024).toFixed(1);
const pct = (a, b) => ((100 * a) / b).toFixed(2);
console.log(`machine: ${cpus().length}× ${cpus()[0].model}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; commit ${commit}; ${new Date().toISOString()}`);
console.log(`| ${rows} rows | bytes | encode | read-back (median of 5) | share of encode |`);
console.log(`| Parquet zstd, ${result.pages.length} pages, ${result.footer.rowGroups.length} row groups | ${mb(pBytes)} MB | ${parquet.ms.toFixed(0)} ms | ${pMs.toFixed(1)} ms | ${pct(pMs, parquet.ms)}% |`);
console.log(`| CSV (20% of rows hold a quoted line feed) | ${mb(cBytes)} MB | ${csv.ms.toFixed(0)} ms | ${cMs.toFixed(1)} ms | ${pct(cMs, csv.ms)}% |`);
console.log(`| validate: ranged footer read of that Parquet part, local (median of 20) | | | ${fMs.toFixed(2)} ms | |`);
