import { RivetError } from '../errors/rivet-error.js';
import { planKey, resumePlanKey } from './layout.js';
import type { PlannerEvent, ChecksWanted } from './messages.js';
import type { ModePlanner } from './modes/mode-planner.js';
import { plan } from './plan.js';
import { startPartitionedRun } from './partitioned-run.js';
import { resumePlan } from './resume-plan.js';
import type { RunDeps } from './run-deps.js';
import type { ChunkTask, RunHeader } from './run-plan.js';

export interface StartedRun {
  /** What every task and the finalizer share. */
  header: RunHeader;
  /** The tasks to run now (on resume: only those without a receipt). */
  tasks: ChunkTask[];
  /** Where the full task list is stored at the destination (null when there is none). */
  storedAt: string | null;
  /** The post-run checks the request asked for, handed on to the finalizer. */
  checks: ChecksWanted;
}

/**
 * Phase 1 for any driver: plan a run — or, with `resume`, adopt the export's unfinished
 * checkpointed run. `requestedAt` fixes the run id (and `{date}`), so two starts of the same
 * slot collide on the plan file. `remote` refuses destinations a function cannot deliver to.
 * `modePlanner` replaces the mode's planner of a fresh run (`rivet apply`: the chunk ranges
 * its plan artifact fixed); the header is built the same way either way.
 */
export async function startRun(request: PlannerEvent, d: RunDeps, options: { remote?: boolean; modePlanner?: ModePlanner } = {}): Promise<StartedRun> {
  const exp = await d.resolveExport(request.export, request.params);
  if (options.remote && (exp.destination.kind === 'local' || exp.destination.kind === 'stdout')) {
    throw new RivetError('CONFIG_INVALID', `export '${request.export}' writes to ${exp.destination.kind}, which a Lambda cannot deliver`, {
      hint: 'on AWS, give the export an s3 (or gcs/azure) destination',
    });
  }
  const deps: RunDeps = request.requestedAt ? { ...d, now: () => new Date(request.requestedAt!) } : d;
  // A partitioned export named as a whole: its children, one per bucket, planned together.
  if (exp.partition && exp.partition.bucket === undefined) return startPartitionedRun(request, exp, deps, (child) => startRun(child, d, options));
  const checks = { validate: request.validate, reconcile: request.reconcile };
  if (request.resume) {
    // The header is the adopted run's (taskCount counts every chunk, so the finalizer reads all
    // receipts); only the tasks still to do are handed out.
    const { plan: adopted, todo } = await resumePlan({ exportName: request.export, params: request.params, force: request.force }, deps);
    const { tasks: _all, planVersion: _rv, ...header } = adopted;
    return { header, tasks: todo, storedAt: todo.length ? resumePlanKey(adopted.runId) : null, checks };
  }
  const p = await plan({ exportName: request.export, params: request.params, ...(options.modePlanner ? { modePlanner: options.modePlanner } : {}) }, deps);
  const { tasks, planVersion: _v, ...header } = p;
  return { header, tasks, storedAt: tasks.length ? planKey(p.runId) : null, checks };
}
