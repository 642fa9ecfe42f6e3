import type { Source } from '../source/source.js';

/**
 * Run a small planning query (bounds, counts, chunk starts) through the same streaming
 * reader as the data, and return its cells as text. Callers CAST what they select to
 * TEXT, so integer keys beyond 2^53 and dates arrive exactly as the database printed them.
 */
export async function probeRows(source: Source, sql: string, signal?: AbortSignal): Promise<(string | null)[][]> {
  const rows: (string | null)[][] = [];
  for await (const batch of source.read(sql, { batchSize: 10_000, signal })) {
    const cols = batch.schema.fields.map((_, i) => batch.getChildAt(i));
    for (let r = 0; r < batch.numRows; r++) {
      rows.push(cols.map((c) => {
        const v: unknown = c?.get(r);
        return v === null || v === undefined ? null : String(v);
      }));
    }
  }
  return rows;
}
