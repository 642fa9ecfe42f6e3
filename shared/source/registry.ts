import { notSupportedYet } from '../errors/rivet-error.js';
import { openPostgresSource } from './postgres/pg-source.js';
import { classifyPgError } from './postgres/pg-errors.js';
import { openMysqlSource } from './mysql/mysql-source.js';
import { classifyMysqlError } from './mysql/mysql-errors.js';
import { openMssqlSource } from './mssql/mssql-source.js';
import { classifyMssqlError } from './mssql/mssql-errors.js';
import { openPostgresCatalog } from './postgres/pg-catalog.js';
import { openMysqlCatalog } from './mysql/mysql-catalog.js';
import type { OpenCatalogOptions, SourceCatalog } from './source-catalog.js';
import type { OpenSourceOptions, Source, SourceEngine } from './source.js';

/** The one place that maps `source.type` to an engine implementation. */
export async function openSource(options: OpenSourceOptions): Promise<Source> {
  const engine = options.connection.engine;
  switch (engine) {
    case 'postgres':
      return openPostgresSource(options);
    case 'mysql':
      return openMysqlSource(options);
    case 'mssql':
      return openMssqlSource(options);
    default:
      throw notSupportedYet(`source engine '${String(engine)}'`, 'use a postgresql:// source URL');
  }
}

/** Whether an error from this engine is worth retrying (02 §15); unknown engines: never. */
export function classifySourceError(engine: SourceEngine, err: unknown): { transient: boolean; reconnect: boolean; extraDelayMs: number } {
  if (engine === 'postgres') return classifyPgError(err);
  if (engine === 'mysql') return classifyMysqlError(err);
  if (engine === 'mssql') return classifyMssqlError(err);
  return { transient: false, reconnect: false, extraDelayMs: 0 };
}

/**
 * Read-only introspection (`rivet check`, `rivet init`). A separate seam from `openSource`:
 * a catalog maps no types and streams no rows, so an engine can offer one before (or
 * without) a full Source.
 */
export async function openCatalog(options: OpenCatalogOptions): Promise<SourceCatalog> {
  const engine = options.connection.engine;
  switch (engine) {
    case 'postgres':
      return openPostgresCatalog(options);
    case 'mysql':
      return openMysqlCatalog(options);
    default:
      throw notSupportedYet(`introspection of source engine '${String(engine)}'`, 'rivet check and rivet init work with PostgreSQL and MySQL/MariaDB sources');
  }
}
