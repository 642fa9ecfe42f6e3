import type { FileRecord, HistoryStore, MetricsRow, RunJournal, RunMetrics } from '../state-store.js';
import { AGGREGATE_COLUMNS, aggregateFromRow, aggregateValues } from '../sqlite/history.js';
import type { PgStateDb } from './pg-state-db.js';
import type { PgMigration } from './pg-state-migration.js';

/**
 * Run history on PostgreSQL: the SQLite tables and columns (spec 05 §3), with the
 * reference's PG types (BIGSERIAL ids, BIGINT counters, BOOLEAN flags). `run_journal.seq`
 * is ours: it orders journals saved within the same millisecond, as SQLite's rowid does.
 */
export const PG_HISTORY_MIGRATION: PgMigration = {
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
};

/** `run_aggregate` (spec 05 §3.8), with BIGINT counters. */
export const PG_AGGREGATE_MIGRATION: PgMigration = {
  version: 7,
  sql: `
    CREATE TABLE IF NOT EXISTS {{s}}.run_aggregate (
      run_aggregate_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT NOT NULL, duration_ms BIGINT NOT NULL,
      config_path TEXT, parallel_mode TEXT, total_exports BIGINT NOT NULL, success_count BIGINT NOT NULL,
      failed_count BIGINT NOT NULL, skipped_count BIGINT NOT NULL, total_rows BIGINT NOT NULL, total_files BIGINT NOT NULL,
      total_bytes BIGINT NOT NULL, details_json TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS idx_run_aggregate_finished ON {{s}}.run_aggregate(finished_at DESC);
  `,
};

const FILE_COLUMNS = 8;
/** Rows per INSERT: keeps a statement far below PostgreSQL's 65 535 bind parameters. */
const FILES_PER_STATEMENT = 1000;

function limitOf(limit: number): number {
  return Math.max(0, Math.trunc(limit));
}

function metricsRow(r: Record<string, unknown>): MetricsRow {
  return {
    id: Number(r.id),
    runAt: String(r.run_at),
    runId: String(r.run_id ?? ''),
    exportName: String(r.export_name),
    durationMs: Number(r.duration_ms),
    totalRows: Number(r.total_rows),
    peakRssMb: Number(r.peak_rss_mb ?? 0),
    status: r.status as MetricsRow['status'],
    errorMessage: (r.error_message as string | null) ?? null,
    tuningProfile: String(r.tuning_profile ?? ''),
    format: r.format as MetricsRow['format'],
    mode: String(r.mode ?? ''),
    filesProduced: Number(r.files_produced ?? 0),
    bytesWritten: Number(r.bytes_written ?? 0),
    retries: Number(r.retries ?? 0),
    validated: r.validated === null || r.validated === undefined ? null : Boolean(r.validated),
    schemaChanged: r.schema_changed === null || r.schema_changed === undefined ? null : Boolean(r.schema_changed),
  };
}

export function pgHistory(db: PgStateDb): HistoryStore {
  const now = () => new Date().toISOString();
  const byExport = (exportName: string | undefined, first: number) => (exportName ? `WHERE export_name = $${first}` : '');

  return {
    async recordMetrics(m: RunMetrics) {
      await db.query(
        `INSERT INTO ${db.t('export_metrics')}
          (export_name, run_at, duration_ms, total_rows, peak_rss_mb, status, error_message, tuning_profile, format, mode,
           files_produced, bytes_written, retries, run_id, schema_changed)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
        [m.exportName, now(), m.durationMs, m.totalRows, m.peakRssMb, m.status, m.errorMessage, m.tuningProfile, m.format, m.mode,
          m.filesProduced, m.bytesWritten, m.retries, m.runId, m.schemaChanged ?? null],
      );
    },
    async recordFiles(files: FileRecord[]) {
      if (files.length === 0) return;
      const createdAt = now();
      await db.tx(async (q) => {
        for (let at = 0; at < files.length; at += FILES_PER_STATEMENT) {
          const batch = files.slice(at, at + FILES_PER_STATEMENT);
          const params: unknown[] = [];
          const values = batch.map((f, i) => {
            params.push(f.runId, f.exportName, f.fileName, f.rowCount, f.bytes, f.format, f.compression, createdAt);
            const b = i * FILE_COLUMNS;
            return `(${Array.from({ length: FILE_COLUMNS }, (_, k) => `$${b + k + 1}`).join(', ')})`;
          });
          // One multi-row VALUES list: ids are assigned in list order, so `ORDER BY id` keeps the files' order.
          await q(
            `INSERT INTO ${db.t('file_log')} (run_id, export_name, file_name, row_count, bytes, format, compression, created_at)
             VALUES ${values.join(', ')}`,
            params,
          );
        }
      });
    },
    async saveJournal(j: RunJournal) {
      // A resumed run adopts its run id: its journal replaces the earlier one and moves to the front.
      await db.query(
        `INSERT INTO ${db.t('run_journal')} (run_id, export_name, finished_at, journal_json) VALUES ($1, $2, $3, $4)
         ON CONFLICT (run_id) DO UPDATE SET export_name = EXCLUDED.export_name, finished_at = EXCLUDED.finished_at,
           journal_json = EXCLUDED.journal_json, seq = nextval('${db.t('run_journal_seq')}')`,
        [j.run_id, j.export_name, now(), JSON.stringify(j)],
      );
    },
    async recentMetrics({ exportName, limit = 20 } = {}) {
      const r = await db.query(
        `SELECT * FROM ${db.t('export_metrics')} ${byExport(exportName, 1)} ORDER BY id DESC LIMIT ${limitOf(limit)}`,
        exportName ? [exportName] : [],
      );
      return r.rows.map(metricsRow);
    },
    async recentFiles({ exportName, limit = 50 } = {}) {
      const r = await db.query(
        `SELECT * FROM ${db.t('file_log')} ${byExport(exportName, 1)} ORDER BY id DESC LIMIT ${limitOf(limit)}`,
        exportName ? [exportName] : [],
      );
      return r.rows.map((row) => ({
        runId: String(row.run_id),
        exportName: String(row.export_name),
        fileName: String(row.file_name),
        rowCount: Number(row.row_count),
        bytes: Number(row.bytes),
        format: row.format as FileRecord['format'],
        compression: String(row.compression ?? ''),
        createdAt: String(row.created_at),
      }));
    },
    async getJournal(runId) {
      const r = await db.query<{ journal_json: string }>(`SELECT journal_json FROM ${db.t('run_journal')} WHERE run_id = $1`, [runId]);
      return r.rows[0] ? (JSON.parse(r.rows[0].journal_json) as RunJournal) : null;
    },
    async recentJournals(exportName, limit) {
      const r = await db.query<{ journal_json: string }>(
        `SELECT journal_json FROM ${db.t('run_journal')} WHERE export_name = $1 ORDER BY finished_at DESC, seq DESC LIMIT $2`,
        [exportName, limitOf(limit)],
      );
      return r.rows.map((row) => JSON.parse(row.journal_json) as RunJournal);
    },
    async markValidated(runId, passed) {
      await db.query(`UPDATE ${db.t('export_metrics')} SET validated = $1 WHERE run_id = $2`, [passed, runId]);
    },
    async recordAggregate(a) {
      const values = aggregateValues(a);
      await db.query(`INSERT INTO ${db.t('run_aggregate')} (${AGGREGATE_COLUMNS}) VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})`, values);
    },
    async recentAggregates(limit) {
      const r = await db.query(`SELECT * FROM ${db.t('run_aggregate')} ORDER BY finished_at DESC, run_aggregate_id DESC LIMIT ${limitOf(limit)}`);
      return r.rows.map(aggregateFromRow);
    },
  };
}
