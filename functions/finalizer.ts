import { FinalizerLambdaEventSchema, type FinalizerResult } from '../shared/run/messages.js';
import { finishRun } from '../shared/run/finish-run.js';
import type { RunDeps } from '../shared/run/run-deps.js';
import { depsFromEnvironment } from './environment-deps.js';
import { lambda } from './handler-kit.js';
import { withLogFields } from './json-logger.js';
import { workBucketFromEnv, type WorkBucket } from './work-bucket.js';

/**
 * Finalizer Lambda: finish the run from the receipts at the destination (never the Map's
 * output) — failed when a Catch hands over `error`, unplanned when there is no header — then
 * the post-run checks the execution input asked for.
 */
export function makeFinalizerLambda(deps: () => Promise<RunDeps>, bucket: () => WorkBucket = workBucketFromEnv) {
  return lambda('finalizer', FinalizerLambdaEventSchema, deps, (e, d): Promise<FinalizerResult> =>
    withLogFields({ runId: e.header?.runId, export: e.header?.exportName }, async () => {
      const { result, checks } = await finishRun({ header: e.header, caught: e.error, request: e.request, checks: e.checks }, d, bucket().notes);
      d.log.info(`run ${result.status}: ${result.rows} row(s) in ${result.files} part(s)${result.error ? `; ${result.error.code}: ${result.error.message}` : ''}`);
      return { v: 1 as const, ...result, ...(e.checks ? { checks } : {}) };
    }),
  );
}

export const handler = makeFinalizerLambda(() => depsFromEnvironment('finalizer'));
