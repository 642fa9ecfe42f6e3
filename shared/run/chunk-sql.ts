import { pgDialect } from '../source/postgres/pg-dialect.js';
import type { ChunkPredicate, ChunkSqlInput, SqlDialect } from '../source/sql-dialect.js';

export type { ChunkPredicate, ChunkSqlInput } from '../source/sql-dialect.js';

/**
 * Per-chunk SQL (spec 02 §7.3): each chunk is the base query with one predicate on the
 * chunk key — never LIMIT/OFFSET windows, which shift when rows change and rescan
 * everything before the window. The base query is always wrapped as a subquery. The SQL
 * itself comes from the source's dialect; callers without an open source get PostgreSQL's.
 */
export function wrapBase(baseSql: string, dialect: SqlDialect = pgDialect): string {
  return dialect.wrapBase(baseSql);
}

export function chunkSql(input: ChunkSqlInput, p: ChunkPredicate, dialect: SqlDialect = pgDialect): string {
  return dialect.chunkSql(input, p);
}
