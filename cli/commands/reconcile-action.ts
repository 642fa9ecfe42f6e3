import { writeFile } from 'node:fs/promises';
import { loadConfig } from '../../shared/config/load.js';
import { parseParams } from '../../shared/config/params.js';
import { EXIT_OK, RivetError } from '../../shared/errors/rivet-error.js';
import { createLogger, type Logger } from '../../shared/log/logger.js';
import { reconcileExport, type ReconcileReport } from '../../shared/run/reconcile.js';
import { resolveExport } from '../../shared/run/resolve-export.js';
import { openSource } from '../../shared/source/registry.js';
import { defaultStatePath } from '../../shared/state/sqlite-state-store.js';
import { openStateStore } from '../../shared/state/open-state-store.js';
import { thousands } from '../format-helpers.js';

export interface ReconcileCommandOptions {
  config: string;
  export: string;
  param?: string[];
  format?: 'pretty' | 'json';
  output?: string;
}

export interface ReportIO {
  stdout: NodeJS.WritableStream;
  log?: Logger;
}

/** `rivet reconcile`: prints (or writes) the report first, then fails when a chunk's counts differ. */
export async function reconcileCommand(opts: ReconcileCommandOptions, io: ReportIO): Promise<number> {
  const log = io.log ?? createLogger();
  const params = parseParams(opts.param ?? []);
  const loaded = await loadConfig(opts.config, { params, log });
  const exp = resolveExport(loaded, opts.export, params, log);
  const state = openStateStore({ sqlitePath: defaultStatePath(loaded.path), log });
  let report: ReconcileReport;
  try {
    report = await reconcileExport(exp, { openSource, state, log });
  } finally {
    await state.close();
  }
  await emitReport(report, prettyReconcile(report), opts, io);
  const s = report.summary;
  if (s.unknown > 0) log.warn(`reconcile: ${s.unknown} of ${s.total_partitions} partition(s) of '${exp.name}' could not be compared (see the report)`);
  if (s.mismatches > 0) {
    throw new RivetError('EXPORT_FAILED', `reconcile: source counts differ for ${s.mismatches} of ${s.total_partitions} partition(s) of '${exp.name}'`, {
      hint: `the report lists them; re-export just those chunks with \`rivet repair -c ${opts.config} -e ${exp.name}${opts.output ? ` --report ${opts.output}` : ''} --execute\``,
    });
  }
  return EXIT_OK;
}

/** JSON to `-o` (one confirmation line on stdout) or to stdout; pretty to stdout. */
export async function emitReport(report: unknown, pretty: string, opts: { format?: string; output?: string }, io: ReportIO): Promise<void> {
  const json = JSON.stringify(report, null, 2) + '\n';
  if (opts.output) {
    await writeFile(opts.output, json).catch((e) => {
      throw new RivetError('USAGE', `cannot write the report to ${opts.output}: ${(e as Error).message}`);
    });
  }
  if ((opts.format ?? 'pretty') === 'json') io.stdout.write(opts.output ? `report written to ${opts.output}\n` : json);
  else io.stdout.write(pretty + (opts.output ? `  Written    : ${opts.output}\n` : ''));
}

export function prettyReconcile(r: ReconcileReport): string {
  const s = r.summary;
  const lines = [
    '',
    `  Export     : ${r.export_name}`,
    `  Run        : ${r.run_id}`,
    `  Strategy   : ${r.strategy}`,
    `  Partitions : ${s.total_partitions} (${s.matches} match, ${s.mismatches} mismatch, ${s.unknown} unknown)`,
    `  Rows       : source ${thousands(s.total_source_rows)} / exported ${thousands(s.total_exported_rows)}`,
  ];
  const candidates = r.partitions.filter((p) => p.status !== 'match');
  if (candidates.length === 0) {
    lines.push('  Status     : all partitions match');
  } else {
    lines.push('  Repair candidates:');
    for (const p of candidates) {
      lines.push(`    • ${p.identifier} — source=${p.source_count ?? '?'}, exported=${p.exported_count ?? '?'}${p.note ? ` (${p.note})` : ''}`);
    }
  }
  return lines.join('\n') + '\n';
}
