import { pgDialect, pgTextLiteral } from '../../source/postgres/pg-dialect.js';
import type { CursorSql, SqlDialect } from '../../source/sql-dialect.js';

export type { CursorSql } from '../../source/sql-dialect.js';

/**
 * The SQL of an incremental export, from the source's dialect (PostgreSQL's when none is
 * given). The cursor is compared with a literal of the cursor's own type, so numeric,
 * timestamp, date, integer and text cursors all compare by the source's ordering.
 * Thin wrappers kept so callers without an open source keep working.
 */
export function cursorSql(baseSql: string, _quote: (name: string) => string, column: string, fallback?: string, dialect: SqlDialect = pgDialect): CursorSql {
  return dialect.cursorSql(baseSql, column, fallback);
}

/** PostgreSQL E'' literal (kept for callers of the former PostgreSQL-only helpers). */
export function textLiteral(value: string): string {
  return pgTextLiteral(value);
}

export function typedLiteral(value: string, type: string, dialect: SqlDialect = pgDialect): string {
  return dialect.typedLiteral(value, type);
}

export function upperBoundSql(c: CursorSql, lower: string | null, dialect: SqlDialect = pgDialect): string {
  return dialect.upperBoundSql(c, lower);
}

export function nullCursorCountSql(c: CursorSql, dialect: SqlDialect = pgDialect): string {
  return dialect.nullCursorCountSql(c);
}

export function windowSql(c: CursorSql, lower: string | null, upper: string | null, dialect: SqlDialect = pgDialect): string {
  return dialect.windowSql(c, lower, upper);
}
