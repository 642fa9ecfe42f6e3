import { PlannerEventSchema, type PlannerResult } from '../shared/run/messages.js';
import type { RunDeps } from '../shared/run/run-deps.js';
import { startRun } from '../shared/run/start-run.js';
import { depsFromEnvironment } from './environment-deps.js';
import { lambda } from './handler-kit.js';
import { withLogFields } from './json-logger.js';
import { workBucketFromEnv, type WorkBucket } from './work-bucket.js';

/** Planner Lambda: plan the run; the task list goes to the work bucket (the Map's ItemReader), only its key comes back. */
export function makePlannerLambda(deps: () => Promise<RunDeps>, bucket: () => WorkBucket = workBucketFromEnv) {
  return lambda('planner', PlannerEventSchema.required({ v: true }), deps, async (request, d): Promise<PlannerResult> => {
    const { header, tasks, checks } = await startRun(request, d, { remote: true });
    return withLogFields({ runId: header.runId, export: header.exportName }, async () => {
      const key = await bucket().putTaskList(header.runId, tasks);
      d.log.info(`planned ${tasks.length} task(s), task list at s3://${bucket().name}/${key}`);
      return { v: 1 as const, header, taskList: { bucket: bucket().name, key, count: tasks.length }, checks };
    });
  });
}

export const handler = makePlannerLambda(() => depsFromEnvironment('planner'));
