import { RivetError, errorChain } from '../shared/errors/rivet-error.js';
import { redact } from '../shared/log/redact.js';
import { PlannerEventSchema } from '../shared/run/messages.js';
import type { ModePlanner } from '../shared/run/modes/mode-planner.js';
import type { Failure, Mode } from '../shared/run/run-plan.js';
import type { RunDeps } from '../shared/run/run-deps.js';
import { runNotStarted } from '../shared/run/run-not-started.js';
import { keepLeaseAlive } from '../shared/run/run-lease.js';
import { startRun } from '../shared/run/start-run.js';
import { runTasks } from '../shared/run/run-tasks.js';
import { finishRun, type FinishedRun } from '../shared/run/finish-run.js';
import type { RunChecksWanted } from '../shared/run/post-run-checks.js';

/**
 * `rivet run` (and `rivet apply`) on one machine: the same three phase functions the Lambda
 * adapters call, with the same messages, in-process — startRun, then the tasks through the
 * shared pool, then finishRun (finalize and the post-run checks). No commit logic lives here.
 */
export interface LocalRunOptions {
  exportName: string;
  params: Record<string, string>;
  /** `--resume`: adopt the export's unfinished checkpointed run; `force` also over an existing `_SUCCESS`. */
  resume?: boolean;
  force?: boolean;
  /** `--validate` / `--reconcile`, judged after the commit as on every driver. */
  checks?: RunChecksWanted;
  /** Ctrl-C: stop the workers and record the run as interrupted. */
  interrupt?: AbortSignal;
  deps: RunDeps;
  /** `rivet apply`: the plan artifact's chunk ranges in place of the mode's planner. */
  modePlanner?: ModePlanner;
  /** The mode a run that never started is reported under (default `full`: the export may not even resolve). */
  mode?: Mode;
  /** Progress for the cards UI: the run is planned (its id, its task count), then each task is done. */
  onPlanned?(info: { runId: string; tasks: number }): void;
  onTaskDone?(done: number): void;
}

const NO_CHECKS = { validation: null, reconciliation: null };

export async function runExportLocally(options: LocalRunOptions): Promise<FinishedRun> {
  const { deps, exportName, params } = options;
  const started = Date.now();
  const request = PlannerEventSchema.parse({ export: exportName, params, resume: options.resume ?? false, force: options.force ?? false, ...options.checks });

  let planned;
  try {
    planned = await startRun(request, deps, options.modePlanner ? { modePlanner: options.modePlanner } : {});
  } catch (e) {
    if (e instanceof RivetError && e.exitCode === 2) throw e;
    // A run that was never planned is recorded as the deployed finalizer records it
    // (fail-unplanned.ts): on an object store a failed manifest under _rivet/runs/ and the
    // run in state, the prefix's manifest.json and _SUCCESS untouched.
    const failure = toFailure(e);
    const recorded = await finishRun({ request, failure }, deps).then(
      (f) => f.result,
      (err: unknown) => {
        deps.log.warn(`export '${exportName}': the failed run could not be recorded: ${toFailure(err).message}`);
        return runNotStarted(exportName, options.mode ?? 'full', failure);
      },
    );
    return { result: { ...recorded, durationMs: Date.now() - started }, checks: NO_CHECKS };
  }
  const { header, checks } = planned;
  // The planner took the export's lease; it stays renewed until the finalizer gives it back.
  let lost: Failure | undefined;
  const leaseLost = new AbortController();
  const stopLease = keepLeaseAlive(deps.state, header, deps.log, (f) => {
    lost ??= f;
    leaseLost.abort();
  });
  const tasks = planned.tasks;
  options.onPlanned?.({ runId: header.runId, tasks: tasks.length });
  const { receipts, failure, events } = await runTasks(tasks, header.parallel ?? 1, deps, {
    interrupt: options.interrupt,
    stop: { signal: leaseLost.signal, failure: () => lost },
    onReceipt: (_r, done) => options.onTaskDone?.(done),
  });
  stopLease();
  // After Ctrl-C nothing more is asked of the source or the destination.
  return finishRun({ header, failure, receipts, events, ...(options.interrupt?.aborted ? {} : { checks }) }, deps);
}

export function toFailure(e: unknown): Failure {
  if (e instanceof RivetError) return { code: e.code, message: redact(e.message), ...(e.hint ? { hint: redact(e.hint) } : {}) };
  return { code: 'INTERNAL', message: redact(errorChain(e)) };
}
