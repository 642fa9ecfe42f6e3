import type { CursorStore } from './cursor-store.js';
import type { ChunkStore } from './chunk-store.js';
import type { LeaseStore } from './lease-store.js';

/**
 * What must survive between runs. The record of what a run WROTE lives at the destination
 * (receipts + manifest); the store keeps history (metrics, file log, journal) and, later,
 * cursors and chunk checkpoints. SQLite is the default; Postgres and DynamoDB implement the
 * same interface.
 */
export interface RunMetrics {
  runId: string;
  exportName: string;
  durationMs: number;
  totalRows: number;
  peakRssMb: number;
  status: 'success' | 'failed' | 'skipped';
  errorMessage: string | null;
  tuningProfile: string;
  format: 'parquet' | 'csv';
  mode: string;
  filesProduced: number;
  bytesWritten: number;
  retries: number;
  /** Whether the run's columns differ from the last successful run's; null when not judged (chunked, no rows). */
  schemaChanged?: boolean | null;
}

/** One multi-export `rivet run` (docs/reference/state.md): the `--json` aggregate, as stored. */
export interface RunAggregateRecord {
  run_aggregate_id: string;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  config_path: string;
  parallel_mode: string;
  total_exports: number;
  success_count: number;
  failed_count: number;
  skipped_count: number;
  total_rows: number;
  total_files: number;
  total_bytes: number;
  /** Per-export entries (`details_json`). */
  per_export: Record<string, unknown>[];
}

export interface FileRecord {
  runId: string;
  exportName: string;
  fileName: string;
  rowCount: number;
  bytes: number;
  format: 'parquet' | 'csv';
  compression: string;
}

export interface JournalEntry {
  recorded_at: string;
  event: Record<string, unknown>;
}

export interface RunJournal {
  run_id: string;
  export_name: string;
  entries: JournalEntry[];
}

export interface MetricsRow extends RunMetrics {
  id: number;
  runAt: string;
  /** Verdict of `rivet run --validate` for this run; null when it was not requested. */
  validated: boolean | null;
  schemaChanged: boolean | null;
}

/** Run history: one metrics row per run, the files written, the journal. */
export interface HistoryStore {
  recordMetrics(m: RunMetrics): Promise<void>;
  recordFiles(files: FileRecord[]): Promise<void>;
  saveJournal(journal: RunJournal): Promise<void>;
  recentMetrics(options?: { exportName?: string; limit?: number }): Promise<MetricsRow[]>;
  recentFiles(options?: { exportName?: string; limit?: number }): Promise<(FileRecord & { createdAt: string })[]>;
  getJournal(runId: string): Promise<RunJournal | null>;
  /** The export's latest journals, newest first (`rivet journal`). */
  recentJournals(exportName: string, limit: number): Promise<RunJournal[]>;
  /** Store the `--validate` verdict on the run's metrics row (written by finalize before the check ran). */
  markValidated(runId: string, passed: boolean): Promise<void>;
  /** A multi-export run's aggregate (`run_aggregate`); an id already stored is an error. */
  recordAggregate(a: RunAggregateRecord): Promise<void>;
  /** The latest aggregates, newest first. */
  recentAggregates(limit: number): Promise<RunAggregateRecord[]>;
}

/**
 * Everything a backend implements: each concern is its own interface (and, for SQLite,
 * its own module under ./sqlite/), composed here.
 */
export interface StateStore extends HistoryStore, CursorStore, ChunkStore, LeaseStore {
  readonly kind: 'sqlite' | 'postgres' | 'dynamodb';
  close(): Promise<void>;
}
