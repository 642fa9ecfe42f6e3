import { BOUNDARY_FLAG_COLUMN, type ChunkPredicate, type ChunkSqlInput, type CursorSql, type SqlDialect, type SqlProbe } from '../sql-dialect.js';
import { keysetWhere } from '../keyset-condition.js';
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
export const pgDialect: SqlDialect = {
  engine: 'postgres',
  queryText: pgQueryText,
  quoteIdent,
  wrapBase,
  ...pgKeysetSql,

  chunkSql({ baseSql, column, columns, keyType }: ChunkSqlInput, p: ChunkPredicate): string {
    switch (p.kind) {
      case 'keyset':
        return `SELECT * FROM ${wrapBase(baseSql)}${keysetWhere(column, p, (v) => pgDialect.typedLiteral(v, keyType ?? 'text'))}`;
      case 'range':
        return `SELECT * FROM ${wrapBase(baseSql)} WHERE ${column} BETWEEN ${p.start} AND ${p.end}`;
      case 'null':
        return `SELECT * FROM ${wrapBase(baseSql)} WHERE ${column} IS NULL`;
      case 'days':
        return `SELECT * FROM ${wrapBase(baseSql)} WHERE ${column} >= '${p.from}' AND ${column} < '${p.until}'`;
      case 'dense': {
        const list = (columns ?? []).map((c) => `_rivet_w.${c}`).join(', ') || '_rivet_w.*';
        return (
          `SELECT ${list} FROM (SELECT _rivet_i.*, ROW_NUMBER() OVER (ORDER BY _rivet_i.${column}) AS _rivet_chunk_rn ` +
          `FROM (${pgQueryText(baseSql)}) AS _rivet_i) AS _rivet_w WHERE _rivet_w._rivet_chunk_rn BETWEEN ${p.start} AND ${p.end}`
        );
      }
    }
  },

  keyStatsSql: (baseSql, column) =>
    `SELECT CAST(MIN(${column}) AS TEXT), CAST(MAX(${column}) AS TEXT), CAST(COUNT(*) AS TEXT), CAST(COUNT(${column}) AS TEXT) FROM ${wrapBase(baseSql)}`,

  sparseStartsSql: (baseSql, column, size) =>
    `SELECT CAST(k AS TEXT) FROM (SELECT ${column} AS k, ROW_NUMBER() OVER (ORDER BY ${column}) AS rn FROM ${wrapBase(baseSql)} WHERE ${column} IS NOT NULL) AS _rivet_q WHERE (rn - 1) % ${size} = 0 ORDER BY k`,

  dayStatsSql: (baseSql, column) =>
    `SELECT CAST(MIN(${column}) AS TEXT), CAST(COUNT(*) AS TEXT), CAST(COUNT(${column}) AS TEXT) FROM ${wrapBase(baseSql)}`,

  // FLOOR keeps days before 1970 in the right bucket.
  dayBucketsSql: (baseSql, column, days) =>
    `SELECT DISTINCT CAST(FLOOR((CAST(${column} AS DATE) - DATE '1970-01-01') / ${days}.0) AS BIGINT) AS b FROM ${wrapBase(baseSql)} WHERE ${column} IS NOT NULL ORDER BY b`,

  // Newlines around the body: a trailing `--` comment must not swallow the closing parenthesis.
  countSql: (baseSql) => `SELECT CAST(count(*) AS TEXT) AS n FROM (\n${pgQueryText(baseSql)}\n) AS _rivet_count`,

  primaryKeySql(table) {
    const qualified = table.schema ? `${table.schema}.${table.name}` : table.name;
    return `SELECT CAST(a.attname AS TEXT), CAST(format_type(a.atttypid, a.atttypmod) AS TEXT)
       FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = to_regclass(${pgTextLiteral(qualified)}) AND i.indisprimary`;
  },

  isIntegerKeyType: (type) => ['smallint', 'integer', 'bigint'].includes(type),

  cursorSql(baseSql: string, column: string, fallback?: string): CursorSql {
    const p = `_rivet.${quoteIdent(column)}`;
    return {
      expr: fallback ? `COALESCE(${p}, _rivet.${quoteIdent(fallback)})` : p,
      from: `FROM (\n${pgQueryText(baseSql)}\n) AS _rivet`,
    };
  },

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

  // ORDER BY … LIMIT 1 rather than max() so any ordered type works (uuid has no max()).
  upperBoundSql(c, lower) {
    const where = lower === null ? `${c.expr} IS NOT NULL` : `${c.expr} > ${lower}`;
    return `SELECT (${c.expr})::text AS hi ${c.from} WHERE ${where} ORDER BY ${c.expr} DESC LIMIT 1`;
  },

  nullCursorCountSql: (c) => `SELECT count(*)::text AS n ${c.from} WHERE ${c.expr} IS NULL`,

  windowSql(c, lower, upper, boundary) {
    const conditions: string[] = [];
    if (lower !== null) conditions.push(`${c.expr} ${boundary?.inclusive ? '>=' : '>'} ${lower}`);
    if (upper !== null) conditions.push(lower === null ? `(${c.expr} <= ${upper} OR ${c.expr} IS NULL)` : `${c.expr} <= ${upper}`);
    const where = conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '';
    const flag = boundary
      ? `, (CASE WHEN ${boundary.reread === null ? '1 = 0' : `${c.expr} <= ${boundary.reread}`} THEN 1 ELSE 0 END + CASE WHEN ${c.expr} >= ${boundary.near} THEN 2 ELSE 0 END) AS ${BOUNDARY_FLAG_COLUMN}`
      : '';
    return `SELECT _rivet.*${flag} ${c.from}${where} ORDER BY ${c.expr}`;
  },
  /** Date/time cursors step back by an interval, numbers by an amount; the result is cast back to the cursor's type (a date floors). */
  lookbackSql(upper, floor, type, lookback) {
    const kind = /^(timestamp|date)/.test(type) ? 'time' : /^(smallint|integer|bigint|numeric|real|double precision)/.test(type) ? 'number' : null;
    const back = lookbackStep(kind, type, lookback);
    const value = back === 'time' ? `CAST(${upper} - INTERVAL '${(lookback as { seconds: number }).seconds} seconds' AS ${type})` : `CAST(${upper} - ${(lookback as { amount: string }).amount} AS ${type})`;
    return `SELECT CAST(${floor === null ? value : `GREATEST(${value}, ${floor})`} AS TEXT) AS since`;
  },

  /**
   * The timestamp literal carries `+00`, so a timestamptz column is cut at UTC midnight
   * whatever the session zone; for a timestamp (or date) column the offset is ignored and
   * the wall-clock value is compared, as the reference does.
   */
  timeWindowSql(baseSql, column, cutoff, columnType) {
    const bound = columnType === 'unix' ? String(cutoff.getTime() / 1000) : `'${cutoff.toISOString().slice(0, 10)} 00:00:00+00'`;
    return `SELECT _rivet.* FROM (\n${pgQueryText(baseSql)}\n) AS _rivet WHERE _rivet.${quoteIdent(column)} >= ${bound}`;
  },
};
