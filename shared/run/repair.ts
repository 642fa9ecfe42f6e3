import { RivetError } from '../errors/rivet-error.js';
import { chunkColumnName, chunkLabel, chunkQueryBuilder, predicateFromKeys } from './chunk-keys.js';
import { finishRun } from './finish-run.js';
import { MANIFEST_KEY, partNumberOf, planKey } from './layout.js';
import { parseManifest } from './manifest.js';
import { targetFromRoot } from './plan.js';
import { assertReconcilable, parsePartitionIdentifier, type ReconcileReport } from './reconcile.js';
import { rivetVersion } from './rivet-version.js';
import { makeRunId } from './run-id.js';
import type { ResolvedExport, RunDeps } from './run-deps.js';
import type { RepairCommit } from './repair-commit.js';
import type { ChunkTask, Failure, RunHeader, RunPlan } from './run-plan.js';
import { acquireRunLease, keepLeaseAlive, releaseRunLease } from './run-lease.js';
import { runTasks } from './run-tasks.js';

/**
 * `rivet repair` (docs/commands/repair.md): the chunks a reconcile flagged, re-exported and nothing else.
 *
 * Executing is a run of its own (`repair-<run id>`) under the export's run lease, committed
 * by `finishRun` → `finalize` like any run: the same verdict (`quality:` bounds on the
 * dataset it leaves, schema drift), the same ordered writes, metrics, file log and journal.
 * The repaired chunks become NEW parts with new part numbers; the manifest lists them in
 * place of the parts they correct, so the dataset described by manifest.json holds each row
 * once. The corrected parts stay where they are (never deleted, never moved; they are no
 * longer listed, and their run's archived manifest still names them). The committed cursor
 * and progression are not touched; the chunk checkpoint rows get the new counts, so the next
 * `rivet reconcile` can come out clean and advance the verified progression. A repair that
 * fails leaves manifest.json and `_SUCCESS` as they were and sets its parts aside.
 */

export interface RepairAction {
  chunk_index: number;
  start_key: string;
  end_key: string;
  reason: string;
}

export interface RepairPlan {
  rivet_version: string;
  export_name: string;
  reconcile_run_id: string;
  strategy: 'chunked';
  actions: RepairAction[];
  skipped: { identifier: string; reason: string }[];
}

export type RepairResult = { executed: { rows_written: number; path: string | null } } | { skipped: { reason: string } } | { failed: { error: string } };

export interface RepairReport {
  plan: RepairPlan;
  repair_run_id: string;
  results: [RepairAction, RepairResult][];
  summary: { planned: number; executed: number; skipped: number; failed: number; rows_written: number };
}

export function repairPlan(exp: ResolvedExport, report: ReconcileReport): RepairPlan {
  assertReconcilable(exp, 'repair');
  if (report.export_name !== exp.name) {
    throw new RivetError('USAGE', `repair: the reconcile report is for export '${report.export_name}', not '${exp.name}'`, {
      hint: 'pass the report written by `rivet reconcile -e <same export> --format json -o <file>`',
    });
  }
  const plan: RepairPlan = { rivet_version: rivetVersion(), export_name: exp.name, reconcile_run_id: report.run_id, strategy: 'chunked', actions: [], skipped: [] };
  for (const p of report.partitions) {
    if (p.status === 'match') continue;
    const id = parsePartitionIdentifier(p.identifier);
    if (!id) {
      plan.skipped.push({ identifier: p.identifier, reason: `the partition identifier '${p.identifier}' (${p.status}) cannot be parsed` });
      continue;
    }
    plan.actions.push({ chunk_index: id.chunkIndex, start_key: id.startKey, end_key: id.endKey, reason: p.note ?? p.status });
  }
  return plan;
}

export async function executeRepair(exp: ResolvedExport, plan: RepairPlan, deps: RunDeps, interrupt?: AbortSignal): Promise<RepairReport> {
  const now = deps.now();
  const repairRunId = `repair-${makeRunId(exp.name, now)}`;
  const report: RepairReport = { plan, repair_run_id: repairRunId, results: [], summary: { planned: plan.actions.length, executed: 0, skipped: plan.skipped.length, failed: 0, rows_written: 0 } };
  if (plan.actions.length === 0) return report;

  const run = await deps.state.latestChunkRun(exp.name);
  if (!run || run.runId !== plan.reconcile_run_id) {
    throw new RivetError('USAGE', `repair: the reconcile report is for chunk run ${plan.reconcile_run_id}, but the latest chunk run of '${exp.name}' is ${run?.runId ?? '(none)'}`, {
      hint: 'reconcile again (`rivet reconcile`) and repair from the fresh report',
    });
  }
  if (run.status !== 'completed' || run.prefix === null) {
    throw new RivetError('USAGE', `repair: chunk run ${run.runId} of '${exp.name}' is not completed`, {
      hint: `finish it first with \`rivet run -c <config> -e ${exp.name} --resume\``,
    });
  }
  const dest = await deps.openDestination(targetFromRoot(exp, run.prefix));
  const manifestBytes = await dest.get(MANIFEST_KEY);
  const current = manifestBytes ? parseManifest(manifestBytes).manifest : null;
  if (!current || current.status !== 'success') {
    throw new RivetError('USAGE', `repair: ${dest.uri} has no successful manifest.json to repair`, { hint: 'rerun the export with `rivet run`' });
  }
  const taskRows = new Map((await deps.state.chunkTasks(run.runId)).map((t) => [t.chunkIndex, t]));

  // The repair's own tasks: never a checkpoint of their own (finalize updates the original run's rows).
  const repairExp: ResolvedExport = { ...exp, chunk: { ...exp.chunk!, checkpoint: false } };
  const repairDeps: RunDeps = { ...deps, resolveExport: async () => repairExp };
  // A repair rewrites manifest.json like a run: it holds the export's run lease, so it cannot
  // interleave with a run (or another repair) of the same export.
  const lease = await acquireRunLease(deps.state, exp.name, repairRunId, deps.log);
  let header: RunHeader;
  let tasks: ChunkTask[];
  try {
    ({ header, tasks } = await planRepair(exp, plan, deps, { runId: repairRunId, prefix: run.prefix, startedAt: now, leaseToken: lease.token, schemaFingerprint: current.schema_fingerprint }));
  } catch (e) {
    await releaseRunLease(deps.state, { exportName: exp.name, runId: repairRunId, leaseToken: lease.token }, deps.log);
    throw e;
  }

  let lost: Failure | undefined;
  const leaseLost = new AbortController();
  const stopLease = keepLeaseAlive(deps.state, header, deps.log, (f) => {
    lost ??= f;
    leaseLost.abort();
  });
  const ran = await runTasks(tasks, exp.parallel, repairDeps, { interrupt, stop: { signal: leaseLost.signal, failure: () => lost } }).finally(stopLease);
  // The same commit as a run: verdict, manifest, _SUCCESS, state, journal — in finalize.
  const repair: RepairCommit = {
    chunkRunId: run.runId,
    chunks: plan.actions.map((a, taskIndex) => ({ taskIndex, chunkIndex: a.chunk_index })),
    replaced: plan.actions.map((a) => taskRows.get(a.chunk_index)?.fileName).filter((f): f is string => !!f),
  };
  const repairEvent = { RepairApplied: { reconcile_run_id: plan.reconcile_run_id, chunks: plan.actions.map((a) => a.chunk_index), replaced: repair.replaced } };
  const { result } = await finishRun({ header, failure: ran.failure, receipts: ran.receipts, events: [...ran.events, repairEvent], repair }, repairDeps);
  if (result.status !== 'success') {
    const error = result.error?.message ?? `repair run ${repairRunId} ${result.status}`;
    for (const a of plan.actions) report.results.push([a, { failed: { error } }]);
    report.summary.failed = plan.actions.length;
    return report;
  }
  const byTask = new Map(ran.receipts.map((r) => [r.taskIndex, r]));
  plan.actions.forEach((a, i) => {
    const r = byTask.get(i)!;
    report.results.push([a, { executed: { rows_written: r.rows, path: r.parts[0]?.path ?? null } }]);
    report.summary.executed++;
    report.summary.rows_written += r.rows;
  });
  return report;
}

/**
 * The repair's run header and tasks — one task per chunk to re-export, numbered after the
 * highest part at the prefix — and its run plan at the destination, as `plan` writes one, so
 * a failed repair's parts are found and set aside like a failed run's.
 */
async function planRepair(
  exp: ResolvedExport,
  plan: RepairPlan,
  deps: RunDeps,
  run: { runId: string; prefix: string; startedAt: Date; leaseToken: string; schemaFingerprint: string },
): Promise<{ header: RunHeader; tasks: ChunkTask[] }> {
  const dest = await deps.openDestination(targetFromRoot(exp, run.prefix));
  let nextPart = 0;
  for (const o of await dest.list('part-')) nextPart = Math.max(nextPart, partNumberOf(o.key) ?? 0);
  const source = await deps.openSource({ connection: exp.connection, columnOverrides: exp.columnOverrides, log: deps.log });
  const tasks: ChunkTask[] = [];
  try {
    const column = await chunkColumnName(exp, source);
    const build = await chunkQueryBuilder(exp, source, column);
    for (const a of plan.actions) {
      const p = predicateFromKeys(exp.chunk!, a.start_key, a.end_key);
      if (!p) throw new RivetError('USAGE', `repair: chunk ${a.chunk_index} has unreadable bounds [${a.start_key}..${a.end_key}]`);
      tasks.push({
        runId: run.runId,
        exportName: exp.name,
        params: {},
        prefix: run.prefix,
        taskIndex: tasks.length,
        partNumber: nextPart + 1 + tasks.length,
        sql: build(p),
        label: chunkLabel(column, p),
        leaseToken: run.leaseToken,
      });
    }
  } finally {
    await source.close();
  }
  const header: RunHeader = {
    runId: run.runId,
    exportName: exp.name,
    params: {},
    mode: 'chunked',
    format: exp.format,
    compression: exp.compression,
    prefix: run.prefix,
    startedAt: run.startedAt.toISOString(),
    taskCount: tasks.length,
    schemaFingerprint: run.schemaFingerprint,
    ...(exp.parallel > 1 ? { parallel: exp.parallel } : {}),
    leaseToken: run.leaseToken,
  };
  const runPlan: RunPlan = { planVersion: 1, ...header, tasks };
  await dest.put(planKey(run.runId), JSON.stringify(runPlan, null, 2) + '\n', { ifAbsent: true });
  return { header, tasks };
}
