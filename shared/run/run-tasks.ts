import { RivetError, errorChain } from '../errors/rivet-error.js';
import { redact } from '../log/redact.js';
import { exportChunk } from './export-chunk.js';
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
  let next = 0;
  const lanes = Array.from({ length: Math.min(Math.max(1, concurrency), tasks.length) }, async () => {
    while (next < tasks.length && !failure && !controller.signal.aborted) {
      const task = tasks[next++];
      try {
        receipts.push(await exportChunk(task, deps, controller.signal));
      } catch (e) {
        failure ??= asFailure(e);
        controller.abort();
      }
    }
  });
  await Promise.all(lanes);
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
