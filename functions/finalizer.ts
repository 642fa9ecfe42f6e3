import { finalize } from '../shared/run/finalize.js';
import { expandTarget, targetFromRoot, targetRoot } from '../shared/run/plan.js';
import { planKey } from '../shared/run/layout.js';
import { makeRunId } from '../shared/run/run-id.js';
import { utcDate } from '../shared/config/placeholders.js';
import { redact } from '../shared/log/redact.js';
import type { RunDeps } from '../shared/run/run-deps.js';
import type { Failure, RunHeader, RunResult } from '../shared/run/run-plan.js';
import { FinalizerEventSchema, FinalizerLambdaEventSchema, PlannerEventSchema, type CaughtError, type FinalizerResult } from './events.js';
import { handlerError, makeHandler, parseEvent, type HandlerContext } from './handler-kit.js';
import { depsFromEnvironment } from './environment-deps.js';
import { createJsonLogger, withLogFields } from './json-logger.js';
import { workBucketFromEnv, type WorkBucket } from './work-bucket.js';
import { runNotStarted } from '../shared/run/run-not-started.js';

/** In-process finalizer: manifest.json then _SUCCESS (or a failed manifest), then state. */
export function makeFinalizerHandler(deps: () => Promise<RunDeps>) {
  return makeHandler(FinalizerEventSchema, deps, (event, d) => finalize(event, d));
}

const NO_SCHEMA = 'xxh3:0000000000000000';

/**
 * Finalizer Lambda. The manifest comes from the receipts at the destination (finalize()),
 * never from the Map's output. Called with `error` (a Catch), it records the run as failed:
 * `_SUCCESS` removed, a failed manifest written. When the planner itself failed there is no
 * header; the failure is still recorded at the export's destination if the export resolves.
 */
export function makeFinalizerLambda(deps: () => Promise<RunDeps>, bucket: () => WorkBucket = workBucketFromEnv) {
  let built: Promise<RunDeps> | null = null;
  const coldLog = createJsonLogger({ fn: 'finalizer' });
  return async (event: unknown, context?: HandlerContext): Promise<FinalizerResult> =>
    withLogFields({ requestId: context?.awsRequestId }, async () => {
      let d: RunDeps | undefined;
      try {
        const e = parseEvent(FinalizerLambdaEventSchema, event);
        built ??= deps();
        d = await built;
        const deps1 = d;
        if (e.header) {
          const header = e.header;
          return await withLogFields({ runId: header.runId, export: header.exportName }, async () => {
            const failure = e.error ? await describeCaught(e.error, header.runId, bucket) : undefined;
            const result = await finalize({ header, failure }, deps1);
            deps1.log.info(`run ${result.status}: ${result.rows} row(s) in ${result.files} part(s)${result.error ? `; ${result.error.code}: ${result.error.message}` : ''}`);
            return { v: 1 as const, ...result };
          });
        }
        const failure = e.error ? await describeCaught(e.error, null, bucket) : { code: 'USAGE', message: 'the finalizer got neither a run header nor an error' };
        return { v: 1 as const, ...(await failUnplanned(e.request, failure, deps1)) };
      } catch (err) {
        throw handlerError(err, d?.log ?? coldLog);
      }
    });
}

/**
 * The planner failed, so no run exists yet. If the request names an export that resolves to
 * an object store, record a failed run there (the same failed manifest a failed task leads
 * to; `_SUCCESS` removed); otherwise nothing can be written and the error is all there is.
 */
async function failUnplanned(request: unknown, failure: Failure, d: RunDeps): Promise<RunResult> {
  const parsed = PlannerEventSchema.safeParse(request);
  const bare = runNotStarted(parsed.success ? parsed.data.export : '', 'full', failure);
  if (!parsed.success) return bare;
  const req = parsed.data;
  let exp;
  try {
    exp = await d.resolveExport(req.export, req.params);
  } catch (e) {
    d.log.warn(`no failed manifest for the unplanned run: ${redact((e as Error).message)}`);
    return bare;
  }
  if (exp.destination.kind === 'local' || exp.destination.kind === 'stdout') return bare;
  const at = req.requestedAt ? new Date(req.requestedAt) : d.now();
  const runId = makeRunId(exp.name, at);
  const header: RunHeader = {
    runId,
    exportName: exp.name,
    params: req.params,
    mode: exp.mode,
    format: exp.format,
    compression: exp.compression,
    prefix: targetRoot(expandTarget(exp.destination, { date: utcDate(at), exportName: exp.name, runId })),
    startedAt: at.toISOString(),
    taskCount: 0,
    schemaFingerprint: NO_SCHEMA,
  };
  // The same run started twice (a redelivered schedule, a repeated `cloud run --at`): the
  // planner refused because the first one's plan is there. That run is not ours to fail.
  const dest = await d.openDestination(targetFromRoot(exp, header.prefix));
  if (await dest.get(planKey(runId))) {
    return {
      ...bare,
      runId,
      error: { code: 'USAGE', message: `run ${runId} was already started by another execution; this one wrote nothing (${failure.code}: ${failure.message})` },
    };
  }
  return withLogFields({ runId, export: exp.name }, () => finalize({ header, failure }, d));
}

/**
 * A Catch's `{Error, Cause}` as a Failure. A Lambda error's Cause is the function's error
 * payload (JSON); a Distributed Map reports only that its failure threshold was exceeded,
 * so the notes the failed tasks left in the work bucket supply the real reason.
 */
export async function describeCaught(caught: CaughtError, runId: string | null, bucket: () => WorkBucket): Promise<Failure> {
  let message = caught.Cause ?? '';
  try {
    const payload = JSON.parse(message) as { errorMessage?: string };
    if (typeof payload.errorMessage === 'string') message = payload.errorMessage;
  } catch {
    // a plain-text cause
  }
  let hint: string | undefined;
  const at = message.indexOf('\nhint: ');
  if (at >= 0) {
    hint = message.slice(at + 7);
    message = message.slice(0, at);
  }
  const code = caught.Error.startsWith('Rivet.') && caught.Error !== 'Rivet.Retryable' ? caught.Error.slice(6) : 'EXPORT_FAILED';
  if (!caught.Error.startsWith('Rivet.') && runId) {
    const notes = await bucket()
      .taskErrors(runId)
      .catch(() => []);
    if (notes.length) {
      const first = notes[0];
      return {
        code: first.failure.code,
        message: redact(`task ${first.taskIndex} failed: ${first.failure.message}${notes.length > 1 ? ` (and ${notes.length - 1} other task(s))` : ''} [${caught.Error}]`),
        ...(first.failure.hint ? { hint: first.failure.hint } : {}),
      };
    }
    message = `${caught.Error}${message ? `: ${message}` : ''}`;
  }
  return { code, message: redact(message || caught.Error), ...(hint ? { hint: redact(hint) } : {}) };
}

export const handler = makeFinalizerLambda(() => depsFromEnvironment('finalizer'));
