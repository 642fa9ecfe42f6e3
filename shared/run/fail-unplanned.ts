import { utcDate } from '../config/placeholders.js';
import { redact } from '../log/redact.js';
import { finalize } from './finalize.js';
import { planKey } from './layout.js';
import { expandTarget, targetFromRoot, targetRoot } from './plan.js';
import { makeRunId } from './run-id.js';
import type { RunDeps } from './run-deps.js';
import { runNotStarted } from './run-not-started.js';
import type { Failure, RunHeader, RunResult } from './run-plan.js';

const NO_SCHEMA = 'xxh3:0000000000000000';

export interface UnplannedRequest {
  export: string;
  params: Record<string, string>;
  /** The scheduled time that fixed the run id, when there was one. */
  requestedAt?: string;
}

/**
 * The planner failed, so no run exists: record the failure as a run that changed nothing.
 * On an object store its failed manifest is archived under _rivet/runs/<run_id>/ (finalize's
 * failed path), so the prefix's manifest.json and `_SUCCESS` stay as they were — the same
 * outcome as a local `rivet run`, which writes nothing for a run that was never planned.
 * Nothing is recorded when the export does not resolve, for local and streaming
 * destinations (the CLI reports the error itself), when the run was refused because another
 * run holds the export, or when the same run id was already planned by another execution
 * (a redelivered schedule): those runs are not ours to fail.
 */
export async function recordUnplannedFailure(request: UnplannedRequest | null, failure: Failure, deps: RunDeps): Promise<RunResult> {
  const bare = runNotStarted(request?.export ?? '', 'full', failure);
  if (!request || failure.code === 'RUN_IN_PROGRESS') return bare;
  let exp;
  try {
    exp = await deps.resolveExport(request.export, request.params);
  } catch (e) {
    deps.log.warn(`no failed manifest for the unplanned run: ${redact((e as Error).message)}`);
    return bare;
  }
  if (exp.destination.kind === 'local' || exp.destination.kind === 'stdout') return bare;
  const at = request.requestedAt ? new Date(request.requestedAt) : deps.now();
  const runId = makeRunId(exp.name, at);
  const header: RunHeader = {
    runId,
    exportName: exp.name,
    params: request.params,
    mode: exp.mode,
    format: exp.format,
    compression: exp.compression,
    prefix: targetRoot(expandTarget(exp.destination, { date: utcDate(at), exportName: exp.name, runId })),
    startedAt: at.toISOString(),
    taskCount: 0,
    schemaFingerprint: NO_SCHEMA,
  };
  const dest = await deps.openDestination(targetFromRoot(exp, header.prefix));
  if (await dest.get(planKey(runId))) {
    return {
      ...bare,
      runId,
      error: { code: 'USAGE', message: `run ${runId} was already started by another execution; this one wrote nothing (${failure.code}: ${failure.message})` },
    };
  }
  return finalize({ header, failure }, deps);
}
