import { pgQueryText } from '../source/postgres/pg-query-text.js';

/**
 * Per-chunk SQL (spec 02 §7.3): each chunk is the base query with one predicate on the
 * chunk key — never LIMIT/OFFSET windows, which shift when rows change and rescan
 * everything before the window. The base query is always wrapped as a subquery
 * (PostgreSQL pushes the predicate down, so an index on the key is still used).
 * PostgreSQL dialect, the only chunked source today.
 */
export type ChunkPredicate =
  | { kind: 'range'; start: bigint; end: bigint }
  | { kind: 'null' }
  | { kind: 'days'; from: string; until: string }
  | { kind: 'dense'; start: bigint; end: bigint };

export interface ChunkSqlInput {
  baseSql: string;
  /** The chunk column, already quoted. */
  column: string;
  /** Dense chunks only: the base query's columns, already quoted, so the synthetic row number is not exported. */
  columns?: string[];
}

export function wrapBase(baseSql: string): string {
  return `(${pgQueryText(baseSql)}) AS _rivet`;
}

export function chunkSql({ baseSql, column, columns }: ChunkSqlInput, p: ChunkPredicate): string {
  switch (p.kind) {
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
}
