import { notedFailure } from './describe-caught.js';
import type { CaughtError, ChecksWanted, PlannerEvent } from './messages.js';
import { planKey, resumePlanKey } from './layout.js';
import { discoverPartitions } from './partitions.js';
import { targetFromRoot } from './plan.js';
import type { RunChecks } from './post-run-checks.js';
import { makeRunId } from './run-id.js';
import type { RunDeps, ResolvedExport } from './run-deps.js';
import { failureOf, runNotStarted } from './run-not-started.js';
import { RunPlanSchema, type ChildRun, type ChunkTask, type Failure, type RunHeader, type RunResult } from './run-plan.js';
import type { TaskNotes } from './task-notes.js';

const NO_SCHEMA = 'xxh3:0000000000000000';

/** What startRun hands a driver; the same shape for one run and for a partitioned export's children. */
export interface PlannedRuns {
  header: RunHeader;
  tasks: ChunkTask[];
  storedAt: string | null;
  checks: ChecksWanted;
}

/** One child of a partitioned export, finished. */
export interface FinishedChild {
  result: RunResult;
  checks: RunChecks;
}

/**
 * A partitioned export on a driver that plans all of a run before any task runs (the planner
 * Lambda, then one Distributed Map): the children `rivet run` would run one after the other —
 * the same buckets (discoverPartitions), each planned by the same startRun — planned now, their
 * tasks handed out together. The header returned stands for the group: it names each child's
 * plan, so the finalizer finishes every child as `rivet run` would have, each with its own
 * prefix, manifest, `_SUCCESS`, lease and state. A child that cannot be planned is recorded
 * as not started, and the others still run, as under `rivet run`.
 */
export async function startPartitionedRun(
  request: PlannerEvent,
  exp: ResolvedExport,
  deps: RunDeps,
  startChild: (request: PlannerEvent) => Promise<PlannedRuns>,
): Promise<PlannedRuns> {
  const children: ChildRun[] = [];
  const tasks: ChunkTask[] = [];
  for (const name of await discoverPartitions(exp, deps)) {
    try {
      const child = await startChild({ ...request, export: name });
      const plan = request.resume ? resumePlanKey(child.header.runId) : planKey(child.header.runId);
      children.push({ exportName: name, prefix: child.header.prefix, plan });
      tasks.push(...child.tasks);
    } catch (e) {
      const failure = failureOf(e);
      deps.log.error(`export '${name}': not started: ${failure.code}: ${failure.message}`);
      children.push({ exportName: name, failure });
    }
  }
  const startedAt = deps.now();
  const header: RunHeader = {
    runId: makeRunId(exp.name, startedAt),
    exportName: exp.name,
    params: request.params,
    mode: exp.mode,
    format: exp.format,
    compression: exp.compression,
    prefix: '',
    startedAt: startedAt.toISOString(),
    taskCount: tasks.length,
    schemaFingerprint: NO_SCHEMA,
    ...(exp.parallel > 1 ? { parallel: exp.parallel } : {}),
    children,
  };
  return { header, tasks, storedAt: null, checks: { validate: request.validate, reconcile: request.reconcile } };
}

/**
 * Finish every child of a partitioned run, each through `finishChild` (finalize and its
 * post-run checks). A Catch's error belongs to the children whose tasks left a failure note;
 * the others are judged on their receipts alone, so a child whose tasks all finished commits,
 * as it would have under `rivet run`.
 */
export async function finishPartitionedRun(
  input: { header: RunHeader; failure?: Failure; caught?: CaughtError; checks?: ChecksWanted },
  deps: RunDeps,
  notes: TaskNotes | null,
  finishChild: (header: RunHeader, failure: Failure | undefined) => Promise<FinishedChild>,
): Promise<{ result: RunResult; children: FinishedChild[] }> {
  const started = Date.now();
  const done: FinishedChild[] = [];
  for (const child of input.header.children ?? []) {
    if (child.failure || !child.prefix || !child.plan) {
      done.push({ result: runNotStarted(child.exportName, input.header.mode, child.failure), checks: { validation: null, reconciliation: null } });
      continue;
    }
    let header: RunHeader;
    try {
      header = await childHeader(child, input.header.params, deps);
    } catch (e) {
      done.push({ result: runNotStarted(child.exportName, input.header.mode, failureOf(e, 'DESTINATION')), checks: { validation: null, reconciliation: null } });
      continue;
    }
    const failure = input.failure ?? (input.caught && notes ? ((await notedFailure(header.runId, notes, ` [${input.caught.Error}]`)) ?? undefined) : undefined);
    done.push(await finishChild(header, failure));
  }
  return { result: groupResult(input.header, done.map((c) => c.result), Date.now() - started), children: done };
}

async function childHeader(child: ChildRun, params: Record<string, string>, deps: RunDeps): Promise<RunHeader> {
  const exp = await deps.resolveExport(child.exportName, params);
  const dest = await deps.openDestination(targetFromRoot(exp, child.prefix!));
  const bytes = await dest.get(child.plan!);
  if (!bytes) throw new Error(`the run plan ${child.plan} of '${child.exportName}' is missing at ${dest.uri}`);
  const { tasks: _tasks, planVersion: _v, ...header } = RunPlanSchema.parse(JSON.parse(Buffer.from(bytes).toString('utf8')));
  return header;
}

/** The group's result, for the Verdict and `rivet cloud run`: failed when any child failed (as `rivet run` exits 1), with the first child's error. */
function groupResult(header: RunHeader, results: RunResult[], durationMs: number): RunResult {
  const failed = results.filter((r) => r.status === 'failed');
  const first = failed[0];
  const sum = (f: (r: RunResult) => number) => results.reduce((n, r) => n + f(r), 0);
  return {
    runId: header.runId,
    exportName: header.exportName,
    mode: header.mode,
    status: first ? 'failed' : results.length > 0 && results.every((r) => r.status === 'skipped') ? 'skipped' : 'success',
    rows: sum((r) => r.rows),
    files: sum((r) => r.files),
    bytes: sum((r) => r.bytes),
    durationMs,
    peakRssMb: Math.max(0, ...results.map((r) => r.peakRssMb)),
    destination: `${results.length} partition(s) of '${header.exportName}'`,
    manifestKey: null,
    ...(first
      ? {
          error: {
            code: first.error?.code ?? 'EXPORT_FAILED',
            message: `${failed.length} of ${results.length} partition(s) failed; ${first.exportName}: ${first.error?.message ?? 'failed'}`,
            ...(first.error?.hint ? { hint: first.error.hint } : {}),
          },
        }
      : {}),
  };
}
