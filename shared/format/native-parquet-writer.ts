import { Table, tableToIPC, type RecordBatch, type Schema } from 'apache-arrow';
import { RivetError, errorChain } from '../errors/rivet-error.js';
import type { ByteSink, FormatOptions, FormatWriter } from './format-writer.js';
import { PageCompressPool } from './page-compress-pool.js';
import { ColumnChunkBuilder, type ChunkSummary, type PageCompressor } from './parquet-column-chunk.js';
import { parquetLeaf, type ParquetLeaf } from './parquet-leaf.js';
import { loadPageCodec } from './parquet-page-codec.js';
import { dictionaryColumns } from './parquet-encoding-policy.js';
import { rowGroupLimits, type RowGroupLimits } from './row-group-limits.js';
import { assertSameSchema } from './same-arrow-type.js';
import { encodeThriftStruct, ThriftType, type ThriftStruct, type ThriftValue } from './thrift-compact.js';
import { thriftField } from './thrift-field.js';

/** Pieces at least this large are written on their own rather than gathered. */
const LARGE_WRITE = 256 * 1024;

const MAGIC = Uint8Array.from([0x50, 0x41, 0x52, 0x31]); // "PAR1"

const f = thriftField;

/**
 * A Parquet encoder written for rivet's flat schemas: Arrow buffers are read in place and
 * pages are compressed by native zstd / snappy / zlib, with no copy into wasm and no IPC
 * round trip. It writes the same schema, logical types and `ARROW:schema` metadata as the
 * wasm (arrow-rs) encoder, which stays the fallback for nested types, LZ4 and platforms
 * where the native codecs do not load — `tryCreateNativeParquetWriter` returns null then.
 * Measured on the wide benchmark table it is what brings zstd within reach of COPY speed
 * (bench/README.md).
 */
export function tryCreateNativeParquetWriter(schema: Schema, sink: ByteSink, options: FormatOptions): FormatWriter | null {
  const leaves: ParquetLeaf[] = [];
  for (const field of schema.fields) {
    const leaf = parquetLeaf(field);
    if (!leaf) return null;
    leaves.push(leaf);
  }
  const codec = loadPageCodec(options.compression, options.compressionLevel);
  if (!codec) return null;
  const compressor: PageCompressor = { codec, pool: PageCompressPool.shared(), compression: options.compression, level: options.compressionLevel };
  const limits = rowGroupLimits(schema, options);
  if (!Number.isInteger(limits.rows) || limits.rows < 1) {
    throw new RivetError('FORMAT', `invalid Parquet row-group size ${limits.rows}`, { hint: 'row_group_rows must be a positive integer' });
  }
  return new NativeParquetWriter(schema, leaves, compressor, sink, limits);
}

interface RowGroupMeta {
  columns: { summary: Omit<ChunkSummary, 'bytes'>; offset: number }[];
  numRows: number;
  offset: number;
}

class NativeParquetWriter implements FormatWriter {
  readonly format = 'parquet' as const;
  readonly extension = 'parquet' as const;
  bytesWritten = 0;
  rowsWritten = 0;

  private chunks: ColumnChunkBuilder[] | null = null;
  private groupRows = 0;
  private readonly groups: RowGroupMeta[] = [];
  private state: 'open' | 'done' = 'open';

  constructor(
    private readonly schema: Schema,
    private readonly leaves: ParquetLeaf[],
    private readonly compressor: PageCompressor,
    private readonly sink: ByteSink,
    private readonly limits: RowGroupLimits,
  ) {}

  async write(batch: RecordBatch): Promise<void> {
    if (this.state !== 'open') throw new RivetError('INTERNAL', 'Parquet writer used after finish or abort');
    await this.guard(() => this.writeBatch(batch));
  }

  async finish(): Promise<void> {
    if (this.state !== 'open') throw new RivetError('INTERNAL', 'Parquet writer finished twice or after abort');
    await this.guard(() => this.writeFooter());
  }

  /** Any failure leaves the writer unusable and reaches the caller as a FORMAT error. */
  private async guard(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (e) {
      this.state = 'done';
      this.chunks = null;
      if (e instanceof RivetError) throw e;
      throw new RivetError('FORMAT', `Parquet encoding failed: ${errorChain(e)}`, { cause: e });
    }
  }

  private async writeBatch(batch: RecordBatch): Promise<void> {
    assertSameSchema(this.schema, batch.schema);
    if (batch.numRows === 0) return;
    if (!this.chunks) {
      // Dictionary encoding is chosen per column from the first batch, as the wasm encoder does.
      const dict = new Set(dictionaryColumns(batch));
      this.chunks = this.leaves.map((leaf) => new ColumnChunkBuilder(leaf, this.compressor, dict.has(leaf.name) && leaf.kind !== 'f32' && leaf.kind !== 'f64'));
    }
    if (this.bytesWritten === 0) await this.emit(MAGIC);
    let start = 0;
    while (start < batch.numRows) {
      const take = Math.min(batch.numRows - start, this.limits.rows - this.groupRows);
      const piece = start === 0 && take === batch.numRows ? batch : batch.slice(start, start + take);
      const chunks = this.chunks;
      for (let c = 0; c < chunks.length; c++) chunks[c].append(piece.data.children[c]);
      this.groupRows += take;
      start += take;
      this.rowsWritten += take;
      await this.compressor.pool?.settle();
      if (this.groupRows >= this.limits.rows || this.encodedBytes() >= this.limits.bytes) await this.flushGroup();
    }
  }

  private async writeFooter(): Promise<void> {
    if (this.bytesWritten === 0) await this.emit(MAGIC);
    if (this.groupRows > 0) await this.flushGroup();
    const footer = encodeThriftStruct(this.fileMetadata());
    const tail = new Uint8Array(footer.length + 8);
    tail.set(footer, 0);
    new DataView(tail.buffer).setUint32(footer.length, footer.length, true);
    tail.set(MAGIC, footer.length + 4);
    await this.emit(tail);
    this.state = 'done';
    this.chunks = null;
  }

  abort(): void {
    this.state = 'done';
    this.chunks = null;
  }

  private encodedBytes(): number {
    let n = 0;
    for (const c of this.chunks ?? []) n += c.encodedBytes;
    return n;
  }

  /** Write the row group in progress: each column chunk whole, in schema order. */
  private async flushGroup(): Promise<void> {
    const chunks = this.chunks ?? [];
    const summaries: ChunkSummary[] = [];
    for (const c of chunks) summaries.push(await c.finish());
    const group: RowGroupMeta = { columns: [], numRows: this.groupRows, offset: this.bytesWritten };
    let at = this.bytesWritten;
    for (const s of summaries) {
      const { bytes, ...summary } = s;
      group.columns.push({ summary, offset: at });
      at += bytes.reduce((n, b) => n + b.length, 0);
    }
    this.groups.push(group);
    this.groupRows = 0;
    // Page headers are tiny and the sink (hashing, uploads) pays per call: small pieces are
    // gathered into one write, large pages go as they are, without another copy.
    let small: Uint8Array[] = [];
    let smallBytes = 0;
    const flushSmall = async (): Promise<void> => {
      if (small.length === 0) return;
      await this.emit(small.length === 1 ? small[0] : Buffer.concat(small, smallBytes));
      small = [];
      smallBytes = 0;
    };
    for (const s of summaries) {
      for (const b of s.bytes) {
        if (b.length >= LARGE_WRITE) {
          await flushSmall();
          await this.emit(b);
        } else {
          small.push(b);
          smallBytes += b.length;
          if (smallBytes >= LARGE_WRITE) await flushSmall();
        }
      }
    }
    await flushSmall();
  }

  private async emit(bytes: Uint8Array): Promise<void> {
    const n = bytes.length;
    await this.sink.write(bytes);
    this.bytesWritten += n;
  }

  private fileMetadata(): ThriftStruct {
    const schemaElements: ThriftValue[] = [
      { type: ThriftType.Struct, value: [f.str(4, 'arrow_schema'), f.i32(5, this.leaves.length)] },
      ...this.leaves.map(
        (leaf): ThriftValue => ({
          type: ThriftType.Struct,
          value: [
            f.i32(1, leaf.physical),
            ...(leaf.typeLength !== undefined ? [f.i32(2, leaf.typeLength)] : []),
            f.i32(3, leaf.required ? 0 : 1),
            f.str(4, leaf.name),
            ...leaf.annotations,
          ],
        }),
      ),
    ];
    const rowGroups: ThriftValue[] = this.groups.map((g, ordinal) => {
      let uncompressed = 0;
      let compressed = 0;
      const columns: ThriftValue[] = g.columns.map(({ summary: s, offset }, i) => {
        uncompressed += s.uncompressedSize;
        compressed += s.compressedSize;
        const meta: ThriftStruct = [
          f.i32(1, this.leaves[i].physical),
          f.list(2, ThriftType.I32, s.encodings.map((e) => ({ type: ThriftType.I32, value: e }) as ThriftValue)),
          f.list(3, ThriftType.Binary, [{ type: ThriftType.Binary, value: Buffer.from(this.leaves[i].name, 'utf8') }]),
          f.i32(4, this.compressor.codec.thriftCodec),
          f.i64(5, s.numValues),
          f.i64(6, s.uncompressedSize),
          f.i64(7, s.compressedSize),
          f.i64(9, offset + s.dataPageOffset),
          ...(s.dictionaryPageOffset !== null ? [f.i64(11, offset + s.dictionaryPageOffset)] : []),
          f.struct(12, s.statistics),
        ];
        return { type: ThriftType.Struct, value: [f.i64(2, offset), f.struct(3, meta)] };
      });
      return {
        type: ThriftType.Struct,
        value: [f.list(1, ThriftType.Struct, columns), f.i64(2, uncompressed), f.i64(3, g.numRows), f.i64(5, g.offset), f.i64(6, compressed), f.i16(7, ordinal)],
      };
    });
    const numRows = this.groups.reduce((n, g) => n + g.numRows, 0);
    const typeDefinedOrder: ThriftValue = { type: ThriftType.Struct, value: [f.struct(1, [])] };
    return [
      f.i32(1, 1),
      f.list(2, ThriftType.Struct, schemaElements),
      f.i64(3, numRows),
      f.list(4, ThriftType.Struct, rowGroups),
      f.list(5, ThriftType.Struct, [{ type: ThriftType.Struct, value: [f.str(1, 'ARROW:schema'), f.str(2, arrowSchemaMetadata(this.schema))] }]),
      f.str(6, 'rivet'),
      f.list(7, ThriftType.Struct, this.leaves.map(() => typeDefinedOrder)),
    ];
  }

}

/**
 * The Arrow schema as arrow-rs stores it in the footer: base64 of the IPC schema message
 * (continuation marker, length, flatbuffer), which pyarrow reads to restore time zones,
 * field metadata and extension types.
 */
function arrowSchemaMetadata(schema: Schema): string {
  const ipc = tableToIPC(new Table(schema), 'stream');
  const view = new DataView(ipc.buffer, ipc.byteOffset, ipc.byteLength);
  const continuation = view.getInt32(0, true) === -1;
  const length = view.getInt32(continuation ? 4 : 0, true);
  const end = (continuation ? 8 : 4) + length;
  return Buffer.from(ipc.subarray(0, end)).toString('base64');
}

