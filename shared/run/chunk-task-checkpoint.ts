import { errorChain } from '../errors/rivet-error.js';
import { redact } from '../log/redact.js';
import type { ResolvedExport, RunDeps } from './run-deps.js';
import type { ChunkTask, Receipt } from './run-plan.js';

/** The state transitions one worker makes for its chunk: running → completed | failed. */
export interface ChunkTaskCheckpoint {
  start(): Promise<void>;
  complete(receipt: Receipt): Promise<void>;
  fail(error: unknown): Promise<void>;
}

/**
 * The checkpoint of a task of a `chunk_checkpoint: true` run, or null for any other task.
 * Lives with the worker phase, so a Lambda worker records its chunk exactly like the local
 * driver does. A state write that fails is logged, never fatal: receipts at the destination
 * remain the evidence a resume trusts, the rows only say what was attempted.
 */
export function chunkTaskCheckpoint(exp: ResolvedExport, task: ChunkTask, deps: RunDeps): ChunkTaskCheckpoint | null {
  if (exp.mode !== 'chunked' || !exp.chunk?.checkpoint) return null;
  const { runId, taskIndex } = task;
  const guard = async (what: string, f: () => Promise<unknown>) => {
    try {
      await f();
    } catch (e) {
      deps.log.warn(`export '${task.exportName}' chunk ${taskIndex}: could not record ${what} in the state database: ${(e as Error).message}`);
    }
  };
  return {
    start: () => guard('its start', () => deps.state.startChunkTask(runId, taskIndex)),
    complete: (r) => guard('its completion', () => deps.state.completeChunkTask(runId, taskIndex, { rows: r.rows, fileName: r.parts[0]?.path ?? null })),
    fail: (e) => guard('its failure', () => deps.state.failChunkTask(runId, taskIndex, redact(errorChain(e)))),
  };
}
