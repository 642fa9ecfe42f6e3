import type { SqliteMigration } from './sqlite-migration.js';

/**
 * The SQLite state schema, v7: every step as first released. A step is never edited once
 * released (files written by earlier versions must keep opening); a change is a new version.
 * Versions are shared with PostgreSQL (postgres/pg-schema.ts); v4 was never used.
 */
export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  // v1, run history and cursors: the reference tool's tables and columns (its migration v8), so the same queries read its `.rivet_state.db` and ours.
  {
    version: 1,
    sql: `
      CREATE TABLE IF NOT EXISTS export_state (
        export_name TEXT PRIMARY KEY, last_cursor_value TEXT, last_run_at TEXT);
      CREATE TABLE IF NOT EXISTS export_metrics (
        id INTEGER PRIMARY KEY AUTOINCREMENT, export_name TEXT NOT NULL, run_at TEXT NOT NULL,
        duration_ms INTEGER NOT NULL, total_rows INTEGER NOT NULL, peak_rss_mb INTEGER,
        status TEXT NOT NULL, error_message TEXT, tuning_profile TEXT, format TEXT, mode TEXT,
        files_produced INTEGER DEFAULT 0, bytes_written INTEGER DEFAULT 0, retries INTEGER DEFAULT 0,
        validated INTEGER, schema_changed INTEGER, run_id TEXT);
      CREATE TABLE IF NOT EXISTS export_schema (
        export_name TEXT PRIMARY KEY, columns_json TEXT NOT NULL, updated_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS file_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, export_name TEXT NOT NULL,
        file_name TEXT NOT NULL, row_count INTEGER NOT NULL, bytes INTEGER NOT NULL,
        format TEXT NOT NULL, compression TEXT, created_at TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS idx_file_log_export ON file_log(export_name, id DESC);
      CREATE TABLE IF NOT EXISTS run_journal (
        run_id TEXT PRIMARY KEY, export_name TEXT NOT NULL, finished_at TEXT NOT NULL, journal_json TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS idx_run_journal_export ON run_journal(export_name, finished_at DESC);
    `,
  },
  // v2, progression: the reference's columns.
  {
    version: 2,
    sql: `
      CREATE TABLE IF NOT EXISTS export_progression (
        export_name TEXT PRIMARY KEY,
        last_committed_strategy TEXT, last_committed_cursor TEXT, last_committed_chunk_index INTEGER,
        last_committed_run_id TEXT, last_committed_at TEXT,
        last_verified_strategy TEXT, last_verified_cursor TEXT, last_verified_chunk_index INTEGER,
        last_verified_run_id TEXT, last_verified_at TEXT);
    `,
  },
  // v3, chunk checkpoints: the reference's tables; `prefix` is ours.
  {
    version: 3,
    sql: `
      CREATE TABLE IF NOT EXISTS chunk_run (
        run_id TEXT PRIMARY KEY, export_name TEXT NOT NULL, plan_hash TEXT NOT NULL,
        status TEXT NOT NULL, max_chunk_attempts INTEGER NOT NULL DEFAULT 3,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, prefix TEXT);
      CREATE INDEX IF NOT EXISTS idx_chunk_run_export ON chunk_run(export_name, status);
      CREATE TABLE IF NOT EXISTS chunk_task (
        id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, chunk_index INTEGER NOT NULL,
        start_key TEXT NOT NULL, end_key TEXT NOT NULL, status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, rows_written INTEGER, file_name TEXT,
        updated_at TEXT NOT NULL, UNIQUE(run_id, chunk_index));
    `,
  },
  // v5, run leases: rivet's own table.
  {
    version: 5,
    sql: `
      CREATE TABLE IF NOT EXISTS run_lease (
        export_name TEXT PRIMARY KEY, run_id TEXT NOT NULL, token TEXT NOT NULL,
        host TEXT NOT NULL, pid INTEGER, acquired_at TEXT NOT NULL, expires_at TEXT NOT NULL);
    `,
  },
  // v6, the rows at the edge of each incremental cursor (cursor-store.ts `CursorBoundary`).
  {
    version: 6,
    sql: `
      CREATE TABLE IF NOT EXISTS export_cursor_boundary (
        export_name TEXT PRIMARY KEY, cursor TEXT NOT NULL, since TEXT NOT NULL, identity TEXT NOT NULL,
        ids BLOB NOT NULL, run_id TEXT NOT NULL, updated_at TEXT NOT NULL);
    `,
  },
  // v7, one row per multi-export `rivet run` (the reference's migration v5).
  {
    version: 7,
    sql: `
      CREATE TABLE IF NOT EXISTS run_aggregate (
        run_aggregate_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT NOT NULL, duration_ms INTEGER NOT NULL,
        config_path TEXT, parallel_mode TEXT, total_exports INTEGER NOT NULL, success_count INTEGER NOT NULL,
        failed_count INTEGER NOT NULL, skipped_count INTEGER NOT NULL, total_rows INTEGER NOT NULL, total_files INTEGER NOT NULL,
        total_bytes INTEGER NOT NULL, details_json TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS idx_run_aggregate_finished ON run_aggregate(finished_at DESC);
    `,
  },
];
