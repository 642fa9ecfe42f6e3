import type { CommittedProgression, CursorBoundary, CursorStore, ProgressionBoundary, ProgressionRecord } from '../cursor-store.js';
import type { SqlQuery, SqlRow, SqlStateDriver } from './sql-state-driver.js';

/**
 * Cursors (`export_state`, the reference tool's table), the rows at the edge of each cursor
 * (`export_cursor_boundary`) and the advisory progression (`export_progression`, the
 * reference's columns so its queries keep working).
 */

/** Thrown inside a transaction to roll it back when a compare-and-set check fails. */
const LOST = Symbol('lost');

/** RFC 3339 with an explicit `+00:00` offset, the reference's spelling for state timestamps. */
function stateNow(): string {
  return new Date().toISOString().replace(/Z$/, '+00:00');
}

function boundary(r: SqlRow, side: 'committed' | 'verified'): ProgressionBoundary | null {
  const strategy = r[`last_${side}_strategy`];
  const at = r[`last_${side}_at`];
  // A boundary exists only when both its strategy and a parseable time are there.
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

export function sqlCursors(db: SqlStateDriver): CursorStore {
  const state = db.table('export_state');
  const edge = db.table('export_cursor_boundary');
  const progression = db.table('export_progression');
  const byName = `ORDER BY ${db.dialect.byteOrder('export_name')}`;

  /**
   * Compare-and-set of the cursor in one statement. From a stored value: an UPDATE that
   * matches only while the value is still `expected` (on PostgreSQL a concurrent UPDATE waits
   * for the first one's commit, then re-checks and matches nothing). From none: an INSERT
   * that loses on the primary key, or takes over a row whose cursor is NULL (which reads as none).
   */
  const casCursor = (q: SqlQuery, exportName: string, expected: string | null, next: string, at: string) =>
    expected === null
      ? q(
          `INSERT INTO ${state} AS s (export_name, last_cursor_value, last_run_at) VALUES ($1, $2, $3)
           ON CONFLICT (export_name) DO UPDATE SET last_cursor_value = excluded.last_cursor_value, last_run_at = excluded.last_run_at
           WHERE s.last_cursor_value IS NULL`,
          [exportName, next, at],
        )
      : q(`UPDATE ${state} SET last_cursor_value = $2, last_run_at = $3 WHERE export_name = $1 AND last_cursor_value = $4`, [exportName, next, at, expected]);

  const recordSide = async (side: 'committed' | 'verified', p: CommittedProgression) => {
    const c = (name: string) => `last_${side}_${name}`;
    // Our cursors only move forward (the planner orders them with the source's own comparison),
    // so the recorded boundary is simply replaced; the reference compared them as strings.
    await db.query(
      `INSERT INTO ${progression} (export_name, ${c('strategy')}, ${c('cursor')}, ${c('chunk_index')}, ${c('run_id')}, ${c('at')})
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (export_name) DO UPDATE SET ${['strategy', 'cursor', 'chunk_index', 'run_id', 'at'].map((n) => `${c(n)} = excluded.${c(n)}`).join(', ')}`,
      [p.exportName, p.strategy, p.cursor ?? null, p.chunkIndex ?? null, p.runId, stateNow()],
    );
  };

  return {
    async getCursor(exportName) {
      const r = await db.query<{ v: string | null }>(`SELECT last_cursor_value AS v FROM ${state} WHERE export_name = $1`, [exportName]);
      return r.rows[0]?.v ?? null;
    },
    async setCursor(exportName, value) {
      await db.query(
        `INSERT INTO ${state} (export_name, last_cursor_value, last_run_at) VALUES ($1, $2, $3)
         ON CONFLICT (export_name) DO UPDATE SET last_cursor_value = excluded.last_cursor_value, last_run_at = excluded.last_run_at`,
        [exportName, value, stateNow()],
      );
    },
    async advanceCursor(exportName, expected, next) {
      const r = await casCursor(db.query, exportName, expected, next, stateNow());
      return r.changes === 1;
    },
    async resetCursor(exportName) {
      return db.transaction(async (q) => {
        await q(`DELETE FROM ${edge} WHERE export_name = $1`, [exportName]);
        const r = await q(`DELETE FROM ${state} WHERE export_name = $1`, [exportName]);
        return r.changes > 0;
      });
    },
    async getBoundary(exportName) {
      const r = await db.query<{ cursor: string; since: string; identity: string; ids: Uint8Array; run_id: string }>(
        `SELECT cursor, since, identity, ids, run_id FROM ${edge} WHERE export_name = $1`,
        [exportName],
      );
      const row = r.rows[0];
      return row ? { cursor: row.cursor, since: row.since, identity: row.identity, ids: new Uint8Array(row.ids), runId: row.run_id } : null;
    },
    async commitBoundary(exportName, expected, next: CursorBoundary) {
      try {
        return await db.transaction(async (q) => {
          const at = stateNow();
          // The cursor row is written first: its row lock (or, for a first cursor, the primary
          // key) serialises two committers, so the boundary check below sees the winner's row.
          if ((await casCursor(q, exportName, expected.cursor, next.cursor, at)).changes !== 1) throw LOST;
          const b = await q<{ run_id: string }>(`SELECT run_id FROM ${edge} WHERE export_name = $1${db.dialect.forUpdate}`, [exportName]);
          if ((b.rows[0]?.run_id ?? null) !== expected.runId) throw LOST;
          await q(
            `INSERT INTO ${edge} (export_name, cursor, since, identity, ids, run_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (export_name) DO UPDATE SET cursor = excluded.cursor, since = excluded.since, identity = excluded.identity,
               ids = excluded.ids, run_id = excluded.run_id, updated_at = excluded.updated_at`,
            [exportName, next.cursor, next.since, next.identity, next.ids, next.runId, at],
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
        `SELECT export_name, last_cursor_value, last_run_at FROM ${state} ${byName}`,
      );
      return r.rows.map((row) => ({ exportName: row.export_name, cursor: row.last_cursor_value, lastRunAt: row.last_run_at }));
    },
    recordCommittedProgression: (p) => recordSide('committed', p),
    recordVerifiedProgression: (p) => recordSide('verified', p),
    async listProgression(exportName) {
      const r = await db.query(`SELECT * FROM ${progression} ${exportName ? 'WHERE export_name = $1' : ''} ${byName}`, exportName ? [exportName] : []);
      return r.rows
        .map((row): ProgressionRecord => ({ exportName: String(row.export_name), committed: boundary(row, 'committed'), verified: boundary(row, 'verified') }))
        .filter((row) => row.committed !== null || row.verified !== null);
    },
  };
}
