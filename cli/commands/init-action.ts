import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { configError, EXIT_OK, RivetError } from '../../shared/errors/rivet-error.js';
import { discoverTable, discoveryScope, type Discovery } from '../../shared/init/discover.js';
import { renderInitYaml, type InitDestination } from '../../shared/init/init-yaml.js';
import { createLogger } from '../../shared/log/logger.js';
import { registerSecret } from '../../shared/log/redact.js';
import { reportedColumns } from '../../shared/check/type-report.js';
import { isDecimalType } from '../../shared/init/init-heuristics.js';
import type { Logger } from '../../shared/log/logger.js';
import type { EngineDescriptor } from '../../shared/source/engine-descriptor.js';
import { catalogEngines, engineOfUrl, openCatalog, openSource, urlScheme, type SourceEngine } from '../../shared/source/registry.js';
import type { SourceCatalog, TableDescription } from '../../shared/source/source-catalog.js';
import type { CommandIO } from './run-action.js';

export interface InitOptions {
  source?: string;
  sourceEnv?: string;
  sourceFile?: string;
  table?: string;
  schema?: string;
  output?: string;
  discover?: boolean;
  gcsBucket?: string;
  gcsCredentialsFile?: string;
  s3Bucket?: string;
  s3Region?: string;
}

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Where the URL comes from; `urlEnv` is what the scaffold's `url_env:` names. */
function resolveUrl(opts: InitOptions): { url: string; urlEnv: string } {
  const given = [opts.source, opts.sourceEnv, opts.sourceFile].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new RivetError('USAGE', 'rivet init needs exactly one of --source, --source-env, --source-file', {
      hint: 'e.g. rivet init --source-env DATABASE_URL (the URL stays out of shell history)',
    });
  }
  if (opts.sourceEnv !== undefined) {
    const value = process.env[opts.sourceEnv];
    if (value === undefined || value.trim() === '') {
      throw configError(`--source-env: environment variable ${opts.sourceEnv} is not set`, `export ${opts.sourceEnv}=<connection URL> first`);
    }
    registerSecret(value.trim());
    return { url: value.trim(), urlEnv: opts.sourceEnv };
  }
  if (opts.sourceFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(opts.sourceFile, 'utf8');
    } catch (e) {
      throw configError(`--source-file: cannot read ${opts.sourceFile}: ${(e as Error).message}`, 'the file must hold just the connection URL');
    }
    registerSecret(text.trim());
    return { url: text.trim(), urlEnv: 'DATABASE_URL' };
  }
  registerSecret(opts.source!);
  return { url: opts.source!, urlEnv: 'DATABASE_URL' };
}

/** The engine the URL names, if rivet can introspect it. */
function catalogEngineOf(url: string): EngineDescriptor<SourceEngine> {
  const engine = engineOfUrl(url);
  if (engine?.openCatalog) return engine;
  const known = catalogEngines();
  // Only the scheme is shown: the rest of the URL may hold a password.
  throw configError(
    `the source URL scheme '${urlScheme(url) || '(none)'}' is unsupported; expected ${known.map((e) => `${e.schemes[0]}://`).join(' or ')}`,
    `rivet init introspects ${known.map((e) => e.label).join(' and ')} sources`,
  );
}

function urlDatabase(url: string): string | undefined {
  try {
    const db = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
    return db || undefined;
  } catch {
    return undefined;
  }
}

/**
 * `rivet init`: connect read-only, list the scope's tables and views, and print a scaffold
 * (or the discovery JSON). Nothing is exported and nothing is written to the database.
 */
export async function initCommand(opts: InitOptions, io: CommandIO): Promise<number> {
  if (opts.gcsCredentialsFile && !opts.gcsBucket) throw new RivetError('USAGE', '--gcs-credentials-file needs --gcs-bucket');
  if (opts.s3Region && !opts.s3Bucket) throw new RivetError('USAGE', '--s3-region needs --s3-bucket');
  const { url, urlEnv } = resolveUrl(opts);
  const engine = catalogEngineOf(url);
  const log = createLogger();
  const catalog = await openCatalog({ connection: { engine: engine.name, url }, log });
  try {
    const { tables, scope } = await introspect(catalog, engine, opts, url);
    let text: string;
    let reviewNote = false;
    if (opts.discover) {
      const discovery: Discovery = { rivet_version: pkg.version, source_type: engine.name, scope, tables: tables.map(discoverTable) };
      text = JSON.stringify(discovery, null, 2) + '\n';
    } else {
      const destination: InitDestination = opts.gcsBucket
        ? { type: 'gcs', bucket: opts.gcsBucket, ...(opts.gcsCredentialsFile ? { credentialsFile: opts.gcsCredentialsFile } : {}) }
        : opts.s3Bucket
          ? { type: 's3', bucket: opts.s3Bucket, ...(opts.s3Region ? { region: opts.s3Region } : {}) }
          : { type: 'local' };
      const r = renderInitYaml({
        engine: engine.name,
        namespace: engine.namespace,
        urlEnv,
        scope: opts.table ? { kind: 'table' } : { kind: 'schema', name: tables[0]?.schema ?? '' },
        tables,
        destination,
        outputPath: opts.output,
        quoteIdent: catalog.dialect.quoteIdent,
        unmappable: await unmappableColumns(catalog, engine.name, url, tables, log),
      });
      text = r.yaml;
      reviewNote = r.needsReview;
    }
    if (opts.output) {
      await writeFile(opts.output, text);
      io.stderr.write(`rivet init: wrote ${opts.output}\n`);
      if (reviewNote) io.stderr.write('rivet init: some columns need a decision; review the "# REVIEW:" lines\n');
    } else {
      io.stdout.write(text);
    }
    return EXIT_OK;
  } finally {
    await catalog.close();
  }
}

async function introspect(catalog: SourceCatalog, engine: EngineDescriptor, opts: InitOptions, url: string): Promise<{ tables: TableDescription[]; scope: string }> {
  const ns = engine.namespace;
  const given = opts.schema ?? ns.default ?? urlDatabase(url);
  if (!given) {
    throw configError(`${engine.label} needs the ${ns.noun} either in the URL (${engine.schemes[0]}://user:pass@host:${engine.defaultPort}/dbname) or via --schema <${ns.noun}>`);
  }
  let schema = given;
  if (opts.table) {
    let table = opts.table;
    const dot = table.indexOf('.');
    if (dot > 0) {
      schema = table.slice(0, dot);
      table = table.slice(dot + 1);
    } else if (ns.default !== null) {
      schema = ns.default;
    }
    const desc = await catalog.describeTable(schema, table);
    if (!desc) {
      throw new RivetError('SOURCE_TABLE_NOT_FOUND', `${schema}.${table}: the table is missing or exposes no columns`, {
        hint: 'check the name (and --schema), and that this user has SELECT on it',
      });
    }
    return { tables: [desc], scope: discoveryScope(engine.namespace, catalog.dialect.quoteIdent, { kind: 'table', schema, table }) };
  }
  const listed = await catalog.listTables(schema);
  if (listed.length === 0) {
    throw new RivetError('SOURCE_TABLE_NOT_FOUND', `${ns.noun} "${schema}" contains no tables or views`, {
      hint: 'check --schema and that this user may see the tables (USAGE on the schema, SELECT on the tables)',
    });
  }
  const tables: TableDescription[] = [];
  for (const t of listed) {
    const desc = await catalog.describeTable(schema, t.name);
    if (desc) tables.push(desc);
  }
  return { tables, scope: discoveryScope(engine.namespace, catalog.dialect.quoteIdent, { kind: 'schema', name: schema, count: tables.length }) };
}

/**
 * Columns the export would refuse, found with the same probe an export runs. NUMERIC
 * columns are not counted: the scaffold gives them a decimal override. Best effort: if the
 * probe itself fails, the scaffold is written without this review.
 */
async function unmappableColumns(
  catalog: SourceCatalog,
  engine: SourceEngine,
  url: string,
  tables: TableDescription[],
  log: Logger,
): Promise<Map<string, { column: string; nativeType: string; reason: string }[]>> {
  const out = new Map<string, { column: string; nativeType: string; reason: string }[]>();
  let source;
  try {
    source = await openSource({ connection: { engine, url }, log });
  } catch (e) {
    log.debug(`init: type probe skipped: ${(e as Error).message}`);
    return out;
  }
  try {
    const q = catalog.dialect.quoteIdent;
    for (const t of tables) {
      const decimals = new Set(t.columns.filter((c) => isDecimalType(c.dataType)).map((c) => c.name));
      try {
        const cols = await reportedColumns(source, catalog, `SELECT * FROM ${q(t.schema)}.${q(t.name)}`);
        const bad = cols.filter((c) => c.rivetType.kind === 'unsupported' && !decimals.has(c.name));
        out.set(
          `${t.schema}.${t.name}`,
          bad.map((c) => ({ column: c.name, nativeType: c.nativeType, reason: c.rivetType.kind === 'unsupported' ? c.rivetType.reason : '' })),
        );
      } catch (e) {
        log.debug(`init: type probe of ${t.schema}.${t.name} failed: ${(e as Error).message}`);
      }
    }
  } finally {
    await source.close().catch(() => {});
  }
  return out;
}
