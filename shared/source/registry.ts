import { notSupportedYet } from '../errors/rivet-error.js';
import { classifyPgError } from './postgres/pg-errors.js';
import { classifyMysqlError } from './mysql/mysql-errors.js';
import { classifyMssqlError } from './mssql/mssql-errors.js';
import { PERMANENT, type ErrorClass } from './error-class.js';
import type { OpenCatalogOptions, SourceCatalog } from './source-catalog.js';
import type { OpenSourceOptions, Source, SourceEngine } from './source.js';

/**
 * The one place that maps `source.type` to an engine implementation. Engines are imported
 * when first used: a PostgreSQL export never loads mysql2 or tedious (~35 MB of RSS).
 */
export async function openSource(options: OpenSourceOptions): Promise<Source> {
  const engine = options.connection.engine;
  switch (engine) {
    case 'postgres':
      return (await import('./postgres/pg-source.js')).openPostgresSource(options);
    case 'mysql':
      return (await import('./mysql/mysql-source.js')).openMysqlSource(options);
    case 'mssql':
      return (await import('./mssql/mssql-source.js')).openMssqlSource(options);
    default:
      throw notSupportedYet(`source engine '${String(engine)}'`, 'use a postgresql:// source URL');
  }
}

/** Whether an error from this engine is worth retrying (02 §15); unknown engines: never. */
export function classifySourceError(engine: SourceEngine, err: unknown): ErrorClass {
  if (engine === 'postgres') return classifyPgError(err);
  if (engine === 'mysql') return classifyMysqlError(err);
  if (engine === 'mssql') return classifyMssqlError(err);
  return PERMANENT;
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
      return (await import('./postgres/pg-catalog.js')).openPostgresCatalog(options);
    case 'mysql':
      return (await import('./mysql/mysql-catalog.js')).openMysqlCatalog(options);
    default:
      throw notSupportedYet(`introspection of source engine '${String(engine)}'`, 'rivet check and rivet init work with PostgreSQL and MySQL/MariaDB sources');
  }
}
