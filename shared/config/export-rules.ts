import { configError } from '../errors/rivet-error.js';
import { exportLabel } from './key-path.js';
import type { ExportConfig, RivetConfig } from './schema.js';

/**
 * Rules between an export's keys that the schema cannot express, checked when the export is
 * resolved (before anything is read or written; exit 2). Every key of the 0.9.4 grammar is
 * built, so nothing here refuses a key for being unsupported.
 */
export function assertExportRules(config: RivetConfig, exp: ExportConfig): void {
  const index = config.exports.indexOf(exp);
  const at = exportLabel(index >= 0 ? index : config.exports.findIndex((e) => e.name === exp.name), exp.name);
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
}

/** `partition_by` (docs/modes.md): each child export needs a prefix of its own. */
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
