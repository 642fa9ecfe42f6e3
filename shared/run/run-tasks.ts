import type { RunDeps } from './run-deps.js';
import type { ChunkTask, Failure, Receipt } from './run-plan.js';
import { failureOf } from './run-not-started.js';
import { runTask } from './run-task.js';
import { governedPool, governorFor } from './concurrency-governor.js';

export interface RunTasksOptions {
  /** Ctrl-C: the run is recorded as interrupted, whatever the aborted tasks reported. */
  interrupt?: AbortSignal;
  /** Stops the pool with this failure (the run lease was lost). */
  stop?: { signal: AbortSignal; failure: () => Failure | undefined };
  onReceipt?(receipt: Receipt, done: number): void;
}

export const INTERRUPTED: Failure = {
  code: 'INTERRUPTED',
  message: 'interrupted (SIGINT); nothing of this run was committed to the dataset',
  hint: 'rerun the export; a checkpointed chunked export can continue with --resume',
};

/**
 * Phase 2 for a list of tasks on one machine — the one pool `rivet run`, `rivet apply` and
 * `rivet repair --execute` share: at most `concurrency` runTask calls at once. The first
 * failure stops the pool (the tasks already running are aborted); the caller decides what
 * the receipts mean.
 */
export async function runTasks(
  tasks: ChunkTask[],
  concurrency: number,
  deps: RunDeps,
  options: RunTasksOptions | AbortSignal = {},
): Promise<{ receipts: Receipt[]; failure?: Failure; events: Record<string, unknown>[] }> {
  const o: RunTasksOptions = options instanceof AbortSignal ? { interrupt: options } : options;
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  o.interrupt?.addEventListener('abort', onAbort);
  o.stop?.signal.addEventListener('abort', onAbort);
  const receipts: Receipt[] = [];
  let failure: Failure | undefined;
  const size = Math.min(Math.max(1, concurrency), tasks.length);
  // `adaptive: true`: a governor may hold the pool below `concurrency` while the source is strained.
  const governor = tasks.length > 0 ? await governorFor(deps, tasks[0].exportName, tasks[0].params, size) : null;
  await governedPool(tasks, size, governor, async (task) => {
    if (failure || controller.signal.aborted) return;
    try {
      receipts.push(await runTask(task, deps, { signal: controller.signal }));
      o.onReceipt?.(receipts.at(-1)!, receipts.length);
    } catch (e) {
      failure ??= failureOf(e, 'EXPORT_FAILED');
      controller.abort();
    }
  });
  o.interrupt?.removeEventListener('abort', onAbort);
  o.stop?.signal.removeEventListener('abort', onAbort);
  if (o.stop?.signal.aborted) failure = o.stop.failure() ?? failure;
  // An interruption explains whatever error the aborted workers reported.
  if (o.interrupt?.aborted) failure = INTERRUPTED;
  // The governor's changes, for the run's journal (docs/modes.md).
  const events = (governor?.adjustments ?? []).map((a) => ({ ParallelismAdjusted: { from: a.from, to: a.to, reason: a.reason } }));
  return { receipts, ...(failure ? { failure } : {}), events };
}
