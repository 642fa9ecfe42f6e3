import { plan } from '../shared/run/plan.js';
import { planKey, resumePlanKey } from '../shared/run/layout.js';
import { resumePlan } from '../shared/run/resume-plan.js';
import type { RunDeps } from '../shared/run/run-deps.js';
import type { ChunkTask, RunHeader } from '../shared/run/run-plan.js';
import { RivetError } from '../shared/errors/rivet-error.js';
import { INLINE_TASK_LIMIT, PlannerEventSchema, type PlannerEvent, type PlannerResult } from './events.js';
import { handlerError, makeHandler, parseEvent, type HandlerContext } from './handler-kit.js';
import { depsFromEnvironment } from './environment-deps.js';
import { createJsonLogger, withLogFields } from './json-logger.js';
import { workBucketFromEnv, type WorkBucket } from './work-bucket.js';

export interface InProcessPlannerResult {
  header: RunHeader;
  /** Where the full task list is stored at the destination (null for streaming destinations). */
  planKey: string | null;
  /** The tasks themselves when there are few enough to pass inline. */
  tasks: ChunkTask[] | null;
}

/** Plan (or, with `resume`, adopt) one run: the header every task and the finalizer share, and the tasks to do. */
export async function planRun(event: PlannerEvent, d: RunDeps): Promise<{ header: RunHeader; tasks: ChunkTask[]; storedAt: string | null }> {
  // `requestedAt` fixes the run id (and `{date}`), so two starts of the same slot collide on the plan file.
  const deps: RunDeps = event.requestedAt ? { ...d, now: () => new Date(event.requestedAt!) } : d;
  if (event.resume) {
    // The header is the adopted run's (taskCount counts every chunk, so the finalizer reads all
    // receipts); only the tasks still to do are handed out.
    const { plan: adopted, todo } = await resumePlan({ exportName: event.export, params: event.params, force: event.force }, deps);
    const { tasks: _all, planVersion: _rv, ...header } = adopted;
    return { header, tasks: todo, storedAt: todo.length ? resumePlanKey(adopted.runId) : null };
  }
  const p = await plan({ exportName: event.export, params: event.params }, deps);
  const { tasks, planVersion: _v, ...header } = p;
  return { header, tasks, storedAt: tasks.length ? planKey(p.runId) : null };
}

/** In-process planner (the CLI's local driver): tasks inline when few, else the key of the stored plan. */
export function makePlannerHandler(deps: () => Promise<RunDeps>) {
  return makeHandler(PlannerEventSchema, deps, async (event, d): Promise<InProcessPlannerResult> => {
    const { header, tasks, storedAt } = await planRun(event, d);
    return { header, planKey: storedAt, tasks: tasks.length <= INLINE_TASK_LIMIT ? tasks : null };
  });
}

const LambdaPlannerEventSchema = PlannerEventSchema.required({ v: true });

/**
 * Planner Lambda: plan the run, write the task list to the work bucket (the Map reads it
 * with ItemReader; Step Functions state is capped at 256 KB) and return only its key.
 */
export function makePlannerLambda(deps: () => Promise<RunDeps>, bucket: () => WorkBucket = workBucketFromEnv) {
  let built: Promise<RunDeps> | null = null;
  const coldLog = createJsonLogger({ fn: 'planner' });
  return async (event: unknown, context?: HandlerContext): Promise<PlannerResult> =>
    withLogFields({ requestId: context?.awsRequestId }, async () => {
      let d: RunDeps | undefined;
      try {
        const e = parseEvent(LambdaPlannerEventSchema, event);
        built ??= deps();
        d = await built;
        const exp = await d.resolveExport(e.export, e.params);
        if (exp.destination.kind === 'local' || exp.destination.kind === 'stdout') {
          throw new RivetError('CONFIG_INVALID', `export '${e.export}' writes to ${exp.destination.kind}, which a Lambda cannot deliver`, {
            hint: 'on AWS, give the export an s3 (or gcs/azure) destination',
          });
        }
        const { header, tasks } = await planRun(e, d);
        return await withLogFields({ runId: header.runId, export: header.exportName }, async () => {
          const key = await bucket().putTaskList(header.runId, tasks);
          d!.log.info(`planned ${tasks.length} task(s), task list at s3://${bucket().name}/${key}`);
          return { v: 1 as const, header, taskList: { bucket: bucket().name, key, count: tasks.length } };
        });
      } catch (err) {
        throw handlerError(err, d?.log ?? coldLog);
      }
    });
}

export const handler = makePlannerLambda(() => depsFromEnvironment('planner'));
