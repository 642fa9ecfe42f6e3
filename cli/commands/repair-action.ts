import { readFile } from 'node:fs/promises';
import { loadConfig } from '../../shared/config/load.js';
import { parseParams } from '../../shared/config/params.js';
import { EXIT_EXPORT_FAILED, EXIT_OK, RivetError } from '../../shared/errors/rivet-error.js';
import { createLogger } from '../../shared/log/logger.js';
import { configRunDeps } from '../../shared/run/local-deps.js';
import { ReconcileReportSchema, assertReconcilable, reconcileExport, type ReconcileReport } from '../../shared/run/reconcile.js';
import { executeRepair, repairPlan, type RepairPlan, type RepairReport } from '../../shared/run/repair.js';
import { openSource } from '../../shared/source/registry.js';
import { defaultStatePath } from '../../shared/state/sqlite-state-store.js';
import { openStateStore } from '../../shared/state/open-state-store.js';
import { thousands } from '../format-helpers.js';
import { interruptSignal } from '../interrupt.js';
import { emitReport, type ReportIO } from './reconcile-action.js';

export interface RepairCommandOptions {
  config: string;
  export: string;
  param?: string[];
  report?: string;
  execute?: boolean;
  format?: 'pretty' | 'json';
  output?: string;
}

export async function repairCommand(opts: RepairCommandOptions, io: ReportIO): Promise<number> {
  const log = io.log ?? createLogger();
  const params = parseParams(opts.param ?? []);
  const loaded = await loadConfig(opts.config, { params, log });
  const state = openStateStore({ sqlitePath: defaultStatePath(loaded.path), log });
  try {
    const deps = configRunDeps({ configPath: loaded.path, state, log, preloaded: { params, config: loaded } });
    const exp = await deps.resolveExport(opts.export, params);
    assertReconcilable(exp, 'repair');
    const reconciled = opts.report ? await readReport(opts.report) : await reconcileExport(exp, { openSource, state, log });
    const plan = repairPlan(exp, reconciled);
    if (!opts.execute) {
      await emitReport(plan, prettyPlan(plan), opts, io);
      return EXIT_OK;
    }
    if (plan.actions.length === 0) {
      io.stdout.write(`no repair needed for '${exp.name}': the reconcile report of run ${plan.reconcile_run_id} is clean\n`);
      return EXIT_OK;
    }
    const report = await executeRepair(exp, plan, deps, interruptSignal);
    await emitReport(report, prettyReport(report), opts, io);
    return report.summary.failed > 0 ? EXIT_EXPORT_FAILED : EXIT_OK;
  } finally {
    await state.close();
  }
}

async function readReport(file: string): Promise<ReconcileReport> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new RivetError('USAGE', `cannot read the reconcile report ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RivetError('USAGE', `${file} is not a reconcile report: ${(e as Error).message}`, { hint: 'write one with `rivet reconcile --format json -o <file>`' });
  }
  const parsed = ReconcileReportSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new RivetError('USAGE', `${file} is not a reconcile report (${i.path.join('.') || '(root)'}: ${i.message})`, {
      hint: 'write one with `rivet reconcile --format json -o <file>`',
    });
  }
  return parsed.data;
}

function prettyPlan(p: RepairPlan): string {
  const lines = ['', `  Export     : ${p.export_name}`, `  Reconciled : run ${p.reconcile_run_id}`, `  Actions    : ${p.actions.length} chunk(s) to re-export`];
  for (const a of p.actions) lines.push(`    • chunk ${a.chunk_index} [${a.start_key}..${a.end_key}] — ${a.reason}`);
  for (const s of p.skipped) lines.push(`    ! skipped ${s.identifier}: ${s.reason}`);
  if (p.actions.length > 0) lines.push('  Dry run    : nothing was written; add --execute to re-export these chunks');
  return lines.join('\n') + '\n';
}

function prettyReport(r: RepairReport): string {
  const s = r.summary;
  const lines = [
    '',
    `  Export     : ${r.plan.export_name}`,
    `  Repair run : ${r.repair_run_id}`,
    `  Actions    : ${s.planned} planned, ${s.executed} executed, ${s.skipped} skipped, ${s.failed} failed`,
    `  Rows       : ${thousands(s.rows_written)} written`,
  ];
  for (const [a, res] of r.results) {
    const outcome =
      'executed' in res
        ? `${thousands(res.executed.rows_written)} rows → ${res.executed.path ?? '(no rows, no part)'}`
        : 'failed' in res
          ? `FAILED: ${res.failed.error}`
          : `skipped: ${res.skipped.reason}`;
    lines.push(`    • chunk ${a.chunk_index} [${a.start_key}..${a.end_key}] — ${outcome}`);
  }
  if (s.executed > 0) lines.push('  Manifest   : updated (repaired parts listed in place of the parts they correct; originals kept)');
  return lines.join('\n') + '\n';
}
