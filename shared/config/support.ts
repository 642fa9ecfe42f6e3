import { configError, notSupportedYet } from '../errors/rivet-error.js';
import { exportLabel } from './key-path.js';
import type { ExportConfig, RivetConfig, TuningConfig } from './schema.js';

/**
 * This version implements part of the 0.9.4 grammar. The whole grammar parses (so existing
 * files are checked properly), but a key whose behaviour is not built yet must never be
 * silently ignored: an export that asked for `quality:` checks and got none would report a
 * success it did not earn. Each refusal names the key path and what to do instead.
 *
 * Supported today: postgres, mysql and mssql sources (url/url_env/url_file/structured, tls, environment), modes
 * full, incremental, time_window and chunked (chunk_by_key and chunk_size_memory_mb included), meta_columns,
 * parallel_exports / parallel_export_processes (cards UI, cli/cards/), local, stdout, s3, gcs and azure destinations,
 * parquet/csv with compression settings, the parquet
 * block, skip_empty, columns, target, source_group, reconcile_required, verify (size and content), and the
 * tuning knobs profile, batch_size, throttle_ms, statement_timeout_s, lock_timeout_s,
 * max_retries, retry_backoff_ms, max_value_mb, memory_threshold_mb.
 */

/** Root and `source:` checks, shared by every export. */
export function assertSourceSupported(config: RivetConfig): void {
  if (config.source.type !== 'postgres' && config.source.type !== 'mysql' && config.source.type !== 'mssql') {
    throw notSupportedYet(`source.type: ${String(config.source.type)}`, 'use type: postgres, mysql or mssql');
  }
  assertTuningSupported(config.source.tuning, 'source.tuning');
}

function assertTuningSupported(t: TuningConfig | undefined, at: string): void {
  if (!t) return;
  if (t.max_batch_memory_mb !== undefined) throw notSupportedYet(`${at}.max_batch_memory_mb`, 'delete it; bound memory with a smaller `batch_size:`');
  if (t.on_batch_memory_exceeded !== undefined && t.on_batch_memory_exceeded !== 'warn') {
    throw notSupportedYet(`${at}.on_batch_memory_exceeded: ${t.on_batch_memory_exceeded}`, 'delete it (only `warn` is accepted)');
  }
  if (t.adaptive === true) throw notSupportedYet(`${at}.adaptive: true`, 'delete it or set it to false');
  if (t.min_parallel !== undefined) throw notSupportedYet(`${at}.min_parallel`, 'delete it; adaptive parallelism is not built, chunked exports run `parallel:` tasks at once');
}

/** Everything `exp` asks for must be built; also runs the root/source checks. */
export function assertSupported(config: RivetConfig, exp: ExportConfig): void {
  assertSourceSupported(config);
  const index = config.exports.indexOf(exp);
  const at = exportLabel(index >= 0 ? index : config.exports.findIndex((e) => e.name === exp.name), exp.name);

  if (exp.mode !== 'full' && exp.mode !== 'incremental' && exp.mode !== 'time_window' && exp.mode !== 'chunked') {
    throw notSupportedYet(`${at}.mode: ${exp.mode}`, 'use `mode: full`, `incremental`, `chunked` or `time_window`');
  }
  const dest = exp.destination.type;
  if (exp.mode === 'chunked' && dest === 'stdout') {
    // The reference's plan rule `stdout-no-chunked`: chunks are parts, a stream has none.
    throw configError(`${at}: mode: chunked cannot write to a stdout destination (each chunk is its own part)`, 'write to `type: local`, or use `mode: full` for stdout');
  }
  if (exp.max_file_size !== undefined && dest === 'stdout') {
    // The reference's plan rule `stdout-no-split`: a stream cannot be cut into files.
    throw configError(`${at}: max_file_size cannot be used with a stdout destination (a stream cannot be split into files)`, 'remove `max_file_size` or write to `type: local`');
  }
  assertPartitionConfig(exp, at);
  assertTuningSupported(exp.tuning, `${at}.tuning`);
}

/** `partition_by` (spec 02 §9): each child export needs a prefix of its own. */
function assertPartitionConfig(exp: ExportConfig, at: string): void {
  // A partition_granularity without partition_by changes nothing, as in the reference.
  if (exp.partition_by === undefined) return;
  if (exp.partition_by.trim() === '') {
    throw configError(`${at}.partition_by is empty`, 'name a date or timestamp column of the export, e.g. `partition_by: created_at`');
  }
  if (exp.mode === 'time_window') {
    throw configError(`${at}: partition_by cannot be combined with mode: time_window`, 'use `mode: full` or `incremental` with partition_by, or drop partition_by');
  }
  const d = exp.destination as { path?: string; prefix?: string };
  if (!`${d.path ?? ''}${d.prefix ?? ''}`.includes('{partition}')) {
    throw configError(
      `${at}: partition_by needs the {partition} placeholder in destination.${exp.destination.type === 'local' ? 'path' : 'prefix'}`,
      `every partition is its own export with its own manifest and _SUCCESS, so each needs its own prefix, e.g. \`path: ./lake/${exp.name}/{partition}\``,
    );
  }
}
