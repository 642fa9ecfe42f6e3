import { RivetError, errorChain } from '../errors/rivet-error.js';
import { redact } from '../log/redact.js';
import { exportChunk } from './export-chunk.js';
import { governedPool, governorFor } from './concurrency-governor.js';
import type { RunDeps } from './run-deps.js';
import type { ChunkTask, Failure, Receipt } from './run-plan.js';

/**
 * Phase 2 for a list of tasks on one machine: a bounded pool of exportChunk calls. The
 * first failure stops the pool (the tasks already running are aborted); the caller decides
 * what the receipts mean. Used by `rivet apply` and `rivet repair --execute`.
 */
export async function runTasks(
  tasks: ChunkTask[],
  concurrency: number,
  deps: RunDeps,
  interrupt?: AbortSignal,
): Promise<{ receipts: Receipt[]; failure?: Failure }> {
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  interrupt?.addEventListener('abort', onInterrupt);
  const receipts: Receipt[] = [];
  let failure: Failure | undefined;
  const size = Math.min(Math.max(1, concurrency), tasks.length);
  const governor = tasks.length > 0 ? await governorFor(deps, tasks[0].exportName, tasks[0].params, size) : null;
  await governedPool(tasks, size, governor, async (task) => {
    if (failure || controller.signal.aborted) return;
    try {
      receipts.push(await exportChunk(task, deps, controller.signal));
    } catch (e) {
      failure ??= asFailure(e);
      controller.abort();
    }
  });
  interrupt?.removeEventListener('abort', onInterrupt);
  if (interrupt?.aborted) {
    failure = { code: 'INTERRUPTED', message: 'interrupted (SIGINT); nothing of this run was committed to the dataset' };
  }
  return { receipts, ...(failure ? { failure } : {}) };
}

function asFailure(e: unknown): Failure {
  if (e instanceof RivetError) return { code: e.code, message: redact(e.message), ...(e.hint ? { hint: redact(e.hint) } : {}) };
  return { code: 'EXPORT_FAILED', message: redact(errorChain(e)) };
}
