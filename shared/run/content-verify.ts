import { DataType, type RecordBatch, type Schema } from 'apache-arrow';
import { RivetError, errorChain } from '../errors/rivet-error.js';
import type { Destination } from '../destination/destination.js';
import type { FileFormat } from '../format/format-writer.js';
import { startWorker } from '../threads/start-worker.js';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import type { FromContentReader, ToContentReader } from './content-read-worker.js';
import type { ReadPartRange } from './parquet-content-counts.js';

/**
 * `verify: content` (docs/commands/validate.md, as the issue asks of it): once a part is written, read it back
 * from the destination in full and check that it holds the rows and, per column, the nulls
 * that went into it. The expected counts come from the Arrow batches handed to the writer;
 * the observed ones from a reader that shares nothing with rivet's encoders — parquet-wasm's
 * (arrow-rs) for Parquet, a plain RFC 4180 field splitter for CSV — reading the part's bytes
 * through ranged reads, one row group (Parquet) or one read chunk (CSV) at a time, so memory
 * stays bounded by a row group whatever the part's size.
 *
 * CSV writes NULL and an empty text or binary value alike (an empty field), so for CSV the
 * per-column count is of empty cells: nulls plus zero-length values.
 */
export interface ContentCounts {
  rows: number;
  /** Per column, in schema order: nulls (Parquet) or empty cells (CSV). */
  empty: number[];
}

/** Counts what the writer is handed, one batch at a time. */
export class ContentTally {
  readonly counts: ContentCounts;

  constructor(
    private readonly format: FileFormat,
    readonly schema: Schema,
  ) {
    this.counts = { rows: 0, empty: schema.fields.map(() => 0) };
  }

  add(batch: RecordBatch): void {
    this.counts.rows += batch.numRows;
    for (let c = 0; c < batch.numCols; c++) {
      const column = batch.getChildAt(c);
      if (!column) continue;
      for (const data of column.data) {
        this.counts.empty[c] += this.format === 'csv' ? emptyCells(data) : data.nullCount;
      }
    }
  }
}

/** Nulls plus zero-length text/binary values: the cells a CSV part writes as an empty field. */
function emptyCells(data: RecordBatch['data']['children'][number]): number {
  const t = data.type;
  if (DataType.isDictionary(t) && data.dictionary) {
    const dict = data.dictionary;
    const keys = data.values as ArrayLike<number | bigint>;
    let n = 0;
    for (let i = 0; i < data.length; i++) {
      if (!data.getValid(i)) n++;
      else {
        const v = dict.get(Number(keys[i])) as string | Uint8Array | null;
        if (v !== null && v.length === 0) n++;
      }
    }
    return n;
  }
  if (!(DataType.isUtf8(t) || DataType.isBinary(t) || DataType.isLargeUtf8(t) || DataType.isLargeBinary(t))) return data.nullCount;
  const offsets = data.valueOffsets as Int32Array | BigInt64Array;
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    if (!data.getValid(i) || offsets[i] === offsets[i + 1]) n++;
  }
  return n;
}

/** Read the part back and throw CONTENT_MISMATCH unless it holds exactly `expected`. */
export async function verifyPartContent(dest: Destination, key: string, sizeBytes: number, format: FileFormat, schema: Schema, expected: ContentCounts): Promise<void> {
  if (process.env.RIVET_FAULT === 'corrupt_published_part') await corruptPart(dest, key, format);
  let observed: ContentCounts;
  try {
    observed = format === 'parquet' ? await readParquetCounts(dest, key, sizeBytes, schema) : await readCsvCounts(dest, key, schema);
  } catch (e) {
    if (e instanceof RivetError && e.code === 'CONTENT_MISMATCH') throw e;
    throw mismatch(key, [`it could not be read back: ${errorChain(e)}`]);
  }
  const problems: string[] = [];
  if (observed.rows !== expected.rows) problems.push(`${observed.rows} rows read back, ${expected.rows} were written`);
  const what = format === 'csv' ? 'empty cells' : 'nulls';
  schema.fields.forEach((f, i) => {
    if (observed.empty[i] !== expected.empty[i]) problems.push(`column ${f.name}: ${observed.empty[i]} ${what} read back, ${expected.empty[i]} were written`);
  });
  if (problems.length > 0) throw mismatch(key, problems);
}

function mismatch(key: string, problems: string[]): RivetError {
  return new RivetError('CONTENT_MISMATCH', `verify: content: part ${key} does not hold what was written (${problems.join('; ')}); the run commits nothing`, {
    hint: 'the part was set aside with the failed run (_rivet/runs/<run_id>/); rerun the export, and if it happens again report it with the table definition (RIVET_PARQUET_ENCODER=wasm or =native switches the Parquet encoder)',
  });
}

const WORKER_URL = new URL('./content-read-worker.js', import.meta.url);

/**
 * Counts of a Parquet part as parquet-wasm reads it, in a thread of its own when one can be
 * started (content-read-worker.ts says why); the thread asks for the part's bytes range by
 * range and this side answers with ranged reads of the destination, so a part on S3, GCS or
 * Azure is read row group by row group rather than downloaded whole. Where the script is not
 * beside this module, the same reader runs in this thread.
 */
async function readParquetCounts(dest: Destination, key: string, sizeBytes: number, schema: Schema): Promise<ContentCounts> {
  // Only the built script: under the test runner the worker would be an esbuild bundle that
  // cannot find parquet-wasm's .wasm file, so the reader runs in this thread there.
  const worker = existsSync(fileURLToPath(WORKER_URL)) ? startWorker(WORKER_URL) : null;
  const { rows, nulls } = worker ? await readInWorker(worker, dest, key, sizeBytes) : await countInThread(rangeOf(dest, key), sizeBytes);
  if (nulls.length !== schema.fields.length) throw mismatch(key, [`${nulls.length} columns read back, ${schema.fields.length} were written`]);
  return { rows, empty: nulls };
}

/**
 * The same reader in this thread. Imported here, not at the top: parquet-wasm compiles and
 * instantiates its 4.9 MB module when imported (CPU at start-up, code space and 2–3 MB of
 * wasm memory), and every export loads this file, while few ask for `verify: content`.
 */
async function countInThread(read: ReadPartRange, size: number): Promise<{ rows: number; nulls: number[] }> {
  const { countParquetContent } = await import('./parquet-content-counts.js');
  return countParquetContent(read, size);
}

/** The destination's ranged read of `key`, as an ArrayBuffer of exactly those bytes. */
function rangeOf(dest: Destination, key: string): ReadPartRange {
  return async (offset, length) => {
    const bytes = await dest.readRange(key, offset, length);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  };
}

function readInWorker(worker: Worker, dest: Destination, key: string, size: number): Promise<{ rows: number; nulls: number[] }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
      void worker.terminate();
    };
    worker.on('message', (msg: FromContentReader) => {
      if (msg.type === 'done') settle(() => resolve({ rows: msg.rows, nulls: msg.nulls }));
      else if (msg.type === 'error') settle(() => reject(new Error(msg.message)));
      else {
        dest.readRange(key, msg.offset, msg.length).then(
          (bytes) => worker.postMessage({ type: 'range', req: msg.req, bytes } satisfies ToContentReader),
          (e: unknown) => worker.postMessage({ type: 'range', req: msg.req, error: errorChain(e) } satisfies ToContentReader),
        );
      }
    });
    worker.on('error', (e) => settle(() => reject(new Error(`the Parquet reader failed on it (${e.message})`))));
    worker.on('exit', (code) => settle(() => reject(new Error(`the Parquet reader stopped (exit ${code})`))));
    worker.postMessage({ type: 'start', size } satisfies ToContentReader);
  });
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;

/** RFC 4180 records and fields, counted: a field is empty when it holds no byte at all (`""` is a value). */
async function readCsvCounts(dest: Destination, key: string, schema: Schema): Promise<ContentCounts> {
  const columns = schema.fields.length;
  const counts: ContentCounts = { rows: 0, empty: schema.fields.map(() => 0) };
  let header = true;
  let field = 0;
  let fieldBytes = 0;
  let quoted = false;
  let inQuote = false;
  let afterQuote = false;
  let bad: string | null = null;
  const endField = () => {
    if (field < columns && fieldBytes === 0 && !quoted) counts.empty[field]++;
    field++;
    fieldBytes = 0;
    quoted = false;
    afterQuote = false;
  };
  const endRecord = (line: number) => {
    endField();
    if (field !== columns && bad === null) bad = `record ${line} has ${field} fields, the part has ${columns} columns`;
    counts.rows++;
    field = 0;
  };
  let open = false;
  for await (const chunk of dest.read(key)) {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (header) {
        // Header names are written unquoted (docs/reference/types.md): the first line is skipped as it is.
        if (b === LF) header = false;
        continue;
      }
      open = true;
      if (inQuote) {
        if (b === QUOTE) {
          inQuote = false;
          afterQuote = true;
        } else fieldBytes++;
      } else if (b === QUOTE) {
        // A quote right after a closing quote is an escaped quote inside the value.
        if (afterQuote) fieldBytes++;
        else if (fieldBytes > 0) throw mismatch(key, [`record ${counts.rows + 1}: a quote inside an unquoted field`]);
        quoted = true;
        inQuote = true;
        afterQuote = false;
      } else if (b === COMMA) endField();
      // Records end with LF; a value holding CR or LF is quoted.
      else if (b === LF) {
        endRecord(counts.rows + 1);
        open = false;
      } else {
        if (afterQuote) throw mismatch(key, [`record ${counts.rows + 1}: text after a closing quote`]);
        fieldBytes++;
      }
    }
  }
  if (inQuote) throw mismatch(key, ['it ends inside a quoted field']);
  if (open) endRecord(counts.rows + 1);
  if (bad !== null) throw mismatch(key, [bad]);
  return counts;
}

/**
 * Test seam: RIVET_FAULT=corrupt_published_part alters a part after it is published, the way
 * a faulty store or a concurrent writer would, without changing its size (so `verify: size`
 * cannot see it): a byte inside the first Parquet page, or the first field separator of the
 * first CSV record. Holds the whole part in memory: tests only.
 */
async function corruptPart(dest: Destination, key: string, format: FileFormat): Promise<void> {
  const bytes = await dest.get(key);
  if (!bytes) return;
  const out = Uint8Array.from(bytes);
  if (format === 'parquet') {
    const at = Math.min(out.length - 9, 4 + 40);
    out[at] ^= 0xff;
  } else {
    const at = out.indexOf(COMMA, out.indexOf(LF) + 1);
    if (at >= 0) out[at] = 0x3b;
  }
  await dest.put(key, out);
}
