import type Database from 'better-sqlite3';
import type { CommittedProgression, CursorBoundary, CursorStore, ProgressionBoundary, ProgressionRecord } from '../cursor-store.js';
import type { SqliteMigration } from './sqlite-migration.js';

/**
 * Cursors (`export_state`, created by v1 with the reference tool's columns) and the
 * progression table (spec 05 §3.7, same columns as the reference so its queries keep working).
 */
export const CURSORS_MIGRATION: SqliteMigration = {
  version: 2,
  sql: `
      CREATE TABLE IF NOT EXISTS export_progression (
        export_name TEXT PRIMARY KEY,
        last_committed_strategy TEXT, last_committed_cursor TEXT, last_committed_chunk_index INTEGER,
        last_committed_run_id TEXT, last_committed_at TEXT,
        last_verified_strategy TEXT, last_verified_cursor TEXT, last_verified_chunk_index INTEGER,
        last_verified_run_id TEXT, last_verified_at TEXT);
    `,
};

/** The rows at the edge of each incremental cursor (cursor-store.ts `CursorBoundary`). */
export const BOUNDARY_MIGRATION: SqliteMigration = {
  version: 6,
  sql: `
      CREATE TABLE IF NOT EXISTS export_cursor_boundary (
        export_name TEXT PRIMARY KEY, cursor TEXT NOT NULL, since TEXT NOT NULL, identity TEXT NOT NULL,
        ids BLOB NOT NULL, run_id TEXT NOT NULL, updated_at TEXT NOT NULL);
    `,
};

/** RFC 3339 with an explicit `+00:00` offset, the reference's spelling for state timestamps. */
function stateNow(): string {
  return new Date().toISOString().replace(/Z$/, '+00:00');
}

type ProgressionRow = Record<string, string | number | null>;

function boundary(r: ProgressionRow, side: 'committed' | 'verified'): ProgressionBoundary | null {
  const strategy = r[`last_${side}_strategy`];
  const at = r[`last_${side}_at`];
  // A boundary exists only when both its strategy and a parseable time are there (spec 05 §3.7).
  if (typeof strategy !== 'string' || typeof at !== 'string' || Number.isNaN(Date.parse(at))) return null;
  const chunk = r[`last_${side}_chunk_index`];
  return {
    strategy,
    cursor: (r[`last_${side}_cursor`] as string | null) ?? null,
    chunkIndex: chunk === null || chunk === undefined ? null : Number(chunk),
    runId: (r[`last_${side}_run_id`] as string | null) ?? null,
    at,
  };
}

export function sqliteCursors(db: Database.Database): CursorStore {
  const get = db.prepare(`SELECT last_cursor_value AS v FROM export_state WHERE export_name = ?`);
  const upsert = db.prepare(
    `INSERT INTO export_state (export_name, last_cursor_value, last_run_at) VALUES (?, ?, ?)
     ON CONFLICT(export_name) DO UPDATE SET last_cursor_value = excluded.last_cursor_value, last_run_at = excluded.last_run_at`,
  );
  // Compare-and-set for two runs racing on one cursor: each statement is atomic, so only one matches.
  const advanceFromNone = db.prepare(`INSERT INTO export_state (export_name, last_cursor_value, last_run_at) VALUES (?, ?, ?) ON CONFLICT(export_name) DO NOTHING`);
  const advanceFrom = db.prepare(`UPDATE export_state SET last_cursor_value = ?, last_run_at = ? WHERE export_name = ? AND last_cursor_value = ?`);
  const remove = db.prepare(`DELETE FROM export_state WHERE export_name = ?`);
  const getBoundary = db.prepare(`SELECT cursor, since, identity, ids, run_id FROM export_cursor_boundary WHERE export_name = ?`);
  const removeBoundary = db.prepare(`DELETE FROM export_cursor_boundary WHERE export_name = ?`);
  const putBoundary = db.prepare(
    `INSERT INTO export_cursor_boundary (export_name, cursor, since, identity, ids, run_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(export_name) DO UPDATE SET cursor = excluded.cursor, since = excluded.since, identity = excluded.identity,
       ids = excluded.ids, run_id = excluded.run_id, updated_at = excluded.updated_at`,
  );
  // IMMEDIATE: the write lock is taken before the checks, so two committers cannot both pass them.
  const commitBoundary = db.transaction((exportName: string, expected: { cursor: string | null; runId: string | null }, next: CursorBoundary): boolean => {
    const cursor = (get.get(exportName) as { v: string | null } | undefined)?.v ?? null;
    const runId = (getBoundary.get(exportName) as { run_id: string } | undefined)?.run_id ?? null;
    if (cursor !== expected.cursor || runId !== expected.runId) return false;
    const at = stateNow();
    upsert.run(exportName, next.cursor, at);
    putBoundary.run(exportName, next.cursor, next.since, next.identity, Buffer.from(next.ids), next.runId, at);
    return true;
  });
  const reset = db.transaction((exportName: string): boolean => {
    removeBoundary.run(exportName);
    return remove.run(exportName).changes > 0;
  });
  const list = db.prepare(`SELECT export_name, last_cursor_value, last_run_at FROM export_state ORDER BY export_name`);
  // Our cursors only move forward (the planner orders them with the source's own comparison),
  // so the committed cursor is simply replaced; the reference compared them as strings.
  const commit = db.prepare(
    `INSERT INTO export_progression (export_name, last_committed_strategy, last_committed_cursor, last_committed_chunk_index,
       last_committed_run_id, last_committed_at)
     VALUES (@exportName, @strategy, @cursor, @chunkIndex, @runId, @at)
     ON CONFLICT(export_name) DO UPDATE SET
       last_committed_strategy = excluded.last_committed_strategy, last_committed_cursor = excluded.last_committed_cursor,
       last_committed_chunk_index = excluded.last_committed_chunk_index, last_committed_run_id = excluded.last_committed_run_id,
       last_committed_at = excluded.last_committed_at`,
  );
  const verify = db.prepare(
    `INSERT INTO export_progression (export_name, last_verified_strategy, last_verified_cursor, last_verified_chunk_index,
       last_verified_run_id, last_verified_at)
     VALUES (@exportName, @strategy, @cursor, @chunkIndex, @runId, @at)
     ON CONFLICT(export_name) DO UPDATE SET
       last_verified_strategy = excluded.last_verified_strategy, last_verified_cursor = excluded.last_verified_cursor,
       last_verified_chunk_index = excluded.last_verified_chunk_index, last_verified_run_id = excluded.last_verified_run_id,
       last_verified_at = excluded.last_verified_at`,
  );

  return {
    async getCursor(exportName) {
      const row = get.get(exportName) as { v: string | null } | undefined;
      return row?.v ?? null;
    },
    async setCursor(exportName, value) {
      upsert.run(exportName, value, stateNow());
    },
    async advanceCursor(exportName, expected, next) {
      const r = expected === null ? advanceFromNone.run(exportName, next, stateNow()) : advanceFrom.run(next, stateNow(), exportName, expected);
      return r.changes === 1;
    },
    async resetCursor(exportName) {
      return reset.immediate(exportName);
    },
    async getBoundary(exportName) {
      const r = getBoundary.get(exportName) as { cursor: string; since: string; identity: string; ids: Buffer; run_id: string } | undefined;
      if (!r) return null;
      return { cursor: r.cursor, since: r.since, identity: r.identity, ids: new Uint8Array(r.ids), runId: r.run_id };
    },
    async commitBoundary(exportName, expected, next) {
      return commitBoundary.immediate(exportName, expected, next);
    },
    async listCursors() {
      return (list.all() as { export_name: string; last_cursor_value: string | null; last_run_at: string | null }[]).map((r) => ({
        exportName: r.export_name,
        cursor: r.last_cursor_value,
        lastRunAt: r.last_run_at,
      }));
    },
    async recordCommittedProgression(p: CommittedProgression) {
      commit.run({
        exportName: p.exportName,
        strategy: p.strategy,
        cursor: p.cursor ?? null,
        chunkIndex: p.chunkIndex ?? null,
        runId: p.runId,
        at: stateNow(),
      });
    },
    async recordVerifiedProgression(p: CommittedProgression) {
      verify.run({
        exportName: p.exportName,
        strategy: p.strategy,
        cursor: p.cursor ?? null,
        chunkIndex: p.chunkIndex ?? null,
        runId: p.runId,
        at: stateNow(),
      });
    },
    async listProgression(exportName) {
      const rows = db
        .prepare(`SELECT * FROM export_progression ${exportName ? 'WHERE export_name = ?' : ''} ORDER BY export_name`)
        .all(...(exportName ? [exportName] : [])) as ProgressionRow[];
      return rows
        .map((r): ProgressionRecord => ({ exportName: String(r.export_name), committed: boundary(r, 'committed'), verified: boundary(r, 'verified') }))
        .filter((r) => r.committed !== null || r.verified !== null);
    },
  };
}
