import { pgQueryText } from '../../source/postgres/pg-query-text.js';

/**
 * The SQL of an incremental export (PostgreSQL dialect, the only source today). The cursor
 * is compared with a literal CAST to the cursor's own type, so numeric, timestamp,
 * timestamptz, date, integer and text cursors all compare by the source's ordering, and a
 * timestamptz bound carries its offset instead of being read in the session zone.
 */
export interface CursorSql {
  /** `_rivet."col"` or `COALESCE(_rivet."col", _rivet."fallback")`. */
  expr: string;
  /** `FROM (<base>) AS _rivet`. */
  from: string;
}

export function cursorSql(baseSql: string, quote: (name: string) => string, column: string, fallback?: string): CursorSql {
  const p = `_rivet.${quote(column)}`;
  return {
    expr: fallback ? `COALESCE(${p}, _rivet.${quote(fallback)})` : p,
    from: `FROM (\n${pgQueryText(baseSql)}\n) AS _rivet`,
  };
}

/**
 * A string literal that survives either setting of `standard_conforming_strings`: an E''
 * string with backslashes and quotes doubled.
 */
export function textLiteral(value: string): string {
  return `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** `CAST(E'…' AS <type>)`; `type` is PostgreSQL's own `regtype` text, which is safe to parse back. */
export function typedLiteral(value: string, type: string): string {
  return `CAST(${textLiteral(value)} AS ${type})`;
}

/**
 * The cursor expression's type without reading a row: a LEFT JOIN to an empty (LIMIT 0)
 * projection yields one NULL of that type, and `pg_typeof` names it.
 */
export function cursorTypeSql(c: CursorSql): string {
  return `SELECT pg_typeof(_rivet_t.c)::text AS t FROM (SELECT 1) AS _rivet_one LEFT JOIN (SELECT ${c.expr} AS c ${c.from} LIMIT 0) AS _rivet_t ON true`;
}

/**
 * The upper bound of this run: the highest cursor above `lower` (exclusive), as text. ORDER
 * BY … LIMIT 1 rather than max() so any ordered type works (uuid has no max()).
 */
export function upperBoundSql(c: CursorSql, lower: string | null): string {
  const where = lower === null ? `${c.expr} IS NOT NULL` : `${c.expr} > ${lower}`;
  return `SELECT (${c.expr})::text AS hi ${c.from} WHERE ${where} ORDER BY ${c.expr} DESC LIMIT 1`;
}

export function nullCursorCountSql(c: CursorSql): string {
  return `SELECT count(*)::text AS n ${c.from} WHERE ${c.expr} IS NULL`;
}

/**
 * The rows of one run. The first run (no lower bound) also takes the rows whose cursor is
 * NULL, since no later window can ever select them; `upper` null means no row has a cursor
 * yet, so the whole base query is taken.
 */
export function windowSql(c: CursorSql, lower: string | null, upper: string | null): string {
  const conditions: string[] = [];
  if (lower !== null) conditions.push(`${c.expr} > ${lower}`);
  if (upper !== null) conditions.push(lower === null ? `(${c.expr} <= ${upper} OR ${c.expr} IS NULL)` : `${c.expr} <= ${upper}`);
  const where = conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '';
  return `SELECT _rivet.* ${c.from}${where} ORDER BY ${c.expr}`;
}
