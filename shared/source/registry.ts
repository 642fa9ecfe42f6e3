import { notSupportedYet } from '../errors/rivet-error.js';
import { openPostgresSource } from './postgres/pg-source.js';
import type { OpenSourceOptions, Source } from './source.js';

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
