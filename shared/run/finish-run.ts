import { describeCaught, notedFailure } from './describe-caught.js';
import { recordUnplannedFailure } from './fail-unplanned.js';
import { finalize } from './finalize.js';
import { finishPartitionedRun, type FinishedChild } from './partitioned-run.js';
import { PlannerEventSchema, type CaughtError, type ChecksWanted } from './messages.js';
import { runPostRunChecks, type RunChecks } from './post-run-checks.js';
import type { RepairCommit } from './repair-commit.js';
import type { RunDeps } from './run-deps.js';
import type { Failure, Receipt, RunHeader, RunResult } from './run-plan.js';
import type { TaskNotes } from './task-notes.js';

export interface FinishRequest {
  /** The planned run; absent when the planner failed (then `request` names the export). */
  header?: RunHeader;
  /** Why the run failed, as the driver knows it … */
  failure?: Failure;
  /** … or as Step Functions caught it. */
  caught?: CaughtError;
  /** The run request (execution input), for a run that was never planned. */
  request?: unknown;
  /** Receipts handed over in-process (streaming destinations keep none at the destination). */
  receipts?: Receipt[];
  /** `--validate` / `--reconcile`, judged after the commit. */
  checks?: ChecksWanted;
  /** Journal events the driver saw (the adaptive governor's `ParallelismAdjusted`). */
  events?: Record<string, unknown>[];
  /** `rivet repair --execute`: the run amends the committed dataset (repair-commit.ts). */
  repair?: RepairCommit;
}

export interface FinishedRun {
  result: RunResult;
  /** The post-run checks' verdicts (null where not asked for or not applicable). */
  checks: RunChecks;
  /** A partitioned run's children, each finished on its own; `result` then sums them up. */
  partitions?: FinishedChild[];
}

const NO_CHECKS: RunChecks = { validation: null, reconciliation: null };

/**
 * Phase 3 for any driver: finalize the run (or record a run that was never planned), then
 * the post-run checks it asked for. A check that does not hold fails the run, on every
 * driver alike (shared/run/post-run-checks.ts).
 */
export async function finishRun(input: FinishRequest, deps: RunDeps, notes: TaskNotes | null = null): Promise<FinishedRun> {
  const failure = input.failure ?? (input.caught ? await describeCaught(input.caught, input.header?.runId ?? null, notes) : undefined);
  if (!input.header) {
    const parsed = PlannerEventSchema.safeParse(input.request);
    const req = parsed.success ? { export: parsed.data.export, params: parsed.data.params, ...(parsed.data.requestedAt ? { requestedAt: parsed.data.requestedAt } : {}) } : null;
    const result = await recordUnplannedFailure(req, failure ?? { code: 'USAGE', message: 'the finalizer got neither a run header nor an error' }, deps);
    return { result, checks: NO_CHECKS };
  }
  if (input.header.children) {
    const group = await finishPartitionedRun({ ...input, header: input.header }, deps, notes, (header, childFailure) =>
      finishRun({ header, failure: childFailure, checks: input.checks }, deps, notes),
    );
    return { result: group.result, checks: NO_CHECKS, partitions: group.children };
  }
  const header = input.header;
  // A Map whose item failed for good may still report success (LocalStack does; a tolerated
  // failure threshold would): the task's note names the failure, not only a missing receipt.
  const noted = !failure && notes ? await notedFailure(header.runId, notes) : null;
  const result = await finalize(
    {
      header,
      failure: failure ?? noted ?? undefined,
      ...(input.receipts ? { receipts: input.receipts } : {}),
      ...(input.events?.length ? { events: input.events } : {}),
      ...(input.repair ? { repair: input.repair } : {}),
    },
    deps,
  );
  const wanted = input.checks ?? { validate: false, reconcile: false };
  if (result.status !== 'success' || (!wanted.validate && !wanted.reconcile)) return { result, checks: NO_CHECKS };
  const exp = await deps.resolveExport(header.exportName, header.params);
  return runPostRunChecks(result, exp, wanted, deps);
}
