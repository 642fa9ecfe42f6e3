import { DataType, RecordBatch, Struct, Table, makeBuilder, makeData, tableToIPC, type Data, type Field, type Schema } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { RivetError, errorChain } from '../errors/rivet-error.js';
import type { ByteSink, Compression, CreateFormatWriter, FormatOptions, FormatWriter } from './format-writer.js';
import { assertSameSchema } from './same-arrow-type.js';
import { patchParquetFooter, type FooterLogicalType } from './parquet-footer-patch.js';
import { DEFAULT_ROW_GROUP_ROWS, MAX_ROW_GROUP_BYTES, dictionaryColumns } from './parquet-encoding-policy.js';
import { rowGroupLimits, type RowGroupLimits } from './row-group-limits.js';

// Still exported from here for the native encoder's import; new code imports parquet-encoding-policy.js.
export { DEFAULT_ROW_GROUP_ROWS, MAX_ROW_GROUP_BYTES, dictionaryColumns };

/**
 * Largest slice of an incoming batch copied into wasm at once. Producers may hand over
 * batches of any size; copying them in slices keeps the wasm heap high-water mark at
 * roughly one row group plus one slice.
 */
const MAX_SLICE_BYTES = 8 * 1024 * 1024;

// The deprecated Hadoop-framed LZ4 codec is unreadable by DuckDB ("Unsupported compression
// codec LZ4"), so `lz4` means LZ4_RAW, which DuckDB, pyarrow and Spark all read.
const CODECS: Record<Compression, pw.Compression> = {
  zstd: pw.Compression.ZSTD,
  snappy: pw.Compression.SNAPPY,
  gzip: pw.Compression.GZIP,
  lz4: pw.Compression.LZ4_RAW,
  none: pw.Compression.UNCOMPRESSED,
};

export const createParquetWriter: CreateFormatWriter = async (schema, sink, options) => new ParquetWriter(schema, sink, options);

class ParquetWriter implements FormatWriter {
  readonly format = 'parquet' as const;
  readonly extension = 'parquet' as const;
  bytesWritten = 0;
  rowsWritten = 0;

  private controller!: ReadableStreamDefaultController<pw.RecordBatch>;
  private pumpDone: Promise<void> = Promise.resolve();
  private started = false;
  private readonly codec: pw.Compression;
  private readonly limits: RowGroupLimits;
  private failure: unknown = undefined;
  private state: 'open' | 'finishing' | 'done' = 'open';
  private batchesSent = 0;
  // Demand from the wasm side: set by `pull`, consumed by one enqueue. Enqueuing only on
  // demand is the backpressure that keeps at most one batch waiting in wasm memory.
  private pulled = false;
  private wake: (() => void) | null = null;
  /** The wasm side cancelled its input: it failed and the reason arrives through the pump. */
  private inputCancelled = false;
  /** Output produced after `finish` began: the last row group and the footer we may patch. */
  private tail: Uint8Array[] | null = null;
  private readonly footerPatch: Map<number, FooterLogicalType>;

  constructor(
    private readonly schema: Schema,
    private readonly sink: ByteSink,
    options: FormatOptions,
  ) {
    checkParquetTypes(schema);
    this.footerPatch = logicalTypeColumns(schema);
    const limits = rowGroupLimits(schema, options);
    if (!Number.isInteger(limits.rows) || limits.rows < 1) {
      throw new RivetError('FORMAT', `invalid Parquet row-group size ${limits.rows}`, { hint: 'row_group_rows must be a positive integer' });
    }
    this.codec = CODECS[options.compression] ?? pw.Compression.ZSTD;
    this.limits = limits;
  }

  /**
   * The wasm writer is created on the first batch, because its dictionary settings are
   * chosen from that batch's data (see `dictionaryColumns`).
   */
  private start(first: RecordBatch): void {
    // parquet-wasm 0.8 exposes codecs but not codec levels: zstd runs at arrow-rs' default
    // level (1) and gzip at 6 whatever `compressionLevel` says.
    let builder = new pw.WriterPropertiesBuilder()
      .setCompression(this.codec)
      .setCreatedBy('rivet')
      .setMaxRowGroupSize(this.limits.rows)
      // usize is 32 bits in wasm; "no byte limit" is the largest value it holds.
      .setMaxRowGroupBytes(Math.min(this.limits.bytes, 0xffff_ffff))
      .setDictionaryEnabled(false);
    for (const name of dictionaryColumns(first)) builder = builder.setColumnDictionaryEnabled(name, true);
    const props = builder.build();

    const input = new ReadableStream<pw.RecordBatch>(
      {
        start: (c) => {
          this.controller = c;
        },
        pull: () => {
          this.pulled = true;
          this.notify();
        },
        cancel: () => {
          this.inputCancelled = true;
          this.notify();
        },
      },
      { highWaterMark: 0 },
    );
    this.pumpDone = this.pump(pw.transformParquetStream(input, props));
    this.started = true;
  }

  async write(batch: RecordBatch): Promise<void> {
    if (this.state !== 'open') throw new RivetError('INTERNAL', 'Parquet writer used after finish or abort');
    this.throwIfFailed();
    assertSameSchema(this.schema, batch.schema);
    if (batch.numRows === 0) return;
    const rows = sliceRows(batch);
    for (let start = 0; start < batch.numRows; start += rows) {
      const end = Math.min(batch.numRows, start + rows);
      const piece = start === 0 && end === batch.numRows ? batch : batch.slice(start, end);
      await this.send(new RecordBatch(this.schema, piece.data));
    }
    this.rowsWritten += batch.numRows;
  }

  async finish(): Promise<void> {
    if (this.state !== 'open') throw new RivetError('INTERNAL', 'Parquet writer finished twice or after abort');
    this.throwIfFailed();
    // The wasm writer takes the file schema from the first batch, so an empty file still
    // needs one (empty) batch to get a footer with the right columns.
    if (this.batchesSent === 0) await this.send(emptyBatch(this.schema));
    this.state = 'finishing';
    if (this.footerPatch.size > 0) this.tail = [];
    if (!this.inputCancelled) this.controller.close();
    await this.pumpDone;
    this.throwIfFailed();
    if (this.inputCancelled) throw new RivetError('FORMAT', 'Parquet encoding stopped before the file was complete');
    if (this.tail) {
      const patched = patchParquetFooter(concat(this.tail), this.footerPatch);
      this.tail = null;
      await this.sink.write(patched);
      this.bytesWritten += patched.length;
    }
    this.state = 'done';
  }

  abort(): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.fail(new RivetError('FORMAT', 'Parquet writer aborted'));
    this.tail = null;
    if (!this.started) return;
    try {
      // Erroring the input makes the wasm side drop its writer and the row group in progress.
      this.controller.error(new Error('aborted'));
    } catch {
      // already closed or errored
    }
    this.pumpDone.catch(() => undefined);
  }

  private async send(batch: RecordBatch): Promise<void> {
    if (!this.started) this.start(batch);
    const wasmBatches = toWasmBatches(batch);
    try {
      while (wasmBatches.length > 0) {
        await this.waitForDemand();
        try {
          this.controller.enqueue(wasmBatches[0]);
        } catch {
          // Cancelled between its last pull and now.
          this.inputCancelled = true;
          await this.stopped();
        }
        wasmBatches.shift();
        this.batchesSent++;
      }
    } finally {
      // Only reached with leftovers when the writer failed: release them now rather than
      // whenever the garbage collector runs their finalizers.
      for (const b of wasmBatches) b.free();
    }
  }

  private async waitForDemand(): Promise<void> {
    while (!this.pulled) {
      this.throwIfFailed();
      if (this.inputCancelled) await this.stopped();
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    this.throwIfFailed();
    this.pulled = false;
  }

  /** The encoder gave up; its error reaches us through the output stream, so wait for it. */
  private async stopped(): Promise<never> {
    await this.pumpDone;
    this.throwIfFailed();
    throw new RivetError('FORMAT', 'Parquet encoding stopped before the file was complete');
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private fail(e: unknown): void {
    if (this.failure === undefined) this.failure = e;
    this.notify();
  }

  private throwIfFailed(): void {
    if (this.failure === undefined) return;
    const e = this.failure;
    if (e instanceof RivetError) throw e;
    throw new RivetError('FORMAT', `Parquet encoding failed: ${errorChain(e)}`, { cause: e });
  }

  /** Moves encoded bytes from the wasm writer to the sink, one row group at a time. */
  private async pump(output: Promise<ReadableStream>): Promise<void> {
    try {
      const reader = (await output).getReader();
      try {
        for (;;) {
          const { done, value } = (await reader.read()) as { done: boolean; value: Uint8Array };
          if (done) return;
          if (this.failure !== undefined) continue;
          if (this.tail) this.tail.push(value);
          else {
            await this.sink.write(value);
            this.bytesWritten += value.length;
          }
        }
      } finally {
        reader.releaseLock();
      }
    } catch (e) {
      this.fail(e);
    }
  }

}

/**
 * Fail at creation, naming the column, for what Parquet cannot store rather than with an
 * encoder error after rows were already sent. Arrow allows a negative decimal scale
 * (docs/reference/types.md); Parquet's DECIMAL does not.
 */
function checkParquetTypes(schema: Schema): void {
  for (const f of schema.fields) {
    if (DataType.isDecimal(f.type) && f.type.scale < 0) {
      throw new RivetError('FORMAT', `column "${f.name}" is ${String(f.type)} with a negative scale, which Parquet cannot store`, {
        hint: `override "${f.name}" with a decimal whose scale is 0 or more, or use "format: csv"`,
      });
    }
  }
}

/** Columns whose Arrow extension asks for a Parquet logical type the wasm writer cannot set. */
function logicalTypeColumns(schema: Schema): Map<number, FooterLogicalType> {
  const out = new Map<number, FooterLogicalType>();
  const kind = (f: Field): FooterLogicalType | undefined => {
    const ext = f.metadata.get('ARROW:extension:name') ?? '';
    const logical = f.metadata.get('rivet.logical_type') ?? '';
    if ((ext === 'arrow.json' || logical === 'json') && DataType.isUtf8(f.type)) return 'json';
    if ((ext === 'arrow.uuid' || logical === 'uuid') && DataType.isFixedSizeBinary(f.type) && f.type.byteWidth === 16) return 'uuid';
    return undefined;
  };
  schema.fields.forEach((f, i) => {
    // Lists of json/uuid carry the extension on their element field.
    const k = DataType.isList(f.type) ? kind(f.type.children[0]) : kind(f);
    if (k) out.set(i, k);
  });
  return out;
}

/** Rows per slice so one slice is at most MAX_SLICE_BYTES (never fewer than 1024 rows). */
function sliceRows(batch: RecordBatch): number {
  const bytes = dataBytes(batch.data);
  if (bytes <= MAX_SLICE_BYTES) return batch.numRows;
  return Math.max(1024, Math.floor((batch.numRows * MAX_SLICE_BYTES) / bytes));
}

function dataBytes(d: Data): number {
  let n = (d.values?.byteLength ?? 0) + (d.valueOffsets?.byteLength ?? 0) + (d.nullBitmap?.byteLength ?? 0);
  for (const c of d.children) n += dataBytes(c);
  return n;
}

/**
 * JS batch → wasm batch(es) through an Arrow IPC stream (the only JS→wasm path parquet-wasm
 * offers without extra packages). The wasm table is freed at once; the batches it yields
 * share its buffers and are consumed (and freed) by the Parquet writer.
 */
function toWasmBatches(batch: RecordBatch): pw.RecordBatch[] {
  const ipc = tableToIPC(new Table([batch]), 'stream');
  const table = pw.Table.fromIPCStream(ipc);
  try {
    return table.recordBatches();
  } finally {
    table.free();
  }
}

function emptyBatch(schema: Schema): RecordBatch {
  // Builders know how to make a valid empty column of any type, nested ones included.
  const children = schema.fields.map((f) => makeBuilder({ type: f.type }).finish().flush());
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 0, nullCount: 0, children }));
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
