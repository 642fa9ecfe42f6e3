import { makeFinalizerHandler } from '../functions/finalizer.js';
import { makePlannerHandler } from '../functions/planner.js';
import { makeWorkerHandler } from '../functions/worker.js';
import { RivetError, errorChain } from '../shared/errors/rivet-error.js';
import { redact } from '../shared/log/redact.js';
import { RunPlanSchema, type ChunkTask, type Failure, type Receipt, type RunResult } from '../shared/run/run-plan.js';
import type { RunDeps } from '../shared/run/run-deps.js';
import { targetFromRoot } from '../shared/run/plan.js';
import { runNotStarted } from '../shared/run/run-not-started.js';
import { keepLeaseAlive } from '../shared/run/run-lease.js';
import { governedPool, governorFor } from '../shared/run/concurrency-governor.js';

/**
 * `rivet run` on one machine: the same three handlers a Lambda deployment calls, invoked
 * in-process — plan, then the tasks through a bounded pool, then finalize. No commit logic
 * lives here.
 */
export interface LocalRunOptions {
  exportName: string;
  params: Record<string, string>;
  /** Tasks exported at once when the plan does not say (its header carries the export's `parallel`). */
  concurrency?: number;
  /** `--resume`: adopt the export's unfinished checkpointed run; `force` also over an existing `_SUCCESS`. */
  resume?: boolean;
  force?: boolean;
  /** Ctrl-C: stop the workers and record the run as interrupted. */
  interrupt?: AbortSignal;
  deps: RunDeps;
  /** Progress for the cards UI: the run is planned (its id, its task count), then each task is done. */
  onPlanned?(info: { runId: string; tasks: number }): void;
  onTaskDone?(done: number): void;
}

const INTERRUPTED: Failure = {
  code: 'INTERRUPTED',
  message: 'interrupted (SIGINT); nothing of this run was committed to the dataset',
  hint: 'rerun the export; a checkpointed chunked export can continue with --resume',
};

export async function runExportLocally(options: LocalRunOptions): Promise<RunResult> {
  const { deps, exportName, params } = options;
  const getDeps = () => Promise.resolve(deps);
  const planner = makePlannerHandler(getDeps);
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  options.interrupt?.addEventListener('abort', onInterrupt);
  const worker = makeWorkerHandler(getDeps, controller.signal);
  const finalizer = makeFinalizerHandler(getDeps);
  const started = Date.now();

  let planned;
  try {
    planned = await planner({ export: exportName, params, resume: options.resume ?? false, force: options.force ?? false });
  } catch (e) {
    // Nothing was written yet: no manifest for a run that never started.
    if (e instanceof RivetError && e.exitCode === 2) throw e;
    return runNotStarted(exportName, 'full', toFailure(e), Date.now() - started);
  }

  const receipts: Receipt[] = [];
  let failure: Failure | undefined;
  // The planner took the export's lease; it stays renewed until the finalizer gives it back.
  const stopLease = keepLeaseAlive(deps.state, planned.header, deps.log, (lost) => {
    failure ??= lost;
    controller.abort();
  });
  let tasks: ChunkTask[];
  try {
    tasks = planned.tasks ?? (await loadTasks(deps, planned.header.exportName, params, planned.header.prefix, planned.planKey));
  } catch (e) {
    stopLease();
    return finalizer({ header: planned.header, failure: toFailure(e), receipts });
  }
  options.onPlanned?.({ runId: planned.header.runId, tasks: tasks.length });
  const size = Math.max(1, planned.header.parallel ?? options.concurrency ?? 1);
  const governor = await governorFor(deps, exportName, params, size);
  await governedPool(tasks, size, governor, async (task) => {
    if (failure || controller.signal.aborted) return;
    try {
      receipts.push(await worker({ task }));
      options.onTaskDone?.(receipts.length);
    } catch (e) {
      failure ??= toFailure(e);
      controller.abort();
    }
  });
  stopLease();
  options.interrupt?.removeEventListener('abort', onInterrupt);
  // An interruption explains whatever error the aborted workers reported.
  if (options.interrupt?.aborted) failure = INTERRUPTED;
  return finalizer({ header: planned.header, failure, receipts });
}

async function loadTasks(deps: RunDeps, exportName: string, params: Record<string, string>, prefix: string, key: string | null): Promise<ChunkTask[]> {
  if (!key) return [];
  const exp = await deps.resolveExport(exportName, params);
  const dest = await deps.openDestination(targetFromRoot(exp, prefix));
  const bytes = await dest.get(key);
  if (!bytes) throw new RivetError('DESTINATION', `the run plan ${key} disappeared from the destination`);
  return RunPlanSchema.parse(JSON.parse(new TextDecoder().decode(bytes))).tasks;
}

export function toFailure(e: unknown): Failure {
  if (e instanceof RivetError) return { code: e.code, message: redact(e.message), ...(e.hint ? { hint: redact(e.hint) } : {}) };
  return { code: 'INTERNAL', message: redact(errorChain(e)) };
}
