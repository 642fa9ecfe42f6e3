import { exportChunk } from '../shared/run/export-chunk.js';
import type { ResolvedExport, RunDeps } from '../shared/run/run-deps.js';
import { classifySourceError } from '../shared/source/registry.js';
import { RivetError } from '../shared/errors/rivet-error.js';
import { WorkerEventSchema, type WorkerReceipt } from './events.js';
import { handlerError, makeHandler, parseEvent, toFailure, type HandlerContext } from './handler-kit.js';
import { depsFromEnvironment } from './environment-deps.js';
import { createJsonLogger, withLogFields } from './json-logger.js';
import { workBucketFromEnv, type WorkBucket } from './work-bucket.js';

/** In-process worker (the CLI's local driver): export one task, return its full receipt. */
export function makeWorkerHandler(deps: () => Promise<RunDeps>, signal?: AbortSignal) {
  return makeHandler(WorkerEventSchema, deps, (event, d) => exportChunk(event.task, d, signal));
}

const LambdaWorkerEventSchema = WorkerEventSchema.required({ v: true });

/** The task stopped itself before the Lambda time limit; nothing of it was published. */
export class DeadlineError extends RivetError {
  constructor(taskIndex: number, budgetMs: number, marginMs: number) {
    super('EXPORT_FAILED', `task ${taskIndex} stopped ${Math.round(marginMs / 1000)} s before the Lambda time limit (it ran ${Math.round(budgetMs / 1000)} s); nothing of it was published`, {
      hint: 'Step Functions retries it; if it keeps happening, make chunks smaller (chunk_size) or raise worker.timeout_s in rivet.deploy.yaml',
    });
  }
}

/**
 * How long before the Lambda time limit a worker gives up: enough to abort its multipart
 * upload and close the source connection. RIVET_DEADLINE_MARGIN_MS overrides it.
 */
export function deadlineMargin(remainingMs: number, env: NodeJS.ProcessEnv = process.env): number {
  const set = Number(env.RIVET_DEADLINE_MARGIN_MS);
  if (Number.isFinite(set) && set >= 0 && env.RIVET_DEADLINE_MARGIN_MS !== '') return set;
  return Math.min(60_000, Math.max(5_000, Math.round(remainingMs * 0.1)));
}

/**
 * One attempt per invocation: Step Functions owns the retries (full jitter,
 * `chunk_max_attempts`), so the in-process retry loop is turned off rather than multiplied.
 */
function singleAttempt(d: RunDeps): RunDeps {
  return {
    ...d,
    async resolveExport(name, params): Promise<ResolvedExport> {
      const exp = await d.resolveExport(name, params);
      return { ...exp, tuning: { ...exp.tuning, maxRetries: 0 }, ...(exp.chunk ? { chunk: { ...exp.chunk, maxAttempts: 1 } } : {}) };
    },
  };
}

/**
 * Worker Lambda: export one task (one part, one receipt at the destination) and return a
 * tiny summary. Stops on its own before the time limit with a retryable error; a transient
 * source error is retryable too; anything else is final. Each failure leaves a note in the
 * work bucket for the finalizer's error message.
 */
export function makeWorkerLambda(deps: () => Promise<RunDeps>, bucket: () => WorkBucket = workBucketFromEnv) {
  let built: Promise<RunDeps> | null = null;
  const coldLog = createJsonLogger({ fn: 'worker' });
  return async (event: unknown, context?: HandlerContext): Promise<WorkerReceipt> =>
    withLogFields({ requestId: context?.awsRequestId }, async () => {
      let d: RunDeps | undefined;
      let task;
      try {
        task = parseEvent(LambdaWorkerEventSchema, event).task;
        built ??= deps().then(singleAttempt);
        d = await built;
      } catch (err) {
        throw handlerError(err, d?.log ?? coldLog);
      }
      const t = task;
      const deps1 = d;
      return withLogFields({ runId: t.runId, export: t.exportName, chunk: t.taskIndex }, async () => {
        const controller = new AbortController();
        const remaining = context?.getRemainingTimeInMillis();
        let timer: NodeJS.Timeout | undefined;
        if (remaining !== undefined) {
          const margin = deadlineMargin(remaining);
          const budget = Math.max(0, remaining - margin);
          timer = setTimeout(() => controller.abort(new DeadlineError(t.taskIndex, budget, margin)), budget);
        }
        try {
          deps1.log.info(`task ${t.taskIndex}${t.label ? ` (${t.label})` : ''} started`);
          const receipt = await exportChunk(t, deps1, controller.signal);
          const bytes = receipt.parts.reduce((n, p) => n + p.sizeBytes, 0);
          deps1.log.info(`task ${t.taskIndex} done: ${receipt.rows} row(s), ${receipt.parts.length} part(s), ${bytes} byte(s)`);
          await bucket().clearTaskError(t.runId, t.taskIndex).catch(() => {});
          return { v: 1 as const, runId: t.runId, taskIndex: t.taskIndex, rows: receipt.rows, parts: receipt.parts.length, bytes };
        } catch (err) {
          const retryable = controller.signal.aborted || (await isTransient(deps1, t.exportName, t.params, err));
          const reason = controller.signal.aborted ? controller.signal.reason : err;
          const failure = toFailure(reason);
          await bucket()
            .putTaskError(t.runId, t.taskIndex, failure)
            .catch((e: unknown) => deps1.log.warn(`could not leave the failure note of task ${t.taskIndex}: ${(e as Error).message}`));
          throw handlerError(reason, deps1.log, retryable);
        } finally {
          clearTimeout(timer);
        }
      });
    });
}

async function isTransient(d: RunDeps, exportName: string, params: Record<string, string>, err: unknown): Promise<boolean> {
  // A task that already published a part must not run again under the same key.
  if (err instanceof Error && err.message.includes('already published')) return false;
  try {
    const exp = await d.resolveExport(exportName, params);
    const cause = err instanceof Error && err.cause !== undefined ? err.cause : err;
    return classifySourceError(exp.connection.engine, cause).transient;
  } catch {
    return false;
  }
}

export const handler = makeWorkerLambda(() => depsFromEnvironment('worker'));
