import { chunkRunInProgressError, type ChunkRunRow, type ChunkStore, type ChunkTaskRow, type NewChunkRun } from '../chunk-store.js';
import type { SqlQuery, SqlRow, SqlStateDriver } from './sql-state-driver.js';
import { placeholders } from './sql-history.js';

/**
 * Chunk checkpoints: one `chunk_run` row per checkpointed run, one `chunk_task` row per chunk
 * (the reference's table and column names; `prefix` is ours: a resume reads the run's plan
 * from it). One in_progress run per export: checked inside the creating transaction, and on
 * PostgreSQL also guarded by a partial unique index, so two processes cannot both create one.
 */
const TASKS_PER_STATEMENT = 1000;

function runRow(r: SqlRow): ChunkRunRow {
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

function taskRow(r: SqlRow): ChunkTaskRow {
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

export function sqlChunks(db: SqlStateDriver): ChunkStore {
  const now = () => new Date().toISOString();
  const run = db.table('chunk_run');
  const task = db.table('chunk_task');
  const openRunOf = (q: SqlQuery, exportName: string) =>
    q<{ run_id: string }>(`SELECT run_id FROM ${run} WHERE export_name = $1 AND status = 'in_progress' LIMIT 1`, [exportName]);

  /** A task change and the bump of its run's updated_at, in one transaction (`state chunks` shows the run being worked on). */
  const inRun = <T>(runId: string, f: (q: SqlQuery) => Promise<T>) =>
    db.transaction(async (q) => {
      const out = await f(q);
      await q(`UPDATE ${run} SET updated_at = $1 WHERE run_id = $2`, [now(), runId]);
      return out;
    });

  return {
    async createChunkRun(r: NewChunkRun) {
      const at = now();
      try {
        await db.transaction(async (q) => {
          const other = (await openRunOf(q, r.exportName)).rows[0];
          if (other) throw chunkRunInProgressError(r.exportName, other.run_id);
          await q(
            `INSERT INTO ${run} (run_id, export_name, plan_hash, status, max_chunk_attempts, created_at, updated_at, prefix)
             VALUES ($1, $2, $3, 'in_progress', $4, $5, $5, $6)`,
            [r.runId, r.exportName, r.planHash, r.maxChunkAttempts, at, r.prefix],
          );
          for (let from = 0; from < r.chunks.length; from += TASKS_PER_STATEMENT) {
            const batch = r.chunks.slice(from, from + TASKS_PER_STATEMENT);
            const params = [r.runId, at, ...batch.flatMap((c, i) => [from + i, c.startKey, c.endKey])];
            const values = batch.map((_, i) => `($1, ${placeholders(3, 3 + i * 3)}, 'pending', 0, $2)`);
            await q(`INSERT INTO ${task} (run_id, chunk_index, start_key, end_key, status, attempts, updated_at) VALUES ${values.join(', ')}`, params);
          }
        });
      } catch (e) {
        // A concurrent creator committed between our check and our insert (PostgreSQL's partial unique index).
        if (!db.isUniqueViolation(e)) throw e;
        const open = (await openRunOf(db.query, r.exportName)).rows[0];
        if (!open) throw e; // the run id itself was taken
        throw chunkRunInProgressError(r.exportName, open.run_id);
      }
    },
    async inProgressChunkRun(exportName) {
      const r = await db.query(
        `SELECT * FROM ${run} WHERE export_name = $1 AND status = 'in_progress' ORDER BY created_at DESC, ${db.dialect.insertionOrder('chunk_run')} DESC LIMIT 1`,
        [exportName],
      );
      return r.rows[0] ? runRow(r.rows[0]) : null;
    },
    async latestChunkRun(exportName) {
      const r = await db.query(`SELECT * FROM ${run} WHERE export_name = $1 ORDER BY updated_at DESC, ${db.dialect.insertionOrder('chunk_run')} DESC LIMIT 1`, [
        exportName,
      ]);
      return r.rows[0] ? runRow(r.rows[0]) : null;
    },
    async inProgressChunkExports() {
      const r = await db.query<{ export_name: string }>(
        `SELECT export_name FROM ${run} WHERE status = 'in_progress' GROUP BY export_name ORDER BY ${db.dialect.byteOrder('export_name')}`,
      );
      return r.rows.map((row) => row.export_name);
    },
    async chunkTasks(runId) {
      const r = await db.query(`SELECT * FROM ${task} WHERE run_id = $1 ORDER BY chunk_index`, [runId]);
      return r.rows.map(taskRow);
    },
    async startChunkTask(runId, chunkIndex) {
      return inRun(runId, async (q) => {
        const r = await q<{ attempts: unknown }>(
          `UPDATE ${task} SET status = 'running', attempts = attempts + 1, updated_at = $1 WHERE run_id = $2 AND chunk_index = $3 RETURNING attempts`,
          [now(), runId, chunkIndex],
        );
        return r.rows[0] ? Number(r.rows[0].attempts) : 0;
      });
    },
    async claimChunkTask(runId) {
      // One statement picks and takes the task. On PostgreSQL the pick locks its row and skips
      // rows another claimer holds (a row changed meanwhile is re-checked before it is locked);
      // on SQLite the transaction holds the write lock, so the pick cannot race.
      const claimed = await inRun(runId, async (q) => {
        const r = await q(
          `UPDATE ${task} SET status = 'running', attempts = attempts + 1, updated_at = $2
           WHERE id = (SELECT t.id FROM ${task} t JOIN ${run} r ON r.run_id = t.run_id
             WHERE t.run_id = $1 AND r.status = 'in_progress'
               AND (t.status = 'pending' OR (t.status = 'failed' AND t.attempts < r.max_chunk_attempts))
             ORDER BY t.chunk_index LIMIT 1${db.dialect.skipLocked})
           RETURNING chunk_index, start_key, end_key, attempts`,
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
      return inRun(runId, async (q) => (await q(`UPDATE ${task} SET status = 'pending', updated_at = $1 WHERE run_id = $2 AND status = 'running'`, [now(), runId])).changes);
    },
    async completeChunkRun(runId) {
      await db.query(`UPDATE ${run} SET status = 'completed', updated_at = $1 WHERE run_id = $2`, [now(), runId]);
    },
    async deleteChunkRuns(exportName) {
      return db.transaction(async (q) => {
        await q(`DELETE FROM ${task} WHERE run_id IN (SELECT run_id FROM ${run} WHERE export_name = $1)`, [exportName]);
        return (await q(`DELETE FROM ${run} WHERE export_name = $1`, [exportName])).changes;
      });
    },
  };
}
