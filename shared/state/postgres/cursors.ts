import type { CommittedProgression, CursorStore, ProgressionBoundary, ProgressionRecord } from '../cursor-store.js';
import type { PgStateDb } from './pg-state-db.js';
import type { PgMigration } from './pg-state-migration.js';

/** Progression (spec 05 §3.7); the cursor table `export_state` comes with v1, as in SQLite. */
export const PG_CURSORS_MIGRATION: PgMigration = {
  version: 2,
  sql: `
    CREATE TABLE IF NOT EXISTS {{s}}.export_progression (
      export_name TEXT PRIMARY KEY,
      last_committed_strategy TEXT, last_committed_cursor TEXT, last_committed_chunk_index BIGINT,
      last_committed_run_id TEXT, last_committed_at TEXT,
      last_verified_strategy TEXT, last_verified_cursor TEXT, last_verified_chunk_index BIGINT,
      last_verified_run_id TEXT, last_verified_at TEXT);
  `,
};

/** The rows at the edge of each incremental cursor (cursor-store.ts `CursorBoundary`). */
export const PG_BOUNDARY_MIGRATION: PgMigration = {
  version: 6,
  sql: `
    CREATE TABLE IF NOT EXISTS {{s}}.export_cursor_boundary (
      export_name TEXT PRIMARY KEY, cursor TEXT NOT NULL, since TEXT NOT NULL, identity TEXT NOT NULL,
      ids BYTEA NOT NULL, run_id TEXT NOT NULL, updated_at TEXT NOT NULL);
  `,
};

/** Thrown inside a transaction to roll it back when a compare-and-set check fails. */
const LOST = Symbol('lost');

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

/** `COLLATE "C"`: byte order, the order SQLite and DynamoDB list names in, whatever the database's locale. */
const BY_NAME = `ORDER BY export_name COLLATE "C"`;

export function pgCursors(db: PgStateDb): CursorStore {
  const recordSide = async (side: 'committed' | 'verified', p: CommittedProgression) => {
    const c = (name: string) => `last_${side}_${name}`;
    await db.query(
      `INSERT INTO ${db.t('export_progression')} (export_name, ${c('strategy')}, ${c('cursor')}, ${c('chunk_index')}, ${c('run_id')}, ${c('at')})
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (export_name) DO UPDATE SET ${['strategy', 'cursor', 'chunk_index', 'run_id', 'at'].map((n) => `${c(n)} = EXCLUDED.${c(n)}`).join(', ')}`,
      [p.exportName, p.strategy, p.cursor ?? null, p.chunkIndex ?? null, p.runId, stateNow()],
    );
  };

  return {
    async getCursor(exportName) {
      const r = await db.query<{ v: string | null }>(`SELECT last_cursor_value AS v FROM ${db.t('export_state')} WHERE export_name = $1`, [exportName]);
      return r.rows[0]?.v ?? null;
    },
    async setCursor(exportName, value) {
      await db.query(
        `INSERT INTO ${db.t('export_state')} (export_name, last_cursor_value, last_run_at) VALUES ($1, $2, $3)
         ON CONFLICT (export_name) DO UPDATE SET last_cursor_value = EXCLUDED.last_cursor_value, last_run_at = EXCLUDED.last_run_at`,
        [exportName, value, stateNow()],
      );
    },
    async advanceCursor(exportName, expected, next) {
      // Row-level: a concurrent UPDATE waits for the first one's commit, then re-checks the
      // WHERE against the new value and matches nothing; the INSERT loses on the primary key.
      const r =
        expected === null
          ? await db.query(
              `INSERT INTO ${db.t('export_state')} (export_name, last_cursor_value, last_run_at) VALUES ($1, $2, $3) ON CONFLICT (export_name) DO NOTHING`,
              [exportName, next, stateNow()],
            )
          : await db.query(
              `UPDATE ${db.t('export_state')} SET last_cursor_value = $2, last_run_at = $3 WHERE export_name = $1 AND last_cursor_value = $4`,
              [exportName, next, stateNow(), expected],
            );
      return r.rowCount === 1;
    },
    async resetCursor(exportName) {
      return db.tx(async (q) => {
        await q(`DELETE FROM ${db.t('export_cursor_boundary')} WHERE export_name = $1`, [exportName]);
        const r = await q(`DELETE FROM ${db.t('export_state')} WHERE export_name = $1`, [exportName]);
        return (r.rowCount ?? 0) > 0;
      });
    },
    async getBoundary(exportName) {
      const r = await db.query<{ cursor: string; since: string; identity: string; ids: Buffer; run_id: string }>(
        `SELECT cursor, since, identity, ids, run_id FROM ${db.t('export_cursor_boundary')} WHERE export_name = $1`,
        [exportName],
      );
      const row = r.rows[0];
      return row ? { cursor: row.cursor, since: row.since, identity: row.identity, ids: new Uint8Array(row.ids), runId: row.run_id } : null;
    },
    async commitBoundary(exportName, expected, next) {
      try {
        return await db.tx(async (q) => {
          const at = stateNow();
          // The cursor row is written first: its row lock (or, for a first cursor, the primary
          // key) serialises two committers, so the boundary check below sees the winner's row.
          const r =
            expected.cursor === null
              ? await q(
                  `INSERT INTO ${db.t('export_state')} (export_name, last_cursor_value, last_run_at) VALUES ($1, $2, $3) ON CONFLICT (export_name) DO NOTHING`,
                  [exportName, next.cursor, at],
                )
              : await q(`UPDATE ${db.t('export_state')} SET last_cursor_value = $2, last_run_at = $3 WHERE export_name = $1 AND last_cursor_value = $4`, [
                  exportName, next.cursor, at, expected.cursor,
                ]);
          if (r.rowCount !== 1) throw LOST;
          const b = await q<{ run_id: string }>(`SELECT run_id FROM ${db.t('export_cursor_boundary')} WHERE export_name = $1 FOR UPDATE`, [exportName]);
          if ((b.rows[0]?.run_id ?? null) !== expected.runId) throw LOST;
          await q(
            `INSERT INTO ${db.t('export_cursor_boundary')} (export_name, cursor, since, identity, ids, run_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (export_name) DO UPDATE SET cursor = EXCLUDED.cursor, since = EXCLUDED.since, identity = EXCLUDED.identity,
               ids = EXCLUDED.ids, run_id = EXCLUDED.run_id, updated_at = EXCLUDED.updated_at`,
            [exportName, next.cursor, next.since, next.identity, Buffer.from(next.ids), next.runId, at],
          );
          return true;
        });
      } catch (e) {
        if (e === LOST) return false;
        throw e;
      }
    },
    async listCursors() {
      const r = await db.query<{ export_name: string; last_cursor_value: string | null; last_run_at: string | null }>(
        `SELECT export_name, last_cursor_value, last_run_at FROM ${db.t('export_state')} ${BY_NAME}`,
      );
      return r.rows.map((row) => ({ exportName: row.export_name, cursor: row.last_cursor_value, lastRunAt: row.last_run_at }));
    },
    recordCommittedProgression: (p) => recordSide('committed', p),
    recordVerifiedProgression: (p) => recordSide('verified', p),
    async listProgression(exportName) {
      const r = await db.query<ProgressionRow>(
        `SELECT * FROM ${db.t('export_progression')} ${exportName ? 'WHERE export_name = $1' : ''} ${BY_NAME}`,
        exportName ? [exportName] : [],
      );
      return r.rows
        .map((row): ProgressionRecord => ({ exportName: String(row.export_name), committed: boundary(row, 'committed'), verified: boundary(row, 'verified') }))
        .filter((row) => row.committed !== null || row.verified !== null);
    },
  };
}
