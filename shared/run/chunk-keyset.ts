import { RivetError } from '../errors/rivet-error.js';
import type { Source } from '../source/source.js';
import type { ChunkPredicate, CursorSql } from '../source/sql-dialect.js';
import type { ResolvedExport } from './run-deps.js';
import { probeRows } from './source-probe.js';

/**
 * `chunk_by_key` (keyset chunking). The boundaries are sought in the key itself — the key
 * `chunk_size` positions after the previous boundary, in key order — so any ordered type
 * works (text, uuid, sparse or huge integers, dates) and no MIN/MAX arithmetic is done.
 * Chunks are half-open ranges covering the whole key domain: `key < b1`, `b1 <= key < b2`,
 * …, `key >= bn`; a row inserted after planning still lands in exactly one chunk.
 *
 * The key must be one column, NOT NULL, and unique (primary key or unique index): unique,
 * so `chunk_size` rows lie between two boundaries and each seek moves forward; NOT NULL,
 * because a NULL key matches no range and the row would be lost — such a key is refused.
 */

/** A keyset bound as stored in checkpoints, plan artifacts and reconcile reports. */
const FROM_UNBOUNDED = '-inf';
const UNTIL_UNBOUNDED = '+inf';

export interface KeysetChunk {
  predicate: Extract<ChunkPredicate, { kind: 'keyset' }>;
  label: string;
  startKey: string;
  endKey: string;
}

/** Stored bounds: the key JSON-quoted (so a text key `-inf` or `NULL` stays a key), or ±inf. */
export function keysetKeys(p: { from: string | null; until: string | null }): { startKey: string; endKey: string } {
  return { startKey: p.from === null ? FROM_UNBOUNDED : JSON.stringify(p.from), endKey: p.until === null ? UNTIL_UNBOUNDED : JSON.stringify(p.until) };
}

/** Stored bounds back into the predicate; null when they are not keyset bounds. */
export function keysetPredicate(startKey: string, endKey: string): Extract<ChunkPredicate, { kind: 'keyset' }> | null {
  const from = startKey === FROM_UNBOUNDED ? null : parseQuoted(startKey);
  const until = endKey === UNTIL_UNBOUNDED ? null : parseQuoted(endKey);
  if (from === undefined || until === undefined) return null;
  return { kind: 'keyset', from, until };
}

function parseQuoted(text: string): string | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

export function keysetLabel(key: string, p: { from: string | null; until: string | null }): string {
  if (p.from === null && p.until === null) return `${key} (all)`;
  if (p.from === null) return `${key} < ${JSON.stringify(p.until)}`;
  if (p.until === null) return `${key} >= ${JSON.stringify(p.from)}`;
  return `${key} ${JSON.stringify(p.from)}..<${JSON.stringify(p.until)}`;
}

/** The key's type as the dialect's literals want it. */
export async function keysetKeyType(exp: ResolvedExport, source: Source, key: string): Promise<{ c: CursorSql; type: string }> {
  const d = source.dialect;
  const c = d.cursorSql(exp.sql, key);
  const type = await d.cursorType(c, { rows: (q) => probeRows(source, q), describe: (q) => source.describe(q) });
  return { c, type };
}

/** Refuses a key that is not one column, NOT NULL and unique in `table:` (docs/modes.md step 8). */
export async function assertKeysetKey(exp: ResolvedExport, source: Source, key: string): Promise<void> {
  const t = exp.table;
  if (!t) {
    throw new RivetError('CONFIG_INVALID', `export '${exp.name}': \`chunk_by_key\` needs the \`table:\` shortcut (the key's uniqueness is read from the table's constraints)`, {
      hint: 'replace `query:` with `table: <schema.table>`, or use `chunk_column:` with `chunk_dense: true` for a query',
    });
  }
  const qualified = t.schema ? `${t.schema}.${t.name}` : t.name;
  const keys = await probeRows(source, source.dialect.keysetKeysSql(t));
  const match = keys.find((r) => r[0] === key);
  const usable = keys.filter((r) => r[1] === '1').map((r) => r[0]);
  const others = usable.length ? `usable keys of ${qualified}: ${usable.join(', ')}` : `${qualified} has no usable key`;
  if (!match) {
    throw new RivetError('CONFIG_INVALID', `export '${exp.name}': chunk_by_key '${key}' cannot chunk table ${qualified}: the key must be one column, NOT NULL, backed by a PRIMARY KEY or UNIQUE constraint, of a type that reads back exactly from text (${others})`, {
      hint: 'point chunk_by_key at such a column, add a unique index on it, or use `chunk_column:` with `chunk_dense: true`',
    });
  }
  if (match[1] !== '1') {
    throw new RivetError('CONFIG_INVALID', `export '${exp.name}': chunk_by_key '${key}' of table ${qualified} is unique but nullable: rows whose key is NULL match no key range and would be left out of the export`, {
      hint: `declare ${key} NOT NULL, point chunk_by_key at a NOT NULL unique column (${others}), or use \`chunk_column: ${key}\` with \`chunk_dense: true\` (NULL keys get a chunk of their own there)`,
    });
  }
}

/** Seeks the chunk boundaries: one small ordered query per chunk, each reading about `size` index entries. */
export async function keysetChunks(exp: ResolvedExport, source: Source, key: string, size: number): Promise<{ chunks: KeysetChunk[]; type: string }> {
  await assertKeysetKey(exp, source, key);
  const d = source.dialect;
  const { c, type } = await keysetKeyType(exp, source, key);
  const offset = BigInt(Math.max(1, size));
  const bounds: string[] = [];
  for (;;) {
    const from = bounds.length ? d.typedLiteral(bounds[bounds.length - 1], type) : null;
    const next = (await probeRows(source, d.keysetBoundarySql(c, from, offset)))[0]?.[0] ?? null;
    if (next === null) break;
    if (bounds.length && next === bounds[bounds.length - 1]) {
      throw new RivetError('INTERNAL', `export '${exp.name}': keyset boundary seek on '${key}' did not move past ${JSON.stringify(next)}; is the key really unique?`);
    }
    bounds.push(next);
  }
  const edges: (string | null)[] = [null, ...bounds, null];
  const out: KeysetChunk[] = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    const range = { from: edges[i], until: edges[i + 1] };
    out.push({ predicate: { kind: 'keyset', ...range }, label: keysetLabel(key, range), ...keysetKeys(range) });
  }
  return { chunks: out, type };
}
