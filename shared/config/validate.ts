import { existsSync } from 'node:fs';
import path from 'node:path';
import { configError } from '../errors/rivet-error.js';
import { compressionLevelProblem } from './compression.js';
import { connectionMethod } from './connection-method.js';
import { exportLabel } from './key-path.js';
import { parseLookback } from './lookback.js';
import type { DestinationConfig, ExportConfig, RivetConfig, TuningConfig } from './schema.js';
import { parseSize } from './size.js';
import { mergeTuning } from './tuning.js';

/**
 * The semantic rules of a parsed config, in the reference's order; the first failure wins.
 * Every per-export message starts with `exports[i] (name)`. Rules that need the database or
 * the file system beyond a quick existence check (table identifiers, query_file escaping the
 * config dir) run later, when the export is resolved (query.ts).
 */
export interface ValidateOptions {
  /** Base for relative `credentials_file` paths (the reference resolves them against the CWD). */
  cwd?: string;
}

export function validateConfig(config: RivetConfig, options: ValidateOptions = {}): void {
  if (config.exports.length === 0) {
    throw configError('the `exports` list is empty; at least one export is required', 'add an entry under `exports:` with name, query (or table), format and destination');
  }
  const seen = new Set<string>();
  for (const exp of config.exports) {
    if (seen.has(exp.name)) {
      throw configError(
        `export name '${exp.name}' is used more than once; names must be unique because state (cursors, checkpoints, history) is stored per export name`,
        'rename one of the exports',
      );
    }
    seen.add(exp.name);
  }
  if (bothBatchKinds(config.source.tuning)) {
    throw configError('tuning: source.tuning sets both `batch_size` and `batch_size_memory_mb`; they are mutually exclusive', 'keep one of them');
  }
  connectionMethod(config.source);
  config.exports.forEach((exp, i) => validateExport(config, exp, exportLabel(i, exp.name), options));
}

function bothBatchKinds(t: TuningConfig | undefined): boolean {
  return t !== undefined && t.batch_size !== undefined && t.batch_size_memory_mb !== undefined;
}

function validateExport(config: RivetConfig, exp: ExportConfig, at: string, options: ValidateOptions): void {
  if (bothBatchKinds(exp.tuning)) {
    throw configError(`${at}: \`tuning.batch_size\` and \`tuning.batch_size_memory_mb\` are mutually exclusive`, 'keep one of them');
  }
  if (bothBatchKinds(mergeTuning(config.source.tuning, exp.tuning))) {
    throw configError(
      `${at}: after merging source.tuning and the export's tuning, both \`batch_size\` and \`batch_size_memory_mb\` are set, which is not allowed`,
      'an export cannot add batch_size_memory_mb when source.tuning sets batch_size (or the reverse); move the setting to one level',
    );
  }

  const querySources = (['query', 'query_file', 'table'] as const).filter((k) => exp[k] !== undefined);
  if (querySources.length === 0) {
    throw configError(`${at}: none of \`query\`, \`query_file\`, \`table\` is set; exactly one is required`, 'add `table: schema.name`, `query: SELECT …` or `query_file: queries/x.sql`');
  }
  if (querySources.length > 1) {
    throw configError(
      `${at}: only one of \`query\`, \`query_file\`, \`table\` may be set, but ${querySources.length} are set (${querySources.join(', ')})`,
      'keep the one you mean and delete the others',
    );
  }
  if (exp.query_file !== undefined) checkQueryFilePath(exp.query_file, at);

  validateDestination(exp.destination, at, options.cwd ?? process.cwd());

  if (exp.max_file_size !== undefined && parseSize(exp.max_file_size) === null) {
    throw configError(`${at}: invalid max_file_size '${exp.max_file_size}'`, 'write a size such as 512MB, 1.5GB, 100KB or a plain number of bytes');
  }
  if (exp.compression_level !== undefined) {
    const problem = compressionLevelProblem(exp.compression, exp.compression_level);
    if (problem) throw configError(`${at}: ${problem}`, 'fix compression_level or remove it to use the codec default');
  }
  validateMode(exp, at);
}

/** Rule 7, also used by query.ts: a query file is a relative path inside the config dir. */
export function checkQueryFilePath(queryFile: string, at: string): void {
  if (path.isAbsolute(queryFile) || path.win32.isAbsolute(queryFile)) {
    throw configError(`${at}: absolute paths are not allowed for query_file ('${queryFile}')`, 'write the path relative to the directory of the config file');
  }
  if (queryFile.split(/[\\/]/).includes('..')) {
    throw configError(`${at}: '..' components are not allowed in query_file ('${queryFile}')`, 'keep query files in the config directory or below it');
  }
}

function validateDestination(d: DestinationConfig, at: string, cwd: string): void {
  if (d.type === 's3' && (d.access_key_env === undefined) !== (d.secret_key_env === undefined)) {
    throw configError(
      `${at}: destination: S3 needs both \`access_key_env\` and \`secret_key_env\`, or neither (then the default AWS credential chain is used)`,
      'set the missing one or delete both',
    );
  }
  if (d.type === 'gcs' && d.allow_anonymous && d.credentials_file !== undefined) {
    throw configError(`${at}: destination: GCS \`allow_anonymous\` cannot be combined with \`credentials_file\``, 'delete one of them');
  }
  if (d.type === 'azure') {
    const hasAccount = d.account_name !== undefined;
    const hasKey = d.account_key_env !== undefined;
    const hasSas = d.sas_token_env !== undefined;
    if (d.allow_anonymous && (hasAccount || hasKey || hasSas)) {
      throw configError(`${at}: destination: anonymous Azure access (allow_anonymous: true) excludes account_name, account_key_env and sas_token_env`, 'delete allow_anonymous or the credential keys');
    }
    if (!d.allow_anonymous) {
      if (hasKey && hasSas) {
        throw configError(`${at}: destination: \`account_key_env\` and \`sas_token_env\` cannot both be set; choose a single auth method`, 'delete one of them');
      }
      if (!hasAccount) {
        throw configError(`${at}: destination: Azure needs \`account_name\` (plus \`account_key_env\` or \`sas_token_env\`), or \`allow_anonymous: true\` for Azurite`, 'add account_name');
      }
      if (!hasKey && !hasSas) {
        throw configError(`${at}: destination: Azure needs \`account_key_env\` or \`sas_token_env\` (or \`allow_anonymous: true\` for Azurite)`, 'add one of them');
      }
    }
  }
  if (d.credentials_file !== undefined && !existsSync(path.resolve(cwd, d.credentials_file))) {
    throw configError(`${at}: destination: credentials_file '${d.credentials_file}' does not exist`, 'fix the path (relative paths are resolved against the current directory)');
  }
}

function validateMode(exp: ExportConfig, at: string): void {
  if (exp.mode === 'incremental') {
    if (exp.cursor_column === undefined) {
      throw configError(`${at}: \`cursor_column\` is missing but mode: incremental needs one`, 'add `cursor_column: <column that only grows>` (e.g. updated_at or id)');
    }
    if (exp.incremental_cursor_mode === 'coalesce' && exp.cursor_fallback_column === undefined) {
      throw configError(`${at}: \`incremental_cursor_mode: coalesce\` also needs \`cursor_fallback_column\``, 'add cursor_fallback_column or use single_column');
    }
    if (exp.incremental_cursor_mode !== 'coalesce' && exp.cursor_fallback_column !== undefined) {
      throw configError(`${at}: \`cursor_fallback_column\` only makes sense with \`incremental_cursor_mode: coalesce\``, 'add incremental_cursor_mode: coalesce or delete cursor_fallback_column');
    }
    parseLookback(exp.cursor_lookback, at);
  }
  if (exp.mode === 'chunked') {
    // chunk_by_key without table: is refused at plan build, with its own message (chunk-settings.ts).
    if (exp.chunk_column === undefined && exp.table === undefined && exp.chunk_by_key === undefined) {
      throw configError(
        `${at}: mode: chunked needs \`chunk_column\` (alternatively, \`table:\` on a Postgres source lets the column be derived from the primary key)`,
        'add `chunk_column: <integer or date column>`',
      );
    }
    if (exp.chunk_size === 0) throw configError(`${at}: \`chunk_size\` must be ≥ 1 in chunked mode (got 0)`, 'set chunk_size to the number of key values per chunk');
    if (exp.parallel === 0) throw configError(`${at}: \`parallel\` must be ≥ 1 in chunked mode (got 0)`, 'set parallel to 1 or more');
    if (exp.chunk_count === 0) throw configError(`${at}: \`chunk_count\` must be ≥ 1`, 'set chunk_count to 1 or more, or delete it');
    if (exp.chunk_count !== undefined && exp.chunk_dense) {
      throw configError(`${at}: \`chunk_count\` cannot be used together with \`chunk_dense\``, 'delete one of them');
    }
    if (exp.chunk_count !== undefined && exp.chunk_by_days !== undefined) {
      throw configError(`${at}: \`chunk_count\` cannot be used together with \`chunk_by_days\``, 'delete one of them');
    }
  }
  if (exp.mode === 'time_window') {
    if (exp.time_column === undefined) throw configError(`${at}: \`time_column\` is needed for mode: time_window`, 'add time_column: <timestamp column>');
    if (exp.days_window === undefined) throw configError(`${at}: \`days_window\` is needed for mode: time_window`, 'add days_window: <number of days>');
  }
  if (exp.chunk_dense && exp.mode !== 'chunked') {
    throw configError(`${at}: \`chunk_dense\` only makes sense with \`mode: chunked\``, 'delete chunk_dense or set mode: chunked');
  }
  if (exp.chunk_by_days !== undefined) {
    if (exp.mode !== 'chunked') throw configError(`${at}: \`chunk_by_days\` needs \`mode: chunked\``, 'delete chunk_by_days or set mode: chunked');
    if (exp.chunk_dense) throw configError(`${at}: \`chunk_by_days\` cannot be used together with \`chunk_dense\``, 'delete one of them');
    if (exp.chunk_by_days === 0) throw configError(`${at}: \`chunk_by_days\` must be ≥ 1 (got 0)`, 'set chunk_by_days to 1 or more');
  }
}
