import type { EngineDescriptor } from '../source/engine-descriptor.js';
import type { SourceEngine } from '../source/source.js';
import type { TableDescription } from '../source/source-catalog.js';
import { isIntegerType, isTimestampLike, planTable } from './init-heuristics.js';

/**
 * `rivet init --discover` (docs/commands/init.md): the facts behind the scaffold's choices as JSON, for
 * tools and reviewers — ranked cursor and chunk candidates, row estimates and sizes, and a
 * COALESCE fallback when the best cursor allows NULLs.
 */
export interface CursorCandidate {
  column: string;
  data_type: string;
  is_nullable: boolean;
  is_primary_key: boolean;
  score: number;
  reasons: string[];
}

export interface ChunkCandidate {
  column: string;
  data_type: string;
  is_primary_key: boolean;
  score: number;
}

export interface DiscoveredTable {
  schema: string;
  table: string;
  row_estimate: number;
  total_bytes?: number;
  suggested_mode: string;
  cursor_candidates: CursorCandidate[];
  suggested_cursor_fallback_column?: string;
  chunk_candidates: ChunkCandidate[];
  notes: string[];
}

export interface Discovery {
  rivet_version: string;
  source_type: SourceEngine;
  scope: string;
  tables: DiscoveredTable[];
}

export function discoverTable(t: TableDescription): DiscoveredTable {
  const n = t.columns.length;
  const cursors: CursorCandidate[] = [];
  t.columns.forEach((c, i) => {
    const pk = t.primaryKey.includes(c.name);
    const reasons: string[] = [];
    let score = 0;
    if (isTimestampLike(c.dataType)) {
      score += 40;
      reasons.push('timestamp_type');
    } else if (isIntegerType(c.dataType) && pk) {
      score += 25;
      reasons.push('integer_monotonic', 'primary_key');
    } else {
      return;
    }
    if (c.name === 'updated_at' || c.name === 'modified_at') {
      score += 40;
      reasons.push('name_suggests_updated');
    } else if (c.name === 'created_at') {
      score += 20;
      reasons.push('name_suggests_created');
    }
    if (c.nullable) {
      score -= 10;
      reasons.push('nullable');
    }
    // Earlier columns win ties: schemas tend to put the meaningful keys first.
    score += Math.min(Math.max(n - i, 0), 5);
    cursors.push({ column: c.name, data_type: c.dataType, is_nullable: c.nullable, is_primary_key: pk, score, reasons });
  });
  cursors.sort((a, b) => b.score - a.score || a.column.localeCompare(b.column));

  const chunks: ChunkCandidate[] = t.columns
    .filter((c) => isIntegerType(c.dataType))
    .map((c) => {
      const pk = t.primaryKey.includes(c.name);
      return { column: c.name, data_type: c.dataType, is_primary_key: pk, score: 20 + (pk ? 40 : 0) };
    })
    .sort((a, b) => b.score - a.score);

  const notes: string[] = [];
  let fallback: string | undefined;
  const top = cursors[0];
  if (top?.is_nullable) {
    fallback = t.columns.find((c) => c.name !== top.column && !c.nullable && isTimestampLike(c.dataType))?.name;
    notes.push(
      `the best cursor candidate ${top.column} allows NULLs: rows with a NULL cursor are never picked up by incremental runs; ` +
        (fallback
          ? `use incremental_cursor_mode: coalesce with cursor_fallback_column: ${fallback}`
          : 'use incremental_cursor_mode: coalesce with a non-NULL fallback column, or make the column NOT NULL'),
    );
  }
  if (t.columns.length === 0) notes.push('no columns are visible: check that this user has SELECT on the table');

  return {
    schema: t.schema,
    table: t.name,
    row_estimate: t.rowEstimate,
    ...(t.totalBytes !== undefined ? { total_bytes: t.totalBytes } : {}),
    suggested_mode: planTable(t).mode,
    cursor_candidates: cursors,
    ...(fallback ? { suggested_cursor_fallback_column: fallback } : {}),
    chunk_candidates: chunks,
    notes,
  };
}

/** How discovery names its scope: one table, or a namespace and how many objects it holds. */
export function discoveryScope(
  ns: EngineDescriptor['namespace'],
  quoteIdent: (name: string) => string,
  scope: { kind: 'table'; schema: string; table: string } | { kind: 'schema'; name: string; count: number },
): string {
  if (scope.kind === 'table') return ns.default === null ? `table ${quoteIdent(scope.table)}` : `table ${quoteIdent(scope.schema)}.${quoteIdent(scope.table)}`;
  return `${ns.label} "${scope.name}" (${scope.count} object(s))`;
}
