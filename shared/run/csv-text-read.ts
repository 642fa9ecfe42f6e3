import type { Schema } from 'apache-arrow';
import { offersCsvText } from '../source/csv-text-source.js';
import type { ReadOptions, Source } from '../source/source.js';
import type { PartSequence } from './part-sequence.js';

export interface CsvTextResult {
  schema: Schema | null;
  rows: number;
  textMax: Record<string, number>;
}

/**
 * A CSV export read as rows the source renders itself (ADR 0009), written to `parts` as they
 * come; null when the source offers no such read or says it does not fit this query, and the
 * caller reads Arrow batches instead. Nothing is written before the source has said it fits.
 */
export async function readCsvText(
  source: Source,
  sql: string,
  options: ReadOptions,
  parts: PartSequence,
  onRows: (rows: number) => void,
  debug: (message: string) => void,
): Promise<CsvTextResult | null> {
  // `RIVET_CSV_RENDER=arrow` forces the Arrow renderer, for A/B runs and bug hunts.
  if (!offersCsvText(source) || process.env.RIVET_CSV_RENDER === 'arrow') return null;
  let schema: Schema | null = null;
  let textMax: Record<string, number> = {};
  let rows = 0;
  for await (const ev of source.readCsv(sql, options)) {
    if (ev.kind === 'unfit') {
      debug(`CSV rendered from the source text does not apply (${ev.reason}); rendering from Arrow batches`);
      return null;
    }
    if (ev.kind === 'start') {
      schema = ev.schema;
      textMax = ev.textMax;
      continue;
    }
    if (!schema) continue;
    await parts.writeRendered(schema, ev.bytes, ev.rows);
    rows += ev.rows;
    onRows(ev.rows);
  }
  return rows > 0 ? { schema, rows, textMax } : { schema: null, rows, textMax: {} };
}
