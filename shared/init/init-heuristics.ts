import type { CatalogColumn, TableDescription } from '../source/source-catalog.js';

/**
 * How `rivet init` picks a mode for a table (docs/commands/init.md). Deliberately simple and explained in
 * the generated YAML: the user reviews the choice, and `rivet check` measures it.
 */
export const CHUNKED_THRESHOLD_ROWS = 100_000;

const INTEGER_TYPES = new Set(['int', 'integer', 'bigint', 'int4', 'int8', 'int2', 'smallint', 'serial', 'bigserial', 'smallserial', 'tinyint', 'mediumint']);
const TEXTY_TYPES = new Set(['text', 'varchar', 'character varying', 'jsonb', 'json', 'bytea']);

export function isIntegerType(dataType: string): boolean {
  return INTEGER_TYPES.has(dataType.toLowerCase());
}

export function isTimestampLike(dataType: string): boolean {
  const t = dataType.toLowerCase();
  return t.includes('timestamp') || t === 'datetime' || t === 'date';
}

export function isDecimalType(dataType: string): boolean {
  const t = dataType.toLowerCase();
  return t === 'numeric' || t === 'decimal';
}

export interface TablePlan {
  mode: 'full' | 'incremental' | 'chunked';
  /** The `# auto:` comment: why this mode. */
  reason: string;
  chunkColumn?: string;
  chunkSize?: number;
  parallel?: number;
  cursorColumn?: string;
  /** Set when the `parquet:` block is written. */
  targetRowGroupMb?: 64 | 128;
  /** `columns:` overrides for NUMERIC/DECIMAL columns; `review` marks an undeclared precision. */
  decimals: { column: string; type: string; review: boolean }[];
}

/** The preferred cursor among timestamp-like columns: updated/modified, then created, then the first. */
export function preferredCursor(columns: CatalogColumn[]): CatalogColumn | undefined {
  const ts = columns.filter((c) => isTimestampLike(c.dataType));
  return (
    ts.find((c) => c.name === 'updated_at' || c.name === 'modified_at') ??
    ts.find((c) => c.name === 'created_at') ??
    ts[0]
  );
}

export function chunkSizeFor(rows: number): number {
  if (rows < 1_000_000) return 100_000;
  if (rows < 10_000_000) return 250_000;
  if (rows < 100_000_000) return 1_000_000;
  return 2_500_000;
}

export function parallelFor(rows: number): number | undefined {
  if (rows < 500_000) return undefined;
  return rows < 5_000_000 ? 2 : 4;
}

export function planTable(t: TableDescription): TablePlan {
  const rows = t.rowEstimate;
  const ints = t.columns.filter((c) => isIntegerType(c.dataType));
  const decimals = t.columns
    .filter((c) => isDecimalType(c.dataType))
    .map((c) =>
      c.numericPrecision !== null && c.numericPrecision > 0
        ? { column: c.name, type: `decimal(${c.numericPrecision},${c.numericScale ?? 0})`, review: false }
        : { column: c.name, type: 'decimal(38,18)', review: true },
    );
  const texty = t.columns.filter((c) => TEXTY_TYPES.has(c.dataType.toLowerCase())).length;
  const rowGroup = texty >= 5 ? 64 : 128;

  let plan: TablePlan;
  if (rows > CHUNKED_THRESHOLD_ROWS && ints.length > 0) {
    const key = ints.find((c) => t.primaryKey.includes(c.name)) ?? ints[0];
    const parallel = parallelFor(rows);
    plan = {
      mode: 'chunked',
      reason: `estimated rows ≥ ${CHUNKED_THRESHOLD_ROWS / 1000}K and integer column ${key.name}${t.primaryKey.includes(key.name) ? ' (primary key)' : ''} can cut chunks`,
      chunkColumn: key.name,
      chunkSize: chunkSizeFor(rows),
      ...(parallel ? { parallel } : {}),
      decimals,
    };
  } else if (rows > CHUNKED_THRESHOLD_ROWS && preferredCursor(t.columns)) {
    const cursor = preferredCursor(t.columns)!;
    plan = {
      mode: 'incremental',
      reason: `estimated rows ≥ ${CHUNKED_THRESHOLD_ROWS / 1000}K, no integer chunk key; timestamp column ${cursor.name} works as a cursor`,
      cursorColumn: cursor.name,
      decimals,
    };
  } else if (rows > CHUNKED_THRESHOLD_ROWS) {
    plan = { mode: 'full', reason: `estimated rows ≥ ${CHUNKED_THRESHOLD_ROWS / 1000}K but neither an integer key nor a timestamp column exists; each run reads the whole table`, decimals };
  } else {
    plan = { mode: 'full', reason: `estimated rows below the ${CHUNKED_THRESHOLD_ROWS / 1000}K chunked threshold; one full read per run`, decimals };
  }
  if (plan.mode === 'chunked' || rows > CHUNKED_THRESHOLD_ROWS) plan.targetRowGroupMb = rowGroup;
  return plan;
}

/** `~1.2M rows`, `~340K rows`, `~512 rows`. */
export function rowsLabel(rows: number): string {
  if (rows >= 1_000_000) return `~${(rows / 1_000_000).toFixed(1)}M rows`;
  if (rows >= 1000) return `~${Math.floor(rows / 1000)}K rows`;
  return `~${rows} rows`;
}
