import { WorkerEventSchema, type WorkerReceipt } from '../shared/run/messages.js';
import type { RunDeps } from '../shared/run/run-deps.js';
import { runTask } from '../shared/run/run-task.js';
import { depsFromEnvironment } from './environment-deps.js';
import { lambda } from './handler-kit.js';
import { withLogFields } from './json-logger.js';
import { workBucketFromEnv, type WorkBucket } from './work-bucket.js';

/**
 * Worker Lambda: one attempt at one task (Step Functions owns the retries and retries only
 * what the error calls retryable), stopping a margin before the time limit; returns a
 * receipt summary (the receipt itself is at the destination).
 */
export function makeWorkerLambda(deps: () => Promise<RunDeps>, bucket: () => WorkBucket = workBucketFromEnv) {
  return lambda('worker', WorkerEventSchema.required({ v: true }), deps, ({ task }, d, context): Promise<WorkerReceipt> =>
    withLogFields({ runId: task.runId, export: task.exportName, chunk: task.taskIndex }, async () => {
      const r = await runTask(task, d, { attempts: 1, remainingMs: context?.getRemainingTimeInMillis(), notes: bucket().notes });
      return { v: 1 as const, runId: task.runId, taskIndex: task.taskIndex, rows: r.rows, parts: r.parts.length, bytes: r.parts.reduce((n, p) => n + p.sizeBytes, 0) };
    }),
  );
}

export const handler = makeWorkerLambda(() => depsFromEnvironment('worker'));
