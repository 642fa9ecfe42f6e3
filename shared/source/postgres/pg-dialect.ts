import { defaultDialect } from '../default-dialect.js';
import type { CursorSql, SqlDialect, SqlProbe } from '../sql-dialect.js';
import { pgKeysetSql } from './pg-keyset.js';
import { lookbackStep } from '../lookback-step.js';
import { pgQueryText } from './pg-query-text.js';

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function wrapBase(baseSql: string): string {
  return `(${pgQueryText(baseSql)}) AS _rivet`;
}

/**
 * A string literal that survives either setting of `standard_conforming_strings`: an E''
 * string with backslashes and quotes doubled.
 */
export function pgTextLiteral(value: string): string {
  return `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * PostgreSQL SQL for the export modes. The base query is always wrapped as a subquery:
 * PostgreSQL pushes predicates down, so an index on the chunk key or cursor is still used.
 */
export const pgDialect: SqlDialect = defaultDialect({
  engine: 'postgres',
  queryText: pgQueryText,
  quoteIdent,
  ...pgKeysetSql,
  subquery: (cleaned) => `(${cleaned})`,
  keyText: (expr) => `CAST(${expr} AS TEXT)`,
  countText: (expr) => `CAST(COUNT(${expr}) AS TEXT)`,
  valueText: (expr) => `CAST(${expr} AS TEXT)`,
  /**
   * The literal carries `+00`, so a timestamptz column is cut at UTC midnight whatever the
   * session zone; for a timestamp (or date) column the offset is ignored and the wall-clock
   * value is compared, as the reference does.
   */
  midnightLiteral: (day) => `'${day} 00:00:00+00'`,

  // FLOOR keeps days before 1970 in the right bucket.
  dayBucketsSql: (baseSql, column, days) =>
    `SELECT DISTINCT CAST(FLOOR((CAST(${column} AS DATE) - DATE '1970-01-01') / ${days}.0) AS BIGINT) AS b FROM ${wrapBase(baseSql)} WHERE ${column} IS NOT NULL ORDER BY b`,

  primaryKeySql(table) {
    const qualified = table.schema ? `${table.schema}.${table.name}` : table.name;
    return `SELECT CAST(a.attname AS TEXT), CAST(format_type(a.atttypid, a.atttypmod) AS TEXT)
       FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = to_regclass(${pgTextLiteral(qualified)}) AND i.indisprimary`;
  },

  isIntegerKeyType: (type) => ['smallint', 'integer', 'bigint'].includes(type),

  /**
   * A LEFT JOIN to an empty (LIMIT 0) projection yields one NULL of the expression's type,
   * and `pg_typeof` names it as `regtype` text, which is safe to parse back in a CAST.
   */
  async cursorType(c: CursorSql, probe: SqlProbe): Promise<string> {
    const rows = await probe.rows(
      `SELECT pg_typeof(_rivet_t.c)::text AS t FROM (SELECT 1) AS _rivet_one LEFT JOIN (SELECT ${c.expr} AS c ${c.from} LIMIT 0) AS _rivet_t ON true`,
    );
    return rows[0]?.[0] ?? 'text';
  },

  typedLiteral: (value, type) => `CAST(${pgTextLiteral(value)} AS ${type})`,

  /** Date/time cursors step back by an interval, numbers by an amount; the result is cast back to the cursor's type (a date floors). */
  lookbackSql(upper, floor, type, lookback) {
    const kind = /^(timestamp|date)/.test(type) ? 'time' : /^(smallint|integer|bigint|numeric|real|double precision)/.test(type) ? 'number' : null;
    const back = lookbackStep(kind, type, lookback);
    const value = back === 'time' ? `CAST(${upper} - INTERVAL '${(lookback as { seconds: number }).seconds} seconds' AS ${type})` : `CAST(${upper} - ${(lookback as { amount: string }).amount} AS ${type})`;
    return `SELECT CAST(${floor === null ? value : `GREATEST(${value}, ${floor})`} AS TEXT) AS since`;
  },
});
