import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { configError } from '../errors/rivet-error.js';
import type { ExportConfig } from './schema.js';
import { substituteVariables } from './substitute.js';
import { parseTableName, type TableName } from './table-name.js';
import { checkQueryFilePath } from './validate.js';

/**
 * The SQL an export starts from, before any mode adds its own WHERE: `table:` becomes
 * `SELECT * FROM <table>`, `query_file:` is read (relative to the config dir, never outside
 * it, symlinks included) and gets `${NAME}` substitution from params then the environment,
 * `query:` gets a lenient second `${NAME}` pass from params (names it does not know are kept
 * as written, so a value that legitimately contains `${` survives).
 */
export interface BaseQuery {
  sql: string;
  table?: TableName;
}

export interface ResolveQueryOptions {
  configDir: string;
  params: Readonly<Record<string, string>>;
  env?: NodeJS.ProcessEnv;
  /** Key path used in messages; defaults to `exports (<name>)`. */
  at?: string;
}

export function resolveBaseQuery(exp: ExportConfig, options: ResolveQueryOptions): BaseQuery {
  const at = options.at ?? `export '${exp.name}'`;
  if (exp.table !== undefined) {
    const table = parseTableName(exp.table, at);
    return { sql: `SELECT * FROM ${table.schema ? `${table.schema}.${table.name}` : table.name}`, table };
  }
  if (exp.query_file !== undefined) {
    const text = readQueryFile(exp.query_file, options.configDir, at);
    return { sql: substituteVariables(text, { params: options.params, env: options.env, strict: true, origin: `${at}: query_file '${exp.query_file}'` }) };
  }
  if (exp.query !== undefined) {
    return { sql: substituteVariables(exp.query, { params: options.params, strict: false, origin: `${at}: query` }) };
  }
  throw configError(`${at}: none of \`query\`, \`query_file\`, \`table\` is set; exactly one is required`);
}

function readQueryFile(queryFile: string, configDir: string, at: string): string {
  checkQueryFilePath(queryFile, at);
  const full = path.resolve(configDir, queryFile);
  let real: string;
  try {
    real = realpathSync(full);
  } catch (e) {
    throw configError(`${at}: query_file '${queryFile}' cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, `the path is relative to the config directory ${configDir}`, e);
  }
  const realDir = realpathSync(configDir);
  const rel = path.relative(realDir, real);
  if (rel === '' || rel === '..' || rel.startsWith('..' + path.sep) || path.isAbsolute(rel)) {
    throw configError(`${at}: query_file '${queryFile}' resolves (through a symlink) to a place outside the config directory`, 'keep query files inside the config directory');
  }
  try {
    return readFileSync(real, 'utf8');
  } catch (e) {
    throw configError(`${at}: query_file '${queryFile}' cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, 'check that it is a readable file', e);
  }
}
