import type { RecordBatch, Schema } from 'apache-arrow';
import type { RowGroupPolicy } from './row-group-limits.js';

/** Where encoded bytes go. `write` resolves when the sink can take more (backpressure). */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void>;
}

export type FileFormat = 'parquet' | 'csv';
export type Compression = 'zstd' | 'snappy' | 'gzip' | 'lz4' | 'none';

export interface FormatOptions {
  compression: Compression;
  /** zstd 1..22, gzip 0..10; undefined = codec default (zstd 3, gzip 6). */
  compressionLevel?: number;
  /** Rows per Parquet row group; undefined = writer default. Ignored when `rowGroup` is set. */
  rowGroupRows?: number;
  /** The export's `parquet:` block; the limits it gives come from `rowGroupLimits`. */
  rowGroup?: RowGroupPolicy;
  /** Where a writer reports, once per key, that it cannot honour an option. */
  warnOnce?: (key: string, message: string) => void;
}

/**
 * Batches in, bytes out. A writer is created for one file and one schema; `finish` writes
 * the footer (Parquet) and releases every buffer, wasm memory included. After `finish` or
 * `abort` the writer must not be used.
 */
export interface FormatWriter {
  readonly format: FileFormat;
  readonly extension: 'parquet' | 'csv';
  /** Once this resolves the writer holds no view of the batch's memory: the caller may reuse it. */
  write(batch: RecordBatch): Promise<void>;
  /**
   * CSV only: records already rendered in this file's dialect (no header), `rows` of them,
   * handed on as they are (ADR 0009). The writer may keep `bytes`.
   */
  writeRendered?(bytes: Uint8Array, rows: number): Promise<void>;
  finish(): Promise<void>;
  /** Release resources without producing a valid file. Never throws. */
  abort(): void;
  /** Bytes handed to the sink so far. */
  readonly bytesWritten: number;
  readonly rowsWritten: number;
}

export type CreateFormatWriter = (schema: Schema, sink: ByteSink, options: FormatOptions) => Promise<FormatWriter>;
