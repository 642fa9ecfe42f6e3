import type Database from 'better-sqlite3';
import type { FileRecord, HistoryStore, MetricsRow, RunAggregateRecord, RunJournal, RunMetrics } from '../state-store.js';
import type { SqliteMigration } from './sqlite-migration.js';

/**
 * Run history: metrics, file log, journal. Tables and column names follow the reference
 * tool's schema (its migration v8), so the same queries read its `.rivet_state.db` and ours.
 */
export const HISTORY_MIGRATION: SqliteMigration = {
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
};

/** One row per multi-export `rivet run` (spec 05 §3.8; the reference's migration v5). */
export const AGGREGATE_MIGRATION: SqliteMigration = {
  version: 7,
  sql: `
      CREATE TABLE IF NOT EXISTS run_aggregate (
        run_aggregate_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT NOT NULL, duration_ms INTEGER NOT NULL,
        config_path TEXT, parallel_mode TEXT, total_exports INTEGER NOT NULL, success_count INTEGER NOT NULL,
        failed_count INTEGER NOT NULL, skipped_count INTEGER NOT NULL, total_rows INTEGER NOT NULL, total_files INTEGER NOT NULL,
        total_bytes INTEGER NOT NULL, details_json TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS idx_run_aggregate_finished ON run_aggregate(finished_at DESC);
    `,
};

/** A stored aggregate row back in its `--json` shape. */
export function aggregateFromRow(r: Record<string, unknown>): RunAggregateRecord {
  return {
    run_aggregate_id: String(r.run_aggregate_id),
    started_at: String(r.started_at),
    finished_at: String(r.finished_at),
    duration_ms: Number(r.duration_ms),
    config_path: String(r.config_path ?? ''),
    parallel_mode: String(r.parallel_mode ?? ''),
    total_exports: Number(r.total_exports),
    success_count: Number(r.success_count),
    failed_count: Number(r.failed_count),
    skipped_count: Number(r.skipped_count),
    total_rows: Number(r.total_rows),
    total_files: Number(r.total_files),
    total_bytes: Number(r.total_bytes),
    per_export: JSON.parse(String(r.details_json)) as Record<string, unknown>[],
  };
}

/** The aggregate's columns in table order (details_json last). */
export function aggregateValues(a: RunAggregateRecord): unknown[] {
  return [
    a.run_aggregate_id, a.started_at, a.finished_at, a.duration_ms, a.config_path, a.parallel_mode, a.total_exports, a.success_count,
    a.failed_count, a.skipped_count, a.total_rows, a.total_files, a.total_bytes, JSON.stringify(a.per_export),
  ];
}

export const AGGREGATE_COLUMNS =
  'run_aggregate_id, started_at, finished_at, duration_ms, config_path, parallel_mode, total_exports, success_count, failed_count, skipped_count, total_rows, total_files, total_bytes, details_json';

export function sqliteHistory(db: Database.Database): HistoryStore {
  const now = () => new Date().toISOString();
  const insertMetric = db.prepare(`INSERT INTO export_metrics
    (export_name, run_at, duration_ms, total_rows, peak_rss_mb, status, error_message, tuning_profile, format, mode,
     files_produced, bytes_written, retries, run_id, schema_changed)
    VALUES (@exportName, @runAt, @durationMs, @totalRows, @peakRssMb, @status, @errorMessage, @tuningProfile, @format, @mode,
     @filesProduced, @bytesWritten, @retries, @runId, @schemaChanged)`);
  const insertFile = db.prepare(`INSERT INTO file_log
    (run_id, export_name, file_name, row_count, bytes, format, compression, created_at)
    VALUES (@runId, @exportName, @fileName, @rowCount, @bytes, @format, @compression, @createdAt)`);
  const upsertJournal = db.prepare(
    `INSERT OR REPLACE INTO run_journal (run_id, export_name, finished_at, journal_json) VALUES (?, ?, ?, ?)`,
  );

  return {
    async recordMetrics(m: RunMetrics) {
      insertMetric.run({ ...m, runAt: now(), schemaChanged: m.schemaChanged === undefined || m.schemaChanged === null ? null : m.schemaChanged ? 1 : 0 });
    },
    async recordFiles(files: FileRecord[]) {
      const createdAt = now();
      db.transaction(() => files.forEach((f) => insertFile.run({ ...f, createdAt })))();
    },
    async saveJournal(j: RunJournal) {
      upsertJournal.run(j.run_id, j.export_name, now(), JSON.stringify(j));
    },
    async recentMetrics({ exportName, limit = 20 } = {}) {
      const rows = db
        .prepare(
          `SELECT * FROM export_metrics ${exportName ? 'WHERE export_name = ?' : ''} ORDER BY id DESC LIMIT ${Number(limit)}`,
        )
        .all(...(exportName ? [exportName] : [])) as Record<string, unknown>[];
      return rows.map(
        (r): MetricsRow => ({
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
          validated: r.validated === null || r.validated === undefined ? null : Number(r.validated) === 1,
          schemaChanged: r.schema_changed === null || r.schema_changed === undefined ? null : Number(r.schema_changed) === 1,
        }),
      );
    },
    async recentFiles({ exportName, limit = 50 } = {}) {
      const rows = db
        .prepare(`SELECT * FROM file_log ${exportName ? 'WHERE export_name = ?' : ''} ORDER BY id DESC LIMIT ${Number(limit)}`)
        .all(...(exportName ? [exportName] : [])) as Record<string, unknown>[];
      return rows.map((r) => ({
        runId: String(r.run_id),
        exportName: String(r.export_name),
        fileName: String(r.file_name),
        rowCount: Number(r.row_count),
        bytes: Number(r.bytes),
        format: r.format as FileRecord['format'],
        compression: String(r.compression ?? ''),
        createdAt: String(r.created_at),
      }));
    },
    async getJournal(runId) {
      const row = db.prepare(`SELECT journal_json FROM run_journal WHERE run_id = ?`).get(runId) as { journal_json: string } | undefined;
      return row ? (JSON.parse(row.journal_json) as RunJournal) : null;
    },
    async recentJournals(exportName, limit) {
      const rows = db
        .prepare(`SELECT journal_json FROM run_journal WHERE export_name = ? ORDER BY finished_at DESC, rowid DESC LIMIT ?`)
        .all(exportName, Math.max(0, Math.trunc(limit))) as { journal_json: string }[];
      return rows.map((r) => JSON.parse(r.journal_json) as RunJournal);
    },
    async markValidated(runId, passed) {
      db.prepare(`UPDATE export_metrics SET validated = ? WHERE run_id = ?`).run(passed ? 1 : 0, runId);
    },
    async recordAggregate(a) {
      db.prepare(`INSERT INTO run_aggregate (${AGGREGATE_COLUMNS}) VALUES (${AGGREGATE_COLUMNS.split(',').map(() => '?').join(', ')})`).run(...aggregateValues(a));
    },
    async recentAggregates(limit) {
      const rows = db.prepare(`SELECT * FROM run_aggregate ORDER BY finished_at DESC, rowid DESC LIMIT ?`).all(Math.max(0, Math.trunc(limit))) as Record<string, unknown>[];
      return rows.map(aggregateFromRow);
    },
  };
}
