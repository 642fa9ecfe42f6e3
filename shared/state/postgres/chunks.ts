import { chunkRunInProgressError, type ChunkRunRow, type ChunkStore, type ChunkTaskRow, type NewChunkRun } from '../chunk-store.js';
import { RivetError } from '../../errors/rivet-error.js';
import type { PgQuery, PgStateDb } from './pg-state-db.js';
import type { PgMigration } from './pg-state-migration.js';

/**
 * Chunk checkpoints on PostgreSQL (spec 05 §3.5–3.6). Beyond SQLite's columns: `seq` breaks
 * ties between runs created in the same millisecond (SQLite's rowid), and a partial unique
 * index allows one in_progress run per export, so two processes starting the same
 * checkpointed export cannot both create a run even if both passed the caller's check.
 */
export const PG_CHUNKS_MIGRATION: PgMigration = {
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
};

const TASKS_PER_STATEMENT = 1000;

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

const isUniqueViolation = (e: unknown): boolean => e instanceof RivetError && (e.cause as { code?: string } | undefined)?.code === '23505';

export function pgChunks(db: PgStateDb): ChunkStore {
  const now = () => new Date().toISOString();
  const run = db.t('chunk_run');
  const task = db.t('chunk_task');

  /** A task change and the bump of its run's updated_at, in one transaction (`state chunks` shows the run being worked on). */
  const inRun = <T>(runId: string, f: (q: PgQuery) => Promise<T>) =>
    db.tx(async (q) => {
      const out = await f(q);
      await q(`UPDATE ${run} SET updated_at = $1 WHERE run_id = $2`, [now(), runId]);
      return out;
    });

  return {
    async createChunkRun(r: NewChunkRun) {
      const at = now();
      try {
        await db.tx(async (q) => {
          await q(
            `INSERT INTO ${run} (run_id, export_name, plan_hash, status, max_chunk_attempts, created_at, updated_at, prefix)
             VALUES ($1, $2, $3, 'in_progress', $4, $5, $5, $6)`,
            [r.runId, r.exportName, r.planHash, r.maxChunkAttempts, at, r.prefix],
          );
          for (let from = 0; from < r.chunks.length; from += TASKS_PER_STATEMENT) {
            const batch = r.chunks.slice(from, from + TASKS_PER_STATEMENT);
            const params: unknown[] = [r.runId, at];
            const values = batch.map((c, i) => {
              params.push(from + i, c.startKey, c.endKey);
              const b = 3 + i * 3;
              return `($1, $${b}, $${b + 1}, $${b + 2}, 'pending', 0, $2)`;
            });
            await q(`INSERT INTO ${task} (run_id, chunk_index, start_key, end_key, status, attempts, updated_at) VALUES ${values.join(', ')}`, params);
          }
        });
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        const open = await db.query<{ run_id: string }>(`SELECT run_id FROM ${run} WHERE export_name = $1 AND status = 'in_progress' LIMIT 1`, [r.exportName]);
        if (!open.rows[0]) throw e; // the run id itself was taken
        throw chunkRunInProgressError(r.exportName, open.rows[0].run_id);
      }
    },
    async inProgressChunkRun(exportName) {
      const r = await db.query(`SELECT * FROM ${run} WHERE export_name = $1 AND status = 'in_progress' ORDER BY created_at DESC, seq DESC LIMIT 1`, [exportName]);
      return r.rows[0] ? runRow(r.rows[0]) : null;
    },
    async latestChunkRun(exportName) {
      const r = await db.query(`SELECT * FROM ${run} WHERE export_name = $1 ORDER BY updated_at DESC, seq DESC LIMIT 1`, [exportName]);
      return r.rows[0] ? runRow(r.rows[0]) : null;
    },
    async inProgressChunkExports() {
      const r = await db.query<{ export_name: string }>(`SELECT export_name FROM ${run} WHERE status = 'in_progress' GROUP BY export_name ORDER BY export_name COLLATE "C"`);
      return r.rows.map((row) => row.export_name);
    },
    async chunkTasks(runId) {
      const r = await db.query(`SELECT * FROM ${task} WHERE run_id = $1 ORDER BY chunk_index`, [runId]);
      return r.rows.map(taskRow);
    },
    async startChunkTask(runId, chunkIndex) {
      return inRun(runId, async (q) => {
        const r = await q<{ attempts: string }>(
          `UPDATE ${task} SET status = 'running', attempts = attempts + 1, updated_at = $1 WHERE run_id = $2 AND chunk_index = $3 RETURNING attempts`,
          [now(), runId, chunkIndex],
        );
        return r.rows[0] ? Number(r.rows[0].attempts) : 0;
      });
    },
    async claimChunkTask(runId) {
      // FOR UPDATE SKIP LOCKED: a concurrent claimer passes over the row another one holds and
      // takes the next; a row changed meanwhile is re-checked against the WHERE before it is locked.
      const claimed = await inRun(runId, async (q) => {
        const r = await q(
          `WITH picked AS (
             SELECT t.id FROM ${task} t JOIN ${run} r ON r.run_id = t.run_id
             WHERE t.run_id = $1 AND r.status = 'in_progress'
               AND (t.status = 'pending' OR (t.status = 'failed' AND t.attempts < r.max_chunk_attempts))
             ORDER BY t.chunk_index LIMIT 1
             FOR UPDATE OF t SKIP LOCKED)
           UPDATE ${task} t SET status = 'running', attempts = t.attempts + 1, updated_at = $2
           FROM picked WHERE t.id = picked.id
           RETURNING t.chunk_index, t.start_key, t.end_key, t.attempts`,
          [runId, now()],
        );
        return r.rows[0] ?? null;
      });
      return claimed
        ? { chunkIndex: Number(claimed.chunk_index), startKey: String(claimed.start_key), endKey: String(claimed.end_key), attempts: Number(claimed.attempts) }
        : null;
    },
    async completeChunkTask(runId, chunkIndex, { rows, fileName }) {
      await inRun(runId, (q) =>
        q(`UPDATE ${task} SET status = 'completed', rows_written = $1, file_name = $2, last_error = NULL, updated_at = $3 WHERE run_id = $4 AND chunk_index = $5`, [
          rows, fileName, now(), runId, chunkIndex,
        ]),
      );
    },
    async failChunkTask(runId, chunkIndex, error) {
      await inRun(runId, (q) => q(`UPDATE ${task} SET status = 'failed', last_error = $1, updated_at = $2 WHERE run_id = $3 AND chunk_index = $4`, [error, now(), runId, chunkIndex]));
    },
    async resetChunkTask(runId, chunkIndex, reason) {
      await inRun(runId, (q) =>
        q(`UPDATE ${task} SET status = 'pending', rows_written = NULL, file_name = NULL, last_error = $1, updated_at = $2 WHERE run_id = $3 AND chunk_index = $4`, [
          reason, now(), runId, chunkIndex,
        ]),
      );
    },
    async resetRunningChunkTasks(runId) {
      return inRun(runId, async (q) => {
        const r = await q(`UPDATE ${task} SET status = 'pending', updated_at = $1 WHERE run_id = $2 AND status = 'running'`, [now(), runId]);
        return r.rowCount ?? 0;
      });
    },
    async completeChunkRun(runId) {
      await db.query(`UPDATE ${run} SET status = 'completed', updated_at = $1 WHERE run_id = $2`, [now(), runId]);
    },
    async deleteChunkRuns(exportName) {
      return db.tx(async (q) => {
        await q(`DELETE FROM ${task} WHERE run_id IN (SELECT run_id FROM ${run} WHERE export_name = $1)`, [exportName]);
        const r = await q(`DELETE FROM ${run} WHERE export_name = $1`, [exportName]);
        return r.rowCount ?? 0;
      });
    },
  };
}
