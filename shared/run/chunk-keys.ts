import { RivetError } from '../errors/rivet-error.js';
import type { Source } from '../source/source.js';
import type { ChunkPredicate } from '../source/sql-dialect.js';
import { dayNumber, dayText, parseKey } from './chunk-bounds.js';
import { keysetKeys, keysetKeyType, keysetLabel, keysetPredicate } from './chunk-keyset.js';
import type { ChunkSettings } from './chunk-settings.js';
import type { ResolvedExport } from './run-deps.js';
import { probeRows } from './source-probe.js';

/**
 * A chunk known only by its stored bounds (checkpoint rows, plan artifacts, reconcile
 * reports) turned back into the exact predicate the chunked planner used, so `apply`,
 * `reconcile` and `repair` query the very rows a run exported. Bounds are inclusive text:
 * integers, `YYYY-MM-DD` days (`chunk_by_days`: the chunk reaches up to the day after its
 * end key), ROW_NUMBER() ordinals (`chunk_dense`), or `NULL` for the NULL-key chunk;
 * `chunk_by_key` chunks store their half-open key range (chunk-keyset.ts).
 * Returns null when the bounds cannot be parsed.
 */
export function predicateFromKeys(settings: ChunkSettings, startKey: string, endKey: string): ChunkPredicate | null {
  if (settings.byKey !== undefined) return keysetPredicate(startKey, endKey);
  if (startKey === 'NULL' && endKey === 'NULL') return { kind: 'null' };
  if (settings.byDays) {
    const from = dayNumber(startKey);
    const to = dayNumber(endKey);
    if (from === null || to === null) return null;
    return { kind: 'days', from: dayText(from), until: dayText(to + 1) };
  }
  const start = parseKey(startKey);
  const end = parseKey(endKey);
  if (start === null || end === null) return null;
  return { kind: settings.dense ? 'dense' : 'range', start, end };
}

/** The inclusive bounds of a predicate, as stored in checkpoints and plan artifacts. */
export function keysOfPredicate(p: ChunkPredicate): { startKey: string; endKey: string } {
  switch (p.kind) {
    case 'null':
      return { startKey: 'NULL', endKey: 'NULL' };
    case 'days':
      return { startKey: p.from, endKey: dayText((dayNumber(p.until) ?? 0) - 1) };
    case 'keyset':
      return keysetKeys(p);
    default:
      return { startKey: String(p.start), endKey: String(p.end) };
  }
}

/**
 * The chunk column's bare name: `chunk_column`, else the one-column integer primary key of
 * `table:` (the rule the chunked planner applies, docs/reference/config.md g18).
 */
export async function chunkColumnName(exp: ResolvedExport, source: Source): Promise<string> {
  const settings = exp.chunk;
  if (settings?.byKey !== undefined) return settings.byKey;
  if (settings?.column) return settings.column;
  const t = exp.table;
  if (t) {
    const rows = await probeRows(source, source.dialect.primaryKeySql(t));
    const [name, type] = rows.length === 1 ? rows[0] : [null, null];
    if (name && type && source.dialect.isIntegerKeyType(type)) return name;
  }
  throw new RivetError('CONFIG_INVALID', `export '${exp.name}': the chunk column cannot be determined (no \`chunk_column\` and no one-column integer primary key)`, {
    hint: 'add `chunk_column: <column>` to the export',
  });
}

/** Builds the SQL of a chunk exactly as the chunked planner does (dense chunks select the base query's columns only). */
export async function chunkQueryBuilder(exp: ResolvedExport, source: Source, column: string): Promise<(p: ChunkPredicate) => string> {
  const quoted = source.quoteIdent(column);
  const columns = exp.chunk?.dense ? (await source.describe(exp.sql)).fields.map((f) => source.quoteIdent(f.name)) : undefined;
  const keyType = exp.chunk?.byKey !== undefined ? (await keysetKeyType(exp, source, column)).type : undefined;
  return (p) => source.dialect.chunkSql({ baseSql: exp.sql, column: quoted, columns, keyType }, p);
}

/** A readable label for progress lines, in the planner's style. */
export function chunkLabel(column: string, p: ChunkPredicate): string {
  switch (p.kind) {
    case 'null':
      return `${column} IS NULL`;
    case 'days':
      return `${column} ${p.from}..<${p.until}`;
    case 'dense':
      return `rows ${p.start}..${p.end}`;
    case 'keyset':
      return keysetLabel(column, p);
    default:
      return `${column} ${p.start}..${p.end}`;
  }
}
