import type { Schema } from 'apache-arrow';
import type { SourceEngine } from './source.js';

/**
 * The SQL text the export modes send to a source, one per engine (`<engine>-dialect.ts` in
 * the engine's folder). Most statements are written once by `defaultDialect`
 * (default-dialect.ts) from a few per-engine hooks; an engine writes its own only for its
 * catalog, its types and where its grammar differs. shared/run builds no SQL of its own: it
 * asks the source's `dialect`, so adding an engine never touches the modes.
 *
 * Conventions every implementation keeps:
 * - `baseSql` is the user's query exactly as configured (trailing `;` and comments not yet
 *   removed); implementations clean it with `queryText` before wrapping it.
 * - `column` arguments are **already quoted** with `quoteIdent` unless the parameter says
 *   it is a bare name.
 * - Probe queries ("…Sql returning rows as text") are run through `probeRows`
 *   (shared/run/source-probe.ts), which turns every cell into a string with `String(v)`.
 *   They must CAST what they select to the engine's text type, so integers beyond 2^53,
 *   decimals and dates arrive exactly as the database printed them.
 * - Literals produced here are embedded in SQL text (no bind parameters): they must be
 *   escaped for the engine.
 */

/** One chunk's predicate on the chunk key (docs/modes.md). */
export type ChunkPredicate =
  | { kind: 'range'; start: bigint; end: bigint }
  | { kind: 'null' }
  /** `from` inclusive, `until` exclusive, both `YYYY-MM-DD` (UTC calendar days). */
  | { kind: 'days'; from: string; until: string }
  /** 1-based ROW_NUMBER() ordinals in key order, both inclusive. */
  | { kind: 'dense'; start: bigint; end: bigint }
  /**
   * `chunk_by_key`: the half-open key range `from <= key < until`, bounds as the source
   * printed them (rendered with `typedLiteral` and `ChunkSqlInput.keyType`); null = unbounded.
   */
  | { kind: 'keyset'; from: string | null; until: string | null };

export interface ChunkSqlInput {
  baseSql: string;
  /** The chunk column, already quoted. */
  column: string;
  /** Dense chunks only: the base query's columns, already quoted, so the synthetic row number is not exported. */
  columns?: string[];
  /** Keyset chunks only: the key's type as `cursorType` names it, for its literals. */
  keyType?: string;
}

/** The wrapped base query of an incremental export and its cursor expression. */
export interface CursorSql {
  /** The cursor expression over the wrapped query, e.g. `_rivet."col"` or `COALESCE(_rivet."col", _rivet."fallback")`. */
  expr: string;
  /** `FROM (<base>) AS _rivet` (with newlines around the base, so a trailing `--` comment cannot swallow the parenthesis). */
  from: string;
}

/**
 * How far below its upper bound an incremental run keeps row identities, so the next run can
 * re-read that span (`cursor_lookback`): seconds for date/time cursors, an amount in the
 * cursor's own unit for numeric ones.
 */
export type Lookback = { unit: 'seconds'; seconds: number } | { unit: 'number'; amount: string };

/**
 * The internal column an incremental window adds when it tracks its boundary: bit 1 = the row's
 * cursor is at or below `reread` (a row an earlier run may have exported), bit 2 = at or above
 * `near` (a row whose identity the next run needs). Workers drop it before writing.
 */
export const BOUNDARY_FLAG_COLUMN = '_rivet_boundary';

/** Boundary tracking for `windowSql`. */
export interface WindowBoundary {
  /** Lower bound is inclusive (`>=`): the run re-reads the rows at (and below) the stored cursor. */
  inclusive: boolean;
  /** Typed literal: rows at or below it get bit 1 of BOUNDARY_FLAG_COLUMN; null = none. */
  reread: string | null;
  /** Typed literal: rows at or above it get bit 2. */
  near: string;
}

/** What a dialect may run while resolving a cursor type: both go through the open source. */
export interface SqlProbe {
  /** Run a small query and return its cells as text (NULL stays null). */
  rows(sql: string): Promise<(string | null)[][]>;
  /** Column names and Arrow types (with `rivet.native_type` metadata) of a query, without rows. */
  describe(sql: string): Promise<Schema>;
}

export interface SqlDialect {
  readonly engine: SourceEngine;

  /** The user's SQL made safe to wrap as a subquery: trailing semicolons and comments removed. */
  queryText(sql: string): string;
  /** Quote an identifier (column or table part) the way this engine wants it. */
  quoteIdent(name: string): string;

  // ---- chunked mode -------------------------------------------------------------------

  /** `(<cleaned base>) AS _rivet`, for `SELECT … FROM <this>`. */
  wrapBase(baseSql: string): string;
  /** One chunk's full query: the wrapped base query restricted by `p`. Dense chunks select `columns` only. */
  chunkSql(input: ChunkSqlInput, p: ChunkPredicate): string;
  /** One row as text: MIN(column), MAX(column), COUNT(*), COUNT(column) over the base query. */
  keyStatsSql(baseSql: string, column: string): string;
  /**
   * Rows as text, one per chunk start: every `size`-th non-NULL key in key order (keys whose
   * 0-based ordinal is a multiple of `size`), ascending.
   */
  sparseStartsSql(baseSql: string, column: string, size: bigint): string;
  /**
   * One row as text: MIN(column) printed so that its first 10 characters are `YYYY-MM-DD`
   * (in UTC for zoned types), COUNT(*), COUNT(column).
   */
  dayStatsSql(baseSql: string, column: string): string;
  /**
   * Rows as text, ascending and distinct: for every non-NULL key, floor(days since
   * 1970-01-01 / `days`) as an integer (negative before 1970).
   */
  dayBucketsSql(baseSql: string, column: string, days: number): string;
  /** One row, one cell as text: the number of rows the base query yields. */
  countSql(baseSql: string): string;
  /**
   * Rows as text (column name, type name): the primary-key columns of `table` (bare names,
   * as configured under `table:`). No rows when the table has no primary key.
   */
  primaryKeySql(table: { schema?: string; name: string }): string;
  /** Whether a type name from `primaryKeySql` is an integer type that range chunks can cut. */
  isIntegerKeyType(type: string): boolean;
  /**
   * Rows whose first two cells are (column name, `1` when NOT NULL else `0`), as text: the
   * columns of `table` that on their own are its primary key or a unique index without
   * predicate or expression, primary key first (further cells are ordering helpers). Only
   * types whose text form reads back exactly through `typedLiteral` are listed.
   */
  keysetKeysSql(table: { schema?: string; name: string }): string;
  /**
   * One row, one cell as text (no row past the end): the non-NULL key at 0-based position
   * `offset` in key order among the keys `>= from` (a `typedLiteral`; null = from the first key).
   */
  keysetBoundarySql(c: CursorSql, from: string | null, offset: bigint): string;
  /** One row, one cell as text: the table's average row size in bytes from the catalog's statistics; NULL or ≤ 0 when unknown. */
  avgRowBytesSql(table: { schema?: string; name: string }): string;

  // ---- incremental mode ---------------------------------------------------------------

  /** The wrapped base query and cursor expression; `column`/`fallback` are bare names. */
  cursorSql(baseSql: string, column: string, fallback?: string): CursorSql;
  /**
   * The cursor expression's type, in the form `typedLiteral` accepts. Must not read data
   * rows (a LIMIT 0 / describe probe).
   */
  cursorType(c: CursorSql, probe: SqlProbe): Promise<string>;
  /** A literal of the cursor's own type, so the comparison follows the source's ordering exactly. */
  typedLiteral(value: string, type: string): string;
  /**
   * One row, one cell as text (or no row): the highest cursor above `lower` (exclusive; a
   * `typedLiteral`), or the highest non-NULL cursor when `lower` is null. Any ordered type.
   */
  upperBoundSql(c: CursorSql, lower: string | null): string;
  /** One row, one cell as text: how many rows have a NULL cursor. */
  nullCursorCountSql(c: CursorSql): string;
  /**
   * The rows of one run, ordered by the cursor: `> lower` and `<= upper` (typed literals).
   * `lower` null (first run) also takes NULL cursors; `upper` null takes the whole base query.
   */
  windowSql(c: CursorSql, lower: string | null, upper: string | null, boundary?: WindowBoundary): string;
  /**
   * One row, one cell as text, in the cursor's own type: `upper` minus `lookback`, but never
   * below `floor` (typed literals; `floor` may be null). Throws a config error when the
   * look-back does not fit the cursor's type (a unit on a number, a number on a timestamp, text).
   */
  lookbackSql(upper: string, floor: string | null, type: string, lookback: Lookback): string;

  // ---- time_window mode ---------------------------------------------------------------

  /**
   * The base query's rows whose `column` (bare name) is at or after `cutoff` (a UTC
   * midnight). `timestamp`: zoned columns compare in UTC, zone-less ones by wall clock;
   * `unix`: the column holds epoch seconds.
   */
  timeWindowSql(baseSql: string, column: string, cutoff: Date, columnType: 'timestamp' | 'unix'): string;
}
