import { isMetaColumn } from '../types/rivet-type.js';

export interface SchemaColumn {
  name: string;
  type: string;
}

/** How the columns of this run differ from the last stored snapshot of the export. */
export interface SchemaDiff {
  added: SchemaColumn[];
  removed: string[];
  retyped: { name: string; from: string; to: string }[];
}

/** The data columns that drift is judged on: meta columns (`_rivet_*`) are rivet's, not the source's. */
export function driftColumns(columns: readonly SchemaColumn[]): SchemaColumn[] {
  return columns.filter((c) => !isMetaColumn(c.name)).map((c) => ({ name: c.name, type: c.type }));
}

/** null when nothing changed. Column order is not a change: readers address columns by name. */
export function diffSchemas(stored: readonly SchemaColumn[], current: readonly SchemaColumn[]): SchemaDiff | null {
  const before = new Map(driftColumns(stored).map((c) => [c.name, c.type]));
  const after = new Map(driftColumns(current).map((c) => [c.name, c.type]));
  const added = [...after].filter(([n]) => !before.has(n)).map(([name, type]) => ({ name, type }));
  const removed = [...before.keys()].filter((n) => !after.has(n));
  const retyped = [...after].filter(([n, t]) => before.has(n) && before.get(n) !== t).map(([name, to]) => ({ name, from: before.get(name)!, to }));
  return added.length + removed.length + retyped.length === 0 ? null : { added, removed, retyped };
}

/** One line per change, for the log and the journal. */
export function describeSchemaDiff(diff: SchemaDiff): string[] {
  return [
    ...diff.added.map((c) => `added column ${c.name} (${c.type})`),
    ...diff.removed.map((n) => `removed column ${n}`),
    ...diff.retyped.map((c) => `column ${c.name} changed type: ${c.from} → ${c.to}`),
  ];
}

/**
 * Text and binary columns whose longest value grew past `factor` times the longest seen in
 * earlier runs (a column that starts carrying documents instead of codes). `factor` ≤ 0
 * turns the check off; a column with no stored maximum only starts being watched.
 */
export function shapeDrift(storedMax: Readonly<Record<string, number>>, currentMax: Readonly<Record<string, number>>, factor: number): { column: string; from: number; to: number; growth: number }[] {
  if (!(factor > 0)) return [];
  const out: { column: string; from: number; to: number; growth: number }[] = [];
  for (const [column, to] of Object.entries(currentMax)) {
    const from = storedMax[column];
    if (from !== undefined && from > 0 && to > from * factor) out.push({ column, from, to, growth: to / from });
  }
  return out;
}

/** The running maxima to store after a run. */
export function mergedMax(storedMax: Readonly<Record<string, number>>, currentMax: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = { ...storedMax };
  for (const [c, v] of Object.entries(currentMax)) out[c] = Math.max(out[c] ?? 0, v);
  return out;
}
