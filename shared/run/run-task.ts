import { RivetError, isRetryable, withRetryable } from '../errors/rivet-error.js';
import { exportChunk } from './export-chunk.js';
import type { RunDeps } from './run-deps.js';
import type { ChunkTask, Receipt } from './run-plan.js';
import { failureOf } from './run-not-started.js';
import type { TaskNotes } from './task-notes.js';

/** The task stopped itself before its time limit; nothing of it was published. */
export class DeadlineError extends RivetError {
  constructor(taskIndex: number, budgetMs: number, marginMs: number) {
    super('EXPORT_FAILED', `task ${taskIndex} stopped ${Math.round(marginMs / 1000)} s before the Lambda time limit (it ran ${Math.round(budgetMs / 1000)} s); nothing of it was published`, {
      hint: 'Step Functions retries it; if it keeps happening, make chunks smaller (chunk_size) or raise worker.timeout_s in rivet.deploy.yaml',
      retryable: true,
    });
  }
}

/**
 * How long before its time limit a task gives up: enough to abort its multipart upload and
 * close the source connection. RIVET_DEADLINE_MARGIN_MS overrides it.
 */
export function deadlineMargin(remainingMs: number, env: NodeJS.ProcessEnv = process.env): number {
  const set = Number(env.RIVET_DEADLINE_MARGIN_MS);
  if (Number.isFinite(set) && set >= 0 && env.RIVET_DEADLINE_MARGIN_MS !== '') return set;
  return Math.min(60_000, Math.max(5_000, Math.round(remainingMs * 0.1)));
}

export interface RunTaskOptions {
  /** Time left before the caller is killed (a Lambda's `getRemainingTimeInMillis()`); the task stops a margin before. */
  remainingMs?: number;
  /** Stops the task from outside (Ctrl-C, a failed sibling). */
  signal?: AbortSignal;
  /** Attempts in this call (a Lambda makes one: Step Functions retries); default the export's. */
  attempts?: number;
  /** Where a failure is noted for the finalizer (the work bucket on AWS). */
  notes?: TaskNotes;
}

/**
 * Phase 2 for any driver: export one task. Whatever it throws is a RivetError whose
 * `retryable` the driver may act on — a stop at the deadline with nothing published is
 * retryable, like a transient source error; a task that published a part never is.
 */
export async function runTask(task: ChunkTask, deps: RunDeps, options: RunTaskOptions = {}): Promise<Receipt> {
  const controller = new AbortController();
  const stop = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', stop);
  let timer: NodeJS.Timeout | undefined;
  if (options.remainingMs !== undefined) {
    const margin = deadlineMargin(options.remainingMs);
    const budget = Math.max(0, options.remainingMs - margin);
    timer = setTimeout(() => controller.abort(new DeadlineError(task.taskIndex, budget, margin)), budget);
  }
  try {
    deps.log.info(`task ${task.taskIndex}${task.label ? ` (${task.label})` : ''} started`);
    const receipt = await exportChunk(task, deps, { signal: controller.signal, ...(options.attempts ? { attempts: options.attempts } : {}) });
    const bytes = receipt.parts.reduce((n, p) => n + p.sizeBytes, 0);
    deps.log.info(`task ${task.taskIndex} done: ${receipt.rows} row(s), ${receipt.parts.length} part(s), ${bytes} byte(s)`);
    await options.notes?.clear(task.runId, task.taskIndex).catch(() => {});
    return receipt;
  } catch (err) {
    // A deadline stop reports itself (what the task was doing when stopped matters less), but
    // only the task's own error knows whether a part was already published.
    const reason = controller.signal.reason instanceof DeadlineError ? controller.signal.reason : err;
    const error = withRetryable(reason instanceof RivetError ? reason : new RivetError('INTERNAL', failureOf(reason).message, { cause: reason }), isRetryable(err));
    await options.notes
      ?.put(task.runId, task.taskIndex, failureOf(error))
      .catch((e: unknown) => deps.log.warn(`could not leave the failure note of task ${task.taskIndex}: ${(e as Error).message}`));
    throw error;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', stop);
  }
}
