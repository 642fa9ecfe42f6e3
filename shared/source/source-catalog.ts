import type { Logger } from '../log/logger.js';
import type { SourceConnection, SourceEngine } from './source.js';
import type { SqlDialect } from './sql-dialect.js';

/**
 * Read-only introspection of a source database, for `rivet check` and `rivet init`: what
 * tables exist, how big they are, their columns, keys and indexes, and what the planner
 * thinks of a query. A catalog is a separate seam from `Source` (which streams rows): it
 * needs no type mapping, and opening one never reads table data beyond cheap aggregates.
 *
 * Every statement is short and runs under the catalog's statement timeout, so a preflight
 * can never become the heavy query it is meant to warn about. Implementations live in the
 * engine folders; `openCatalog` in registry.ts picks one.
 */

export interface CatalogTable {
  schema: string;
  name: string;
  kind: 'table' | 'view';
  /** The statistics' idea of the row count (PG reltuples, MySQL TABLE_ROWS); 0 when unknown. */
  rowEstimate: number;
  /** Table + indexes + TOAST on disk, in bytes; undefined for views. */
  totalBytes?: number;
}

export interface CatalogColumn {
  name: string;
  /** `information_schema.columns.data_type`, lower-cased (`integer`, `timestamp with time zone`, `varchar`…). */
  dataType: string;
  nullable: boolean;
  /** Declared NUMERIC/DECIMAL precision and scale; null when not declared (unbounded PG numeric). */
  numericPrecision: number | null;
  numericScale: number | null;
}

export interface CatalogIndex {
  name: string;
  /** Key columns in index order; the first one is what range predicates can use. */
  columns: string[];
  unique: boolean;
  primary: boolean;
  /** btree (or the engine's ordered default): usable for range scans and MIN/MAX. */
  ordered: boolean;
}

export interface TableDescription extends CatalogTable {
  columns: CatalogColumn[];
  primaryKey: string[];
  indexes: CatalogIndex[];
}

export interface ColumnStats {
  /** As the database prints them; null when the table is empty or the probe timed out. */
  min: string | null;
  max: string | null;
  /** From planner statistics (PG pg_stats.null_frac × rows); undefined when not collected. */
  nullEstimate?: number;
  /** From planner statistics; undefined when not collected. */
  distinctEstimate?: number;
}

export interface PlanEstimate {
  /** The outermost plan node's row estimate; null when the plan gives none. */
  rows: number | null;
  /** The first scan line of the plan (`Seq Scan on orders`, `range using PRIMARY`…). */
  scan: string;
  /** The plan uses an index. */
  indexed: boolean;
}

/** A result column of a query, as the database names its type (no Rivet mapping involved). */
export interface ResultColumn {
  name: string;
  nativeType: string;
}

export interface SourceCatalog {
  readonly engine: SourceEngine;
  /** The engine's SQL text builders (quoting, cursor expressions), shared with the Source. */
  readonly dialect: SqlDialect;
  /** The schema (PG) or database (MySQL) unqualified names resolve to; null when none is selected. */
  defaultSchema(): Promise<string | null>;
  /** Base tables and views of `schema`, ordered by name. */
  listTables(schema: string): Promise<CatalogTable[]>;
  /** One table or view; null when it does not exist or shows no columns to this user. */
  describeTable(schema: string, table: string): Promise<TableDescription | null>;
  /** MIN/MAX of one column (cheap with an index on it) plus whatever the planner statistics know. */
  columnStats(schema: string, table: string, column: string): Promise<ColumnStats>;
  /** MIN/MAX of a column over an arbitrary query, as text; nulls when the probe fails or times out. */
  queryRange(sql: string, column: string): Promise<{ min: string | null; max: string | null }>;
  /** EXPLAIN without running the query. */
  explain(sql: string): Promise<PlanEstimate>;
  /** The server's connection limit; null when it cannot be read. */
  maxConnections(): Promise<number | null>;
  /** Column names and native type names of a query's result, without fetching rows. */
  resultColumns(sql: string): Promise<ResultColumn[]>;
  close(): Promise<void>;
}

export interface OpenCatalogOptions {
  connection: SourceConnection;
  log: Logger;
  /** Per-statement ceiling; default 30 s. */
  statementTimeoutMs?: number;
}

export const DEFAULT_CATALOG_TIMEOUT_MS = 30_000;

export type OpenCatalog = (options: OpenCatalogOptions) => Promise<SourceCatalog>;
