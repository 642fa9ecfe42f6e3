import type { PgMigration } from './pg-state-migration.js';

/**
 * The PostgreSQL state schema, v7: SQLite's tables (sqlite/sqlite-schema.ts) with the same
 * versions, in their own schema; `{{s}}` stands for the quoted schema name. A step is never
 * edited once released; a change is a new version.
 */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  // v1: the SQLite tables with the reference's PG types (BIGSERIAL ids, BIGINT counters, BOOLEAN flags); `run_journal.seq` orders journals saved within the same millisecond, as SQLite's rowid does.
  {
    version: 1,
    sql: `
    CREATE TABLE IF NOT EXISTS {{s}}.export_state (
      export_name TEXT PRIMARY KEY, last_cursor_value TEXT, last_run_at TEXT);
    CREATE TABLE IF NOT EXISTS {{s}}.export_metrics (
      id BIGSERIAL PRIMARY KEY, export_name TEXT NOT NULL, run_at TEXT NOT NULL,
      duration_ms BIGINT NOT NULL, total_rows BIGINT NOT NULL, peak_rss_mb BIGINT,
      status TEXT NOT NULL, error_message TEXT, tuning_profile TEXT, format TEXT, mode TEXT,
      files_produced BIGINT DEFAULT 0, bytes_written BIGINT DEFAULT 0, retries BIGINT DEFAULT 0,
      validated BOOLEAN, schema_changed BOOLEAN, run_id TEXT);
    CREATE INDEX IF NOT EXISTS idx_export_metrics_export ON {{s}}.export_metrics(export_name, id DESC);
    CREATE INDEX IF NOT EXISTS idx_export_metrics_run ON {{s}}.export_metrics(run_id);
    CREATE TABLE IF NOT EXISTS {{s}}.export_schema (
      export_name TEXT PRIMARY KEY, columns_json TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS {{s}}.file_log (
      id BIGSERIAL PRIMARY KEY, run_id TEXT NOT NULL, export_name TEXT NOT NULL,
      file_name TEXT NOT NULL, row_count BIGINT NOT NULL, bytes BIGINT NOT NULL,
      format TEXT NOT NULL, compression TEXT, created_at TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS idx_file_log_export ON {{s}}.file_log(export_name, id DESC);
    CREATE SEQUENCE IF NOT EXISTS {{s}}.run_journal_seq;
    CREATE TABLE IF NOT EXISTS {{s}}.run_journal (
      run_id TEXT PRIMARY KEY, export_name TEXT NOT NULL, finished_at TEXT NOT NULL, journal_json TEXT NOT NULL,
      seq BIGINT NOT NULL DEFAULT nextval('{{s}}.run_journal_seq'));
    CREATE INDEX IF NOT EXISTS idx_run_journal_export ON {{s}}.run_journal(export_name, finished_at DESC, seq DESC);
  `,
  },
  // v2, progression.
  {
    version: 2,
    sql: `
    CREATE TABLE IF NOT EXISTS {{s}}.export_progression (
      export_name TEXT PRIMARY KEY,
      last_committed_strategy TEXT, last_committed_cursor TEXT, last_committed_chunk_index BIGINT,
      last_committed_run_id TEXT, last_committed_at TEXT,
      last_verified_strategy TEXT, last_verified_cursor TEXT, last_verified_chunk_index BIGINT,
      last_verified_run_id TEXT, last_verified_at TEXT);
  `,
  },
  // v3, chunk checkpoints: `seq` breaks ties between runs created in the same millisecond (SQLite's rowid); the partial unique index allows one in_progress run per export.
  {
    version: 3,
    sql: `
    CREATE TABLE IF NOT EXISTS {{s}}.chunk_run (
      run_id TEXT PRIMARY KEY, export_name TEXT NOT NULL, plan_hash TEXT NOT NULL,
      status TEXT NOT NULL, max_chunk_attempts BIGINT NOT NULL DEFAULT 3,
      created_at TEXT NOT NULL, updated_at TEXT NOT NULL, prefix TEXT, seq BIGSERIAL NOT NULL);
    CREATE INDEX IF NOT EXISTS idx_chunk_run_export_status ON {{s}}.chunk_run(export_name, status);
    CREATE UNIQUE INDEX IF NOT EXISTS ux_chunk_run_one_in_progress ON {{s}}.chunk_run(export_name) WHERE status = 'in_progress';
    CREATE TABLE IF NOT EXISTS {{s}}.chunk_task (
      id BIGSERIAL PRIMARY KEY, run_id TEXT NOT NULL, chunk_index BIGINT NOT NULL,
      start_key TEXT NOT NULL, end_key TEXT NOT NULL, status TEXT NOT NULL,
      attempts BIGINT NOT NULL DEFAULT 0, last_error TEXT, rows_written BIGINT, file_name TEXT,
      updated_at TEXT NOT NULL, UNIQUE (run_id, chunk_index));
    CREATE INDEX IF NOT EXISTS idx_chunk_task_run_status ON {{s}}.chunk_task(run_id, status);
  `,
  },
  // v5, run leases.
  {
    version: 5,
    sql: `
    CREATE TABLE IF NOT EXISTS {{s}}.run_lease (
      export_name TEXT PRIMARY KEY, run_id TEXT NOT NULL, token TEXT NOT NULL,
      host TEXT NOT NULL, pid BIGINT, acquired_at TEXT NOT NULL, expires_at TEXT NOT NULL);
  `,
  },
  // v6, cursor boundaries.
  {
    version: 6,
    sql: `
    CREATE TABLE IF NOT EXISTS {{s}}.export_cursor_boundary (
      export_name TEXT PRIMARY KEY, cursor TEXT NOT NULL, since TEXT NOT NULL, identity TEXT NOT NULL,
      ids BYTEA NOT NULL, run_id TEXT NOT NULL, updated_at TEXT NOT NULL);
  `,
  },
  // v7, `run_aggregate` with BIGINT counters.
  {
    version: 7,
    sql: `
    CREATE TABLE IF NOT EXISTS {{s}}.run_aggregate (
      run_aggregate_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT NOT NULL, duration_ms BIGINT NOT NULL,
      config_path TEXT, parallel_mode TEXT, total_exports BIGINT NOT NULL, success_count BIGINT NOT NULL,
      failed_count BIGINT NOT NULL, skipped_count BIGINT NOT NULL, total_rows BIGINT NOT NULL, total_files BIGINT NOT NULL,
      total_bytes BIGINT NOT NULL, details_json TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS idx_run_aggregate_finished ON {{s}}.run_aggregate(finished_at DESC);
  `,
  },
];
