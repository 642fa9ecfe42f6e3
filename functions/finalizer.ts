import { finalize } from '../shared/run/finalize.js';
import { redact } from '../shared/log/redact.js';
import type { RunDeps } from '../shared/run/run-deps.js';
import type { Failure, RunResult } from '../shared/run/run-plan.js';
import { FinalizerEventSchema, FinalizerLambdaEventSchema, PlannerEventSchema, type CaughtError, type FinalizerResult } from './events.js';
import { handlerError, makeHandler, parseEvent, type HandlerContext } from './handler-kit.js';
import { depsFromEnvironment } from './environment-deps.js';
import { createJsonLogger, withLogFields } from './json-logger.js';
import { workBucketFromEnv, type WorkBucket } from './work-bucket.js';
import { recordUnplannedFailure } from '../shared/run/fail-unplanned.js';

/** In-process finalizer: manifest.json then _SUCCESS (or the failed run set aside), then state. */
export function makeFinalizerHandler(deps: () => Promise<RunDeps>) {
  return makeHandler(FinalizerEventSchema, deps, (event, d) => finalize(event, d));
}

/**
 * Finalizer Lambda. The manifest comes from the receipts at the destination (finalize()),
 * never from the Map's output. Called with `error` (a Catch), it records the run as failed:
 * its manifest and parts set aside under _rivet/runs/<run_id>/, the prefix's dataset and
 * `_SUCCESS` untouched, the run lease given back. When the planner itself failed there is
 * no header (and no lease: the planner gives it back itself).
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

/** The planner failed: the request names the export (shared/run/fail-unplanned.ts decides what is recorded). */
async function failUnplanned(request: unknown, failure: Failure, d: RunDeps): Promise<RunResult> {
  const parsed = PlannerEventSchema.safeParse(request);
  const req = parsed.success ? { export: parsed.data.export, params: parsed.data.params, ...(parsed.data.requestedAt ? { requestedAt: parsed.data.requestedAt } : {}) } : null;
  return withLogFields({ export: req?.export }, () => recordUnplannedFailure(req, failure, d));
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
