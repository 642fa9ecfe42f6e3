import { type RecordBatch, type Schema } from 'apache-arrow';
import { RivetError } from '../errors/rivet-error.js';
import { ByteBuffer } from './byte-buffer.js';
import { csvColumnRenderer, type CsvColumnRenderer } from './csv-column-renderer.js';
import type { ByteSink, CreateFormatWriter, FormatWriter } from './format-writer.js';
import { sameArrowType } from './same-arrow-type.js';

/**
 * Bytes gathered before a write to the sink: large enough that per-write overhead (and
 * multipart bookkeeping downstream) is negligible, small enough to stay cache-friendly.
 */
const CHUNK_BYTES = 1024 * 1024;

/**
 * CSV per docs/reference/types.md. Never compressed: the compression options are ignored on purpose (the
 * manifest still reports the configured label). Unsupported column types fail here, at
 * creation, so no partial file is ever started.
 */
export const createCsvWriter: CreateFormatWriter = async (schema, sink) => new CsvWriter(schema, sink);

class CsvWriter implements FormatWriter {
  readonly format = 'csv' as const;
  readonly extension = 'csv' as const;
  bytesWritten = 0;
  rowsWritten = 0;

  private readonly renderers: CsvColumnRenderer[];
  private out = new ByteBuffer(CHUNK_BYTES + 64 * 1024);
  private state: 'open' | 'done' = 'open';

  constructor(
    private readonly schema: Schema,
    private readonly sink: ByteSink,
  ) {
    this.renderers = schema.fields.map((f) => csvColumnRenderer(f));
    // Header names are written as they are, unquoted (docs/reference/types.md).
    const header = new TextEncoder().encode(`${schema.fields.map((f) => f.name).join(',')}\n`);
    this.out.bytes(header, 0, header.length);
  }

  async write(batch: RecordBatch): Promise<void> {
    if (this.state !== 'open') throw new RivetError('INTERNAL', 'CSV writer used after finish or abort');
    this.checkSchema(batch);
    const cells = this.renderers.map((render, c) => render(batch.data.children[c]));
    const last = cells.length - 1;
    const out = this.out;
    for (let i = 0; i < batch.numRows; i++) {
      for (let c = 0; c <= last; c++) {
        cells[c](i, out);
        out.byte(c === last ? 0x0a : 0x2c);
      }
      if (out.length >= CHUNK_BYTES) await this.flush();
    }
    this.rowsWritten += batch.numRows;
  }

  async writeRendered(bytes: Uint8Array, rows: number): Promise<void> {
    if (this.state !== 'open') throw new RivetError('INTERNAL', 'CSV writer used after finish or abort');
    await this.flush();
    await this.sink.write(bytes);
    this.bytesWritten += bytes.length;
    this.rowsWritten += rows;
  }

  async finish(): Promise<void> {
    if (this.state !== 'open') throw new RivetError('INTERNAL', 'CSV writer finished twice or after abort');
    await this.flush();
    this.state = 'done';
  }

  abort(): void {
    this.state = 'done';
    this.out = new ByteBuffer(16);
  }

  private async flush(): Promise<void> {
    if (this.out.length === 0) return;
    const chunk = this.out.take();
    await this.sink.write(chunk);
    this.bytesWritten += chunk.length;
  }

  private checkSchema(batch: RecordBatch): void {
    const want = this.schema.fields;
    const got = batch.schema.fields;
    if (got.length !== want.length || !want.every((f, i) => sameArrowType(f.type, got[i].type))) {
      throw new RivetError('INTERNAL', 'batch schema does not match the CSV file schema');
    }
  }
}
