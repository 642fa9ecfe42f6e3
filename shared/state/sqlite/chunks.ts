import type Database from 'better-sqlite3';
import { chunkRunInProgressError, type ChunkRunRow, type ChunkStore, type ChunkTaskRow, type NewChunkRun } from '../chunk-store.js';
import type { SqliteMigration } from './sqlite-migration.js';

/**
 * Chunk checkpoints. Table and column names follow spec 05 §3.5–3.6, so the reference
 * tool's queries read ours; `prefix` is our addition (a resume reads the run's plan from it).
 */
export const CHUNKS_MIGRATION: SqliteMigration = {
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
};

function runRow(r: Record<string, unknown>): ChunkRunRow {
  return {
    runId: String(r.run_id),
    exportName: String(r.export_name),
    planHash: String(r.plan_hash),
    status: r.status as ChunkRunRow['status'],
    maxChunkAttempts: Number(r.max_chunk_attempts),
    prefix: (r.prefix as string | null) ?? null,
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
  };
}

function taskRow(r: Record<string, unknown>): ChunkTaskRow {
  return {
    runId: String(r.run_id),
    chunkIndex: Number(r.chunk_index),
    startKey: String(r.start_key),
    endKey: String(r.end_key),
    status: r.status as ChunkTaskRow['status'],
    attempts: Number(r.attempts),
    lastError: (r.last_error as string | null) ?? null,
    rowsWritten: r.rows_written === null || r.rows_written === undefined ? null : Number(r.rows_written),
    fileName: (r.file_name as string | null) ?? null,
    updatedAt: String(r.updated_at),
  };
}

export function sqliteChunks(db: Database.Database): ChunkStore {
  const now = () => new Date().toISOString();
  const touchRun = db.prepare(`UPDATE chunk_run SET updated_at = ? WHERE run_id = ?`);
  // Every task change also bumps its run, so `state chunks` (latest by updated_at) shows the run being worked on.
  const inRun = (runId: string, f: () => void) =>
    db.transaction(() => {
      f();
      touchRun.run(now(), runId);
    })();

  return {
    async createChunkRun(run: NewChunkRun) {
      const at = now();
      const insertRun = db.prepare(`INSERT INTO chunk_run (run_id, export_name, plan_hash, status, max_chunk_attempts, created_at, updated_at, prefix)
        VALUES (?, ?, ?, 'in_progress', ?, ?, ?, ?)`);
      const insertTask = db.prepare(`INSERT INTO chunk_task (run_id, chunk_index, start_key, end_key, status, attempts, updated_at)
        VALUES (?, ?, ?, ?, 'pending', 0, ?)`);
      const open = db.prepare(`SELECT run_id FROM chunk_run WHERE export_name = ? AND status = 'in_progress' LIMIT 1`);
      // IMMEDIATE: the write lock is taken before the check, so two processes cannot both pass it.
      db.transaction(() => {
        const other = open.get(run.exportName) as { run_id: string } | undefined;
        if (other) throw chunkRunInProgressError(run.exportName, other.run_id);
        insertRun.run(run.runId, run.exportName, run.planHash, run.maxChunkAttempts, at, at, run.prefix);
        run.chunks.forEach((c, i) => insertTask.run(run.runId, i, c.startKey, c.endKey, at));
      }).immediate();
    },
    async inProgressChunkRun(exportName) {
      const r = db
        .prepare(`SELECT * FROM chunk_run WHERE export_name = ? AND status = 'in_progress' ORDER BY created_at DESC, rowid DESC LIMIT 1`)
        .get(exportName) as Record<string, unknown> | undefined;
      return r ? runRow(r) : null;
    },
    async latestChunkRun(exportName) {
      const r = db
        .prepare(`SELECT * FROM chunk_run WHERE export_name = ? ORDER BY updated_at DESC, rowid DESC LIMIT 1`)
        .get(exportName) as Record<string, unknown> | undefined;
      return r ? runRow(r) : null;
    },
    async inProgressChunkExports() {
      const rows = db.prepare(`SELECT DISTINCT export_name FROM chunk_run WHERE status = 'in_progress' ORDER BY export_name`).all() as { export_name: string }[];
      return rows.map((r) => r.export_name);
    },
    async chunkTasks(runId) {
      const rows = db.prepare(`SELECT * FROM chunk_task WHERE run_id = ? ORDER BY chunk_index`).all(runId) as Record<string, unknown>[];
      return rows.map(taskRow);
    },
    async startChunkTask(runId, chunkIndex) {
      let attempts = 0;
      inRun(runId, () => {
        const r = db
          .prepare(`UPDATE chunk_task SET status = 'running', attempts = attempts + 1, updated_at = ? WHERE run_id = ? AND chunk_index = ? RETURNING attempts`)
          .get(now(), runId, chunkIndex) as { attempts: number } | undefined;
        attempts = r?.attempts ?? 0;
      });
      return attempts;
    },
    async claimChunkTask(runId) {
      let claimed: { chunk_index: number; start_key: string; end_key: string; attempts: number } | undefined;
      inRun(runId, () => {
        claimed = db
          .prepare(
            `UPDATE chunk_task SET status = 'running', attempts = attempts + 1, updated_at = ?
             WHERE id = (SELECT t.id FROM chunk_task t JOIN chunk_run r ON r.run_id = t.run_id
               WHERE t.run_id = ? AND r.status = 'in_progress'
                 AND (t.status = 'pending' OR (t.status = 'failed' AND t.attempts < r.max_chunk_attempts))
               ORDER BY t.chunk_index LIMIT 1)
             RETURNING chunk_index, start_key, end_key, attempts`,
          )
          .get(now(), runId) as typeof claimed;
      });
      return claimed ? { chunkIndex: Number(claimed.chunk_index), startKey: String(claimed.start_key), endKey: String(claimed.end_key), attempts: Number(claimed.attempts) } : null;
    },
    async completeChunkTask(runId, chunkIndex, { rows, fileName }) {
      inRun(runId, () => {
        db.prepare(`UPDATE chunk_task SET status = 'completed', rows_written = ?, file_name = ?, last_error = NULL, updated_at = ? WHERE run_id = ? AND chunk_index = ?`)
          .run(rows, fileName, now(), runId, chunkIndex);
      });
    },
    async failChunkTask(runId, chunkIndex, error) {
      inRun(runId, () => {
        db.prepare(`UPDATE chunk_task SET status = 'failed', last_error = ?, updated_at = ? WHERE run_id = ? AND chunk_index = ?`).run(error, now(), runId, chunkIndex);
      });
    },
    async resetChunkTask(runId, chunkIndex, reason) {
      inRun(runId, () => {
        db.prepare(`UPDATE chunk_task SET status = 'pending', rows_written = NULL, file_name = NULL, last_error = ?, updated_at = ? WHERE run_id = ? AND chunk_index = ?`)
          .run(reason, now(), runId, chunkIndex);
      });
    },
    async resetRunningChunkTasks(runId) {
      let n = 0;
      inRun(runId, () => {
        n = db.prepare(`UPDATE chunk_task SET status = 'pending', updated_at = ? WHERE run_id = ? AND status = 'running'`).run(now(), runId).changes;
      });
      return n;
    },
    async completeChunkRun(runId) {
      db.prepare(`UPDATE chunk_run SET status = 'completed', updated_at = ? WHERE run_id = ?`).run(now(), runId);
    },
    async deleteChunkRuns(exportName) {
      let n = 0;
      db.transaction(() => {
        db.prepare(`DELETE FROM chunk_task WHERE run_id IN (SELECT run_id FROM chunk_run WHERE export_name = ?)`).run(exportName);
        n = db.prepare(`DELETE FROM chunk_run WHERE export_name = ?`).run(exportName).changes;
      })();
      return n;
    },
  };
}
