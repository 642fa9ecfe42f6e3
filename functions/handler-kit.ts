import type { z } from 'zod';
import { RETRYABLE_ERROR, RivetError, isRetryable } from '../shared/errors/rivet-error.js';
import type { Logger } from '../shared/log/logger.js';
import type { Failure } from '../shared/run/run-plan.js';
import type { RunDeps } from '../shared/run/run-deps.js';
import { failureOf } from '../shared/run/run-not-started.js';
import { createJsonLogger, withLogFields } from './json-logger.js';
import type { HandlerRole } from './environment-deps.js';

/** The part of the Lambda context the handlers use (tests provide the same). */
export interface HandlerContext {
  getRemainingTimeInMillis(): number;
  awsRequestId?: string;
}

export function parseEvent<S extends z.ZodTypeAny>(schema: S, event: unknown): z.infer<S> {
  const parsed = schema.safeParse(event);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RivetError('USAGE', `malformed event: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`, {
      hint: 'the state machine and the functions come from different builds, or the execution input is not {"v": 1, "export": "<name>"}',
    });
  }
  return parsed.data;
}

/**
 * A Lambda handler around one shared/run phase: parse the event with zod (a malformed event
 * is a clear USAGE error, not a TypeError deep inside), build deps once per container, run
 * the phase with the invocation's log fields, and turn whatever it throws into a HandlerError.
 */
export function lambda<S extends z.ZodTypeAny, R>(
  role: HandlerRole,
  schema: S,
  deps: () => Promise<RunDeps>,
  phase: (event: z.infer<S>, deps: RunDeps, context?: HandlerContext) => Promise<R>,
): (event: unknown, context?: HandlerContext) => Promise<R> {
  let built: Promise<RunDeps> | null = null;
  const coldLog = createJsonLogger({ fn: role });
  return (event, context) =>
    withLogFields({ requestId: context?.awsRequestId }, async () => {
      let d: RunDeps | undefined;
      try {
        const parsed = parseEvent(schema, event);
        built ??= deps();
        d = await built;
        return await phase(parsed, d, context);
      } catch (err) {
        throw handlerError(err, d?.log ?? coldLog);
      }
    });
}

/**
 * What a handler throws to Step Functions: the `name` becomes the Error of the task
 * (`Rivet.<CODE>`, or RETRYABLE_ERROR when the error says it may run again), the message
 * its Cause — redacted, with the hint on a second line, no stack frames.
 */
export class HandlerError extends Error {
  constructor(
    readonly failure: Failure,
    retryable: boolean,
  ) {
    super(failure.hint ? `${failure.message}\nhint: ${failure.hint}` : failure.message);
    this.name = retryable ? RETRYABLE_ERROR : `Rivet.${failure.code}`;
    // Lambda puts the stack in the error payload; ours would only show bundle offsets.
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** Turn whatever a phase threw into a HandlerError, logging it once. */
export function handlerError(e: unknown, log: Logger | undefined): HandlerError {
  if (e instanceof HandlerError) return e;
  const err = new HandlerError(failureOf(e), isRetryable(e));
  (log ?? console).error?.(`${err.name}: ${err.failure.message}`);
  return err;
}
