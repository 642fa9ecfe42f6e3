import { plan } from '../shared/run/plan.js';
import { planKey, resumePlanKey } from '../shared/run/layout.js';
import { resumePlan } from '../shared/run/resume-plan.js';
import type { RunDeps } from '../shared/run/run-deps.js';
import type { ChunkTask, RunHeader } from '../shared/run/run-plan.js';
import { INLINE_TASK_LIMIT, PlannerEventSchema } from './events.js';
import { makeHandler } from './handler-kit.js';
import { depsFromEnvironment } from './environment-deps.js';

export interface PlannerResult {
  header: RunHeader;
  /** Where the full task list is stored at the destination (null for streaming destinations). */
  planKey: string | null;
  /** The tasks themselves when there are few enough to pass inline. */
  tasks: ChunkTask[] | null;
}

/** Planner Lambda: plan one export run. */
export function makePlannerHandler(deps: () => Promise<RunDeps>) {
  return makeHandler(PlannerEventSchema, deps, async (event, d): Promise<PlannerResult> => {
    if (event.resume) {
      // The header is the adopted run's (taskCount counts every chunk, so the finalizer reads all
      // receipts); only the tasks still to do are handed out.
      const { plan: adopted, todo } = await resumePlan({ exportName: event.export, params: event.params, force: event.force }, d);
      const { tasks: _all, planVersion: _rv, ...resumedHeader } = adopted;
      return {
        header: resumedHeader,
        planKey: todo.length ? resumePlanKey(adopted.runId) : null,
        tasks: todo.length <= INLINE_TASK_LIMIT ? todo : null,
      };
    }
    const p = await plan({ exportName: event.export, params: event.params }, d);
    const { tasks, planVersion: _v, ...header } = p;
    return {
      header,
      planKey: tasks.length ? planKey(p.runId) : null,
      tasks: tasks.length <= INLINE_TASK_LIMIT ? tasks : null,
    };
  });
}

export const handler = makePlannerHandler(depsFromEnvironment);
