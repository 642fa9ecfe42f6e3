import type { FileRecord, HistoryStore, MetricsRow, RunAggregateRecord, RunJournal, RunMetrics } from '../state-store.js';
import type { SqlRow, SqlStateDriver } from './sql-state-driver.js';

/**
 * Run history: metrics, file log, journal, run aggregates. Tables and column names follow
 * the reference tool's schema, so its queries read our state and ours read its.
 */
const FILE_COLUMNS = 8;
/** Rows per INSERT: far below PostgreSQL's 65 535 and SQLite's 32 766 bound parameters. */
const FILES_PER_STATEMENT = 1000;

const AGGREGATE_COLUMNS =
  'run_aggregate_id, started_at, finished_at, duration_ms, config_path, parallel_mode, total_exports, success_count, failed_count, skipped_count, total_rows, total_files, total_bytes, details_json';

export function limitOf(limit: number): number {
  return Math.max(0, Math.trunc(limit));
}

/** `$from, $from+1, …` for `count` values. */
export function placeholders(count: number, from = 1): string {
  return Array.from({ length: count }, (_, k) => `$${from + k}`).join(', ');
}

/** A flag as either database returns it: SQLite 0/1, PostgreSQL a boolean. */
function flag(v: unknown): boolean | null {
  return v === null || v === undefined ? null : Number(v) === 1;
}

function metricsRow(r: SqlRow): MetricsRow {
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
    validated: flag(r.validated),
    schemaChanged: flag(r.schema_changed),
  };
}

function fileRow(r: SqlRow): FileRecord & { createdAt: string } {
  return {
    runId: String(r.run_id),
    exportName: String(r.export_name),
    fileName: String(r.file_name),
    rowCount: Number(r.row_count),
    bytes: Number(r.bytes),
    format: r.format as FileRecord['format'],
    compression: String(r.compression ?? ''),
    createdAt: String(r.created_at),
  };
}

/** A stored aggregate row back in its `--json` shape. */
function aggregateRow(r: SqlRow): RunAggregateRecord {
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

export function sqlHistory(db: SqlStateDriver): HistoryStore {
  const now = () => new Date().toISOString();
  const metrics = db.table('export_metrics');
  const files = db.table('file_log');
  const journals = db.table('run_journal');
  const aggregates = db.table('run_aggregate');
  /** `WHERE export_name = $1` when listing one export. */
  const byExport = (exportName: string | undefined) => (exportName ? { where: 'WHERE export_name = $1', params: [exportName] } : { where: '', params: [] });

  return {
    async recordMetrics(m: RunMetrics) {
      await db.query(
        `INSERT INTO ${metrics} (export_name, run_at, duration_ms, total_rows, peak_rss_mb, status, error_message, tuning_profile, format, mode,
           files_produced, bytes_written, retries, run_id, schema_changed)
         VALUES (${placeholders(15)})`,
        [m.exportName, now(), m.durationMs, m.totalRows, m.peakRssMb, m.status, m.errorMessage, m.tuningProfile, m.format, m.mode,
          m.filesProduced, m.bytesWritten, m.retries, m.runId, m.schemaChanged ?? null],
      );
    },
    async recordFiles(records: FileRecord[]) {
      if (records.length === 0) return;
      const createdAt = now();
      await db.transaction(async (q) => {
        for (let at = 0; at < records.length; at += FILES_PER_STATEMENT) {
          const batch = records.slice(at, at + FILES_PER_STATEMENT);
          const params = batch.flatMap((f) => [f.runId, f.exportName, f.fileName, f.rowCount, f.bytes, f.format, f.compression, createdAt]);
          // One multi-row VALUES list: ids are assigned in list order, so `ORDER BY id` keeps the files' order.
          await q(
            `INSERT INTO ${files} (run_id, export_name, file_name, row_count, bytes, format, compression, created_at)
             VALUES ${batch.map((_, i) => `(${placeholders(FILE_COLUMNS, i * FILE_COLUMNS + 1)})`).join(', ')}`,
            params,
          );
        }
      });
    },
    async saveJournal(j: RunJournal) {
      // A resumed run adopts its run id: its journal replaces the earlier one and moves to the front.
      await db.query(db.dialect.saveJournal(journals), [j.run_id, j.export_name, now(), JSON.stringify(j)]);
    },
    async recentMetrics({ exportName, limit = 20 } = {}) {
      const by = byExport(exportName);
      const r = await db.query(`SELECT * FROM ${metrics} ${by.where} ORDER BY id DESC LIMIT ${limitOf(limit)}`, by.params);
      return r.rows.map(metricsRow);
    },
    async recentFiles({ exportName, limit = 50 } = {}) {
      const by = byExport(exportName);
      const r = await db.query(`SELECT * FROM ${files} ${by.where} ORDER BY id DESC LIMIT ${limitOf(limit)}`, by.params);
      return r.rows.map(fileRow);
    },
    async getJournal(runId) {
      const r = await db.query<{ journal_json: string }>(`SELECT journal_json FROM ${journals} WHERE run_id = $1`, [runId]);
      return r.rows[0] ? (JSON.parse(r.rows[0].journal_json) as RunJournal) : null;
    },
    async recentJournals(exportName, limit) {
      const r = await db.query<{ journal_json: string }>(
        `SELECT journal_json FROM ${journals} WHERE export_name = $1
         ORDER BY finished_at DESC, ${db.dialect.insertionOrder('run_journal')} DESC LIMIT $2`,
        [exportName, limitOf(limit)],
      );
      return r.rows.map((row) => JSON.parse(row.journal_json) as RunJournal);
    },
    async markValidated(runId, passed) {
      await db.query(`UPDATE ${metrics} SET validated = $1 WHERE run_id = $2`, [passed, runId]);
    },
    async recordAggregate(a) {
      await db.query(`INSERT INTO ${aggregates} (${AGGREGATE_COLUMNS}) VALUES (${placeholders(14)})`, [
        a.run_aggregate_id, a.started_at, a.finished_at, a.duration_ms, a.config_path, a.parallel_mode, a.total_exports, a.success_count,
        a.failed_count, a.skipped_count, a.total_rows, a.total_files, a.total_bytes, JSON.stringify(a.per_export),
      ]);
    },
    async recentAggregates(limit) {
      const r = await db.query(
        `SELECT * FROM ${aggregates} ORDER BY finished_at DESC, ${db.dialect.insertionOrder('run_aggregate')} DESC LIMIT $1`,
        [limitOf(limit)],
      );
      return r.rows.map(aggregateRow);
    },
  };
}
