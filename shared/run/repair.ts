import { RivetError } from '../errors/rivet-error.js';
import { commitRun } from './commit.js';
import { chunkColumnName, chunkLabel, chunkQueryBuilder, predicateFromKeys } from './chunk-keys.js';
import { MANIFEST_KEY, partNumberOf } from './layout.js';
import { buildManifest, parseManifest, type ManifestPart } from './manifest.js';
import { targetFromRoot } from './plan.js';
import { assertReconcilable, parsePartitionIdentifier, type ReconcileReport } from './reconcile.js';
import { rivetVersion } from './rivet-version.js';
import { makeRunId } from './run-id.js';
import type { ResolvedExport, RunDeps } from './run-deps.js';
import type { ChunkTask } from './run-plan.js';
import { runTasks } from './run-tasks.js';

/**
 * `rivet repair` (spec 04 §10): the chunks a reconcile flagged, re-exported and nothing else.
 *
 * Executing writes through the same ordered writes as a run (parts → receipts → manifest →
 * `_SUCCESS`): the repaired chunks become NEW parts with new part numbers; the manifest
 * lists them in place of the parts they correct, so the dataset described by manifest.json
 * holds each row once. The corrected parts stay where they are (never deleted, never
 * moved; they are no longer listed, and their run's archived manifest still names them).
 * The committed cursor and progression are not touched; the chunk checkpoint rows get the
 * new counts, so the next `rivet reconcile` can come out clean and advance the verified
 * progression.
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

  // The repair's own tasks: never a checkpoint of their own (the original run's rows are updated below).
  const repairExp: ResolvedExport = { ...exp, chunk: { ...exp.chunk!, checkpoint: false } };
  const repairDeps: RunDeps = { ...deps, resolveExport: async () => repairExp };
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
      tasks.push({ runId: repairRunId, exportName: exp.name, params: {}, prefix: run.prefix, taskIndex: tasks.length, partNumber: nextPart + 1 + tasks.length, sql: build(p), label: chunkLabel(column, p) });
    }
  } finally {
    await source.close();
  }

  const { receipts, failure } = await runTasks(tasks, exp.parallel, repairDeps, interrupt);
  if (failure) {
    for (const a of plan.actions) report.results.push([a, { failed: { error: failure.message } }]);
    report.summary.failed = plan.actions.length;
    return report;
  }

  const byTask = new Map(receipts.map((r) => [r.taskIndex, r]));
  const replaced = new Set(plan.actions.map((a) => taskRows.get(a.chunk_index)?.fileName).filter((f): f is string => !!f));
  const added: ManifestPart[] = [];
  plan.actions.forEach((a, i) => {
    const r = byTask.get(i)!;
    for (const part of r.parts) {
      added.push({ part_id: 0, path: part.path, rows: part.rows, size_bytes: part.sizeBytes, content_fingerprint: part.contentFingerprint, content_md5: part.contentMd5, status: 'committed' });
    }
    report.results.push([a, { executed: { rows_written: r.rows, path: r.parts[0]?.path ?? null } }]);
    report.summary.executed++;
    report.summary.rows_written += r.rows;
  });
  const parts = [...current.parts.filter((p) => !replaced.has(p.path)), ...added].map((p, i) => ({ ...p, part_id: i + 1 }));
  const manifest = buildManifest({
    run_id: repairRunId,
    export_name: current.export_name,
    started_at: now.toISOString(),
    finished_at: deps.now().toISOString(),
    status: 'success',
    source: current.source,
    destination: current.destination,
    format: current.format,
    compression: current.compression,
    schema_fingerprint: current.schema_fingerprint,
    parts,
    mode: current.mode,
    columns: current.columns,
  });
  await commitRun({ dest, manifest, log: deps.log });

  for (const [i, a] of plan.actions.entries()) {
    const r = byTask.get(i)!;
    try {
      await deps.state.completeChunkTask(run.runId, a.chunk_index, { rows: r.rows, fileName: r.parts[0]?.path ?? null });
    } catch (e) {
      deps.log.warn(`export '${exp.name}' chunk ${a.chunk_index}: could not record the repaired count in the state database: ${(e as Error).message}`);
    }
  }
  try {
    await deps.state.recordFiles(added.map((p) => ({ runId: repairRunId, exportName: exp.name, fileName: p.path, rowCount: p.rows, bytes: p.size_bytes, format: exp.format, compression: exp.compression })));
  } catch (e) {
    deps.log.warn(`export '${exp.name}': could not record the repair's files in the state database: ${(e as Error).message}`);
  }
  return report;
}
