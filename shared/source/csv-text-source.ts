import type { Schema } from 'apache-arrow';
import type { ReadOptions, Source } from './source.js';

/** What a CSV text read yields: whether it applies, then the schema, then rendered records. */
export type CsvTextEvent =
  | { kind: 'unfit'; reason: string }
  | { kind: 'start'; schema: Schema; textMax: Record<string, number> }
  | { kind: 'rows'; bytes: Uint8Array; rows: number };

/**
 * A source that can hand over a CSV export's rows already rendered from its own text output
 * (ADR 0009). The first event says whether it applies (`unfit`: read Arrow batches instead);
 * `start.textMax` holds the longest value of each text/binary column once the rows end.
 * Optional: an engine without such a read is simply read as Arrow batches.
 */
export interface CsvTextSource {
  readCsv(sql: string, options: ReadOptions): AsyncIterable<CsvTextEvent>;
}

export function offersCsvText(source: Source): source is Source & CsvTextSource {
  return typeof (source as Partial<CsvTextSource>).readCsv === 'function';
}
