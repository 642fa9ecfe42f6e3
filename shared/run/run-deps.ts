import type { Logger } from '../log/logger.js';
import type { QualityConfig } from '../quality/quality-tracker.js';
import type { SlackConfig } from '../notify/slack-notifier.js';
import type { RowGroupPolicy } from '../format/row-group-limits.js';
import type { OpenSource, SourceConnection } from '../source/source.js';
import type { Lookback } from '../source/sql-dialect.js';
import type { Destination } from '../destination/destination.js';
import type { DestinationTarget } from '../destination/registry.js';
import type { StateStore } from '../state/state-store.js';
import type { Compression, FileFormat } from '../format/format-writer.js';
import type { Mode } from './run-plan.js';
import type { ChunkSettings } from './chunk-settings.js';
import type { PartitionSpec } from './partitions.js';

/** One export of the config, resolved for a run: everything the three phases need to know. */
export interface ResolvedExport {
  name: string;
  mode: Mode;
  format: FileFormat;
  compression: Compression;
  compressionLevel?: number;
  rowGroupRows?: number;
  /** The `parquet:` block, when the export has one (row groups by its rules, not rivet's defaults). */
  rowGroup?: RowGroupPolicy;
  skipEmpty: boolean;
  /** `max_file_size` in bytes: roll to a new part past it. */
  maxFileSize?: number;
  /** The base query (params substituted). */
  sql: string;
  table?: { schema?: string; name: string };
  connection: SourceConnection;
  columnOverrides: Record<string, string>;
  tuning: {
    profile: string;
    profileLabel: string;
    batchSize: number;
    /** `batch_size_memory_mb`: the byte budget of one batch; null = the source default (8 MiB). */
    batchMemoryMb?: number | null;
    throttleMs: number;
    statementTimeoutS: number;
    lockTimeoutS: number;
    maxRetries: number;
    retryBackoffMs: number;
    maxValueMb: number;
    /** `memory_threshold_mb`: the RSS guard before each chunk of a chunked export; 0 = off. */
    memoryThresholdMb?: number;
    /** `max_batch_memory_mb`: the cap on one batch's Arrow bytes; null = none. */
    maxBatchMemoryMb?: number | null;
    /** What a batch over that cap does (batch-memory-cap.ts). */
    onBatchMemoryExceeded?: 'warn' | 'fail' | 'auto_shrink';
    /** `adaptive`: batch sizes and (chunked, parallel > 1) concurrency follow the source's pressure. */
    adaptive?: boolean;
    /** `min_parallel`: the floor adaptive concurrency never goes below (default 1). */
    minParallel?: number | null;
  };
  /** `verify: content`: every part is read back from the destination and its rows and per-column nulls checked before commit. */
  verifyContent?: boolean;
  /** Destination with placeholders still in it; the planner expands them once per run. */
  destination: DestinationTarget;
  /**
   * `mode: incremental`: the cursor column and, for `incremental_cursor_mode: coalesce`, its
   * fallback; `cursor_lookback` and `cursor_key_columns` (see cursor-boundary.ts).
   */
  incremental?: { cursorColumn: string; fallbackColumn?: string; lookback?: Lookback; keyColumns?: string[] };
  /** `mode: time_window`: rows whose time column is on or after UTC midnight `daysWindow` days ago. */
  timeWindow?: { column: string; columnType: 'timestamp' | 'unix'; daysWindow: number };
  /** `meta_columns:` appended after the source columns of every batch. */
  metaColumns: { exportedAt: boolean; rowHash: boolean };
  /** `quality:` checks (run-verdict.ts). */
  quality?: QualityConfig;
  /** `on_schema_drift` and `shape_drift_warn_factor`. */
  schemaDrift?: { policy: 'warn' | 'continue' | 'fail'; shapeFactor: number };
  /** The config's `notifications.slack`, sent after each run of the export. */
  slack?: SlackConfig;
  /** Tasks exported at once (`parallel`); 1 outside chunked mode. */
  parallel: number;
  /** `mode: chunked` settings. */
  chunk?: ChunkSettings;
  /**
   * `partition_by`: on the parent, what to split by (it is never planned itself); on a child,
   * also its bucket — its `sql` is then already restricted to it and its `{partition}` filled in.
   */
  partition?: PartitionSpec;
}

/** Progress reported by workers while they stream (in-process drivers only). */
export interface ProgressEvent {
  runId: string;
  exportName: string;
  taskIndex: number;
  /** Rows added since the previous event. */
  rowsDelta: number;
}

/**
 * The side effects of a run, behind small functions. Handlers build these once per
 * process (or Lambda container); tests build them around real services.
 */
export interface RunDeps {
  resolveExport(exportName: string, params: Record<string, string>): Promise<ResolvedExport>;
  openSource: OpenSource;
  openDestination(target: DestinationTarget): Promise<Destination>;
  state: StateStore;
  log: Logger;
  now(): Date;
  onProgress?(event: ProgressEvent): void;
}
