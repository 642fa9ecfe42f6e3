import { notSupportedYet } from '../errors/rivet-error.js';
import type { EngineDescriptor } from './engine-descriptor.js';
import type { ErrorClass } from './error-class.js';
import { PERMANENT } from './error-class.js';
import type { OpenCatalogOptions, SourceCatalog } from './source-catalog.js';
import type { OpenSourceOptions, Source } from './source.js';
import { mssqlEngine } from './mssql/mssql-engine.js';
import { mysqlEngine } from './mysql/mysql-engine.js';
import { pgEngine } from './postgres/pg-engine.js';

/**
 * The engines rivet reads, one entry each. The one place outside an engine's folder that
 * names it: the config's `source.type`, plan artifacts, `init`, `check` and `doctor` all go
 * through the descriptors listed here. Descriptors are light; each engine's driver is
 * imported when first used, so a PostgreSQL export never loads mysql2 or tedious.
 */
const ENGINES = [pgEngine, mysqlEngine, mssqlEngine] as const;

/** A `source.type`. */
export type SourceEngine = (typeof ENGINES)[number]['name'];

/** Every `source.type`, in registry order (for the config schema and plan artifacts). */
export const SOURCE_ENGINES = ENGINES.map((e) => e.name) as [SourceEngine, ...SourceEngine[]];

/** The descriptor of a configured engine. */
export function sourceEngine(name: SourceEngine): EngineDescriptor<SourceEngine> {
  const engine = ENGINES.find((e) => e.name === name);
  if (!engine) throw notSupportedYet(`source engine '${String(name)}'`, `source.type is one of: ${SOURCE_ENGINES.join(', ')}`);
  return engine;
}

/** The engine a connection URL's scheme (`postgresql://`, …) selects; undefined when none does. */
export function engineOfUrl(url: string): EngineDescriptor<SourceEngine> | undefined {
  const scheme = urlScheme(url);
  return ENGINES.find((e) => e.schemes.includes(scheme));
}

/** The URL's scheme, lower case; '' when it has none. Safe to show: it holds no credentials. */
export function urlScheme(url: string): string {
  return /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase() ?? '';
}

/** The engines that offer a catalog, so `rivet check` and `rivet init` work with them. */
export function catalogEngines(): EngineDescriptor<SourceEngine>[] {
  return ENGINES.filter((e) => e.openCatalog !== undefined);
}

export async function openSource(options: OpenSourceOptions): Promise<Source> {
  return sourceEngine(options.connection.engine).open(options);
}

/** Whether an error from this engine is worth retrying; unknown engines: never. */
export function classifySourceError(engine: SourceEngine, err: unknown): ErrorClass {
  return ENGINES.find((e) => e.name === engine)?.classifyError(err) ?? PERMANENT;
}

/**
 * Read-only introspection (`rivet check`, `rivet init`). A separate seam from `openSource`:
 * a catalog maps no types and streams no rows, so an engine can offer one before (or
 * without) a full Source.
 */
export async function openCatalog(options: OpenCatalogOptions): Promise<SourceCatalog> {
  const engine = sourceEngine(options.connection.engine);
  if (!engine.openCatalog) {
    const labels = catalogEngines().map((e) => e.label);
    throw notSupportedYet(`introspection of ${engine.label} sources`, `rivet check and rivet init work with ${labels.join(' and ')} sources`);
  }
  return engine.openCatalog(options);
}
