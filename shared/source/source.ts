import type { RecordBatch, Schema } from 'apache-arrow';
import type { BufferPool } from './buffer-pool.js';
import type { Logger } from '../log/logger.js';
import type { SourceEngine } from './registry.js';
import type { SqlDialect } from './sql-dialect.js';

export type { SourceEngine } from './registry.js';

export interface TlsOptions {
  mode: 'disable' | 'require' | 'verify-ca' | 'verify-full';
  ca_file?: string;
  accept_invalid_certs?: boolean;
  accept_invalid_hostnames?: boolean;
}

/** What a Source needs to connect. The URL carries credentials: never log it unredacted. */
export interface SourceConnection {
  engine: SourceEngine;
  url: string;
  tls?: TlsOptions;
}

export interface ReadOptions {
  /** Upper bound on rows per batch. */
  batchSize: number;
  /**
   * Byte budget of one batch in MiB (`tuning.batch_size_memory_mb`); batches are cut by
   * rows and by bytes (see batch-sizing.ts). Unset: 8 MiB.
   */
  batchMemoryMb?: number | null;
  /** Sleep between full batches, to be gentle on the source. */
  throttleMs?: number;
  /** 0 = none. */
  statementTimeoutS?: number;
  /** 0 = none. */
  lockTimeoutS?: number;
  /** Single-cell ceiling in MiB for text/binary values; 0 disables. */
  maxValueMb?: number;
  /** Stops the read (and releases the server-side cursor) when it fires. */
  signal?: AbortSignal;
  /**
   * Asked before each later batch is cut: it takes at most this many rows. The caller lowers
   * (or raises, never past `batchSize`) it while the read runs: `on_batch_memory_exceeded:
   * auto_shrink` after a batch over `max_batch_memory_mb`, and `adaptive: true` as the
   * source's pressure rises or eases (batch-controls.ts).
   */
  rowCeiling?: () => number;
  /**
   * Memory for the batches' columns, recycled: the caller hands each batch back
   * (`BufferPool.giveBatch`) once nothing uses it any more. Engines that do not build their
   * own column buffers ignore it.
   */
  bufferPool?: BufferPool;
}

/**
 * The seam every database engine implements (one folder per engine under shared/source/).
 * Rows never leave a Source as JavaScript objects: `read` yields Arrow record batches of at
 * most `batchSize` rows, all with the schema `describe` announced.
 *
 * Schema fields carry metadata: `rivet.native_type` (engine type name), `rivet.fidelity`
 * (exact | compatible | logical_string | lossy | unsupported) and, for json/uuid/enum/
 * interval, `rivet.logical_type`. Every field is nullable.
 */
export interface Source {
  readonly engine: SourceEngine;
  /** The SQL the export modes send to this engine (chunk predicates, cursor windows, counts). */
  readonly dialect: SqlDialect;
  /** Column names and Arrow types of a query's result, without fetching rows. */
  describe(sql: string): Promise<Schema>;
  /** Stream the query's rows as Arrow record batches. */
  read(sql: string, options: ReadOptions): AsyncIterable<RecordBatch>;
  /** Quote an identifier the way this engine wants it. */
  quoteIdent(name: string): string;
  /** Does this `name` or `schema.name` exist as a table or view? */
  tableExists(table: string): Promise<boolean>;
  /**
   * The engine's pressure counter (docs/modes.md), for `adaptive: true`: a cumulative server-wide count
   * that rises when the server spills or waits for memory. Null when it cannot be read. Never
   * called on a source that is reading.
   */
  pressure?(): Promise<number | null>;
  close(): Promise<void>;
}

export interface OpenSourceOptions {
  connection: SourceConnection;
  /** `exports[].columns` overrides: column name → type string (docs/reference/types.md). */
  columnOverrides?: Record<string, string>;
  log: Logger;
}

export type OpenSource = (options: OpenSourceOptions) => Promise<Source>;
