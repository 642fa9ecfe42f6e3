import { RivetError, configError } from '../../errors/rivet-error.js';
import { probeRows } from '../source-probe.js';
import type { CursorWindow } from '../cursor-window.js';
import type { ModePlanner } from './mode-planner.js';
import { identityLabel } from '../cursor-boundary.js';
import type { ResolvedExport } from '../run-deps.js';
import type { Source } from '../../source/source.js';

/**
 * `incremental`: rows whose cursor lies in [boundary since, highest cursor now]. Both bounds
 * are fixed here, at plan time, and the finalizer commits the upper one, with the identities
 * of the rows at the new boundary, only after the run's manifest and _SUCCESS are written. So
 * a cursor never moves past rows that were not exported (the reference took it from the last
 * row streamed), rows arriving during the run wait for the next one, rows that tie the stored
 * cursor or commit late within `cursor_lookback` are re-read and exported exactly once
 * (cursor-boundary.ts), and a failed run leaves the cursor where it was.
 *
 * Rows whose cursor is NULL can only be taken by the first run (no stored cursor): no
 * later window contains them. The first run exports them and warns; the fix is
 * `incremental_cursor_mode: coalesce` with a fallback column that is never NULL.
 */
export const planIncremental: ModePlanner = async ({ exp, source, state, log }) => {
  const inc = exp.incremental;
  if (!inc) throw new RivetError('INTERNAL', `export '${exp.name}': mode incremental without a resolved cursor column`);
  const schema = await source.describe(exp.sql);
  for (const col of [inc.cursorColumn, inc.fallbackColumn]) {
    if (col !== undefined && !schema.fields.some((f) => f.name === col)) {
      throw configError(
        `export '${exp.name}': cursor column '${col}' is not a column of the export's query`,
        `columns of the query: ${schema.fields.map((f) => f.name).join(', ')}`,
      );
    }
  }
  const column = inc.fallbackColumn ? `coalesce(${inc.cursorColumn}, ${inc.fallbackColumn})` : inc.cursorColumn;
  const d = source.dialect;
  const sql = d.cursorSql(exp.sql, inc.cursorColumn, inc.fallbackColumn);

  const type = await d.cursorType(sql, { rows: (q) => probeRows(source, q), describe: (q) => source.describe(q) });
  const identity = identityLabel(await keyColumns(exp, source, schema.fields.map((f) => f.name)));
  const from = await state.getCursor(exp.name);
  const stored = from === null ? null : await state.getBoundary(exp.name);
  // A boundary is only trusted for the cursor it was committed with and the key it was hashed with.
  const base = stored && stored.cursor === from && stored.identity === identity ? stored : null;
  if (stored && !base) {
    log.warn(
      `export '${exp.name}': the stored cursor boundary ${stored.identity !== identity ? `was computed with another row identity (${stored.identity}, now ${identity})` : `belongs to cursor ${stored.cursor}, not ${from}`}; ` +
        `this run reads rows above ${from} only, so rows tied at it that arrived since the last run are not picked up`,
    );
  }
  const fromLit = from === null ? null : d.typedLiteral(from, type);
  const above = (await probeRows(source, d.upperBoundSql(sql, fromLit)))[0]?.[0] ?? null;
  const to = above ?? from;

  if (from === null) {
    const nulls = Number((await probeRows(source, d.nullCursorCountSql(sql)))[0]?.[0] ?? 0);
    if (nulls > 0) {
      log.warn(
        `export '${exp.name}': ${nulls} row(s) have a NULL cursor (${column}); this first run exports them, ` +
          `but rows whose cursor is NULL cannot be picked up by later runs — ` +
          (inc.fallbackColumn ? 'choose a fallback column that is never NULL' : 'use `incremental_cursor_mode: coalesce` with a `cursor_fallback_column` that is never NULL'),
      );
    }
  }

  if (from !== null && above === null && !base) {
    // Nothing above the stored cursor and no boundary to re-read: no task, no part; the cursor stays where it is.
    log.info(`export '${exp.name}': nothing newer than the stored cursor ${column} = ${from}`);
    return { queries: [], header: { cursor: { column, from, to: from } } };
  }
  if (to === null) {
    // No row has a non-NULL cursor yet: export what there is (NULL cursors), commit nothing.
    return { queries: [{ sql: d.windowSql(sql, null, null), label: `${column} (first run)` }], header: { cursor: { column, from, to } } };
  }

  const upper = d.typedLiteral(to, type);
  // A boundary re-read starts at its `since`; without one (first run, or a cursor stored before
  // boundaries existed) the read starts above the cursor and the look-back only grows from here.
  const lower = base ? d.typedLiteral(base.since, type) : fromLit;
  const floor = base ? lower : from === null ? null : upper;
  const next = inc.lookback && floor !== upper ? ((await probeRows(source, d.lookbackSql(upper, floor, type, inc.lookback)))[0]?.[0] ?? to) : to;
  const boundary = { since: base?.since ?? null, next, baseRunId: base?.runId ?? null, identity };
  const cursor: CursorWindow = { column, from, to, boundary };
  const label = `${column} ${from === null ? '(first run)' : base ? `>= ${base.since}` : `> ${from}`} ≤ ${to}`;
  const windowSql = d.windowSql(sql, lower, upper, { inclusive: base !== null, reread: base ? fromLit : null, near: d.typedLiteral(next, type) });
  return { queries: [{ sql: windowSql, label, boundary: { baseRunId: boundary.baseRunId, from, identity } }], header: { cursor } };
};

/**
 * The columns that identify a row at the boundary: `cursor_key_columns`, else the primary key
 * of `table:`, else none (the whole row is the identity).
 */
async function keyColumns(exp: ResolvedExport, source: Source, columns: string[]): Promise<string[] | null> {
  const configured = exp.incremental?.keyColumns;
  if (configured) {
    const missing = configured.filter((c) => !columns.includes(c));
    if (missing.length) {
      throw configError(`export '${exp.name}': cursor_key_columns ${missing.join(', ')} ${missing.length === 1 ? 'is not a column' : 'are not columns'} of the export's query`, `columns of the query: ${columns.join(', ')}`);
    }
    return configured;
  }
  if (!exp.table) return null;
  const pk = (await probeRows(source, source.dialect.primaryKeySql(exp.table))).map((r) => r[0]).filter((c): c is string => c !== null);
  return pk.length > 0 && pk.every((c) => columns.includes(c)) ? pk : null;
}
