import { RivetError, configError } from '../../errors/rivet-error.js';
import { probeRows } from '../source-probe.js';
import type { CursorWindow } from '../cursor-window.js';
import type { ModePlanner } from './mode-planner.js';

/**
 * `incremental`: rows whose cursor lies in (stored cursor, highest cursor now]. Both bounds
 * are fixed here, at plan time, and the finalizer commits the upper one only after the
 * run's manifest and _SUCCESS are written. So a cursor never moves past rows that were not
 * exported (the reference took it from the last row streamed), rows arriving during the
 * run wait for the next one, and a failed run leaves the cursor where it was.
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
  const from = await state.getCursor(exp.name);
  const lower = from === null ? null : d.typedLiteral(from, type);
  const to = (await probeRows(source, d.upperBoundSql(sql, lower)))[0]?.[0] ?? null;

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

  const cursor: CursorWindow = { column, from, to: to ?? from };
  if (from !== null && to === null) {
    // Nothing above the stored cursor: no task, no part; the cursor stays where it is.
    log.info(`export '${exp.name}': nothing newer than the stored cursor ${column} = ${from}`);
    return { queries: [], header: { cursor } };
  }
  const upper = to === null ? null : d.typedLiteral(to, type);
  const label = `${column} ${from === null ? '(first run)' : `> ${from}`}${to === null ? '' : ` ≤ ${to}`}`;
  return { queries: [{ sql: d.windowSql(sql, lower, upper), label }], header: { cursor } };
};
