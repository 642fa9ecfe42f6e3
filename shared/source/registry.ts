import { notSupportedYet } from '../errors/rivet-error.js';
import { openPostgresSource } from './postgres/pg-source.js';
import { classifyPgError } from './postgres/pg-errors.js';
import type { OpenSourceOptions, Source, SourceEngine } from './source.js';

/** The one place that maps `source.type` to an engine implementation. */
export async function openSource(options: OpenSourceOptions): Promise<Source> {
  const engine = options.connection.engine;
  switch (engine) {
    case 'postgres':
      return openPostgresSource(options);
    case 'mysql':
    case 'mssql':
      throw notSupportedYet(`source engine '${engine}'`, 'only PostgreSQL sources are available in this version of rivet');
    default:
      throw notSupportedYet(`source engine '${String(engine)}'`, 'use a postgresql:// source URL');
  }
}

/** Whether an error from this engine is worth retrying (02 §15); unknown engines: never. */
export function classifySourceError(engine: SourceEngine, err: unknown): { transient: boolean; reconnect: boolean; extraDelayMs: number } {
  if (engine === 'postgres') return classifyPgError(err);
  return { transient: false, reconnect: false, extraDelayMs: 0 };
}
