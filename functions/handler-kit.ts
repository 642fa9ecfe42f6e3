import type { z } from 'zod';
import { RivetError } from '../shared/errors/rivet-error.js';
import type { Logger } from '../shared/log/logger.js';
import type { Failure } from '../shared/run/run-plan.js';
import type { RunDeps } from '../shared/run/run-deps.js';
import { failureOf } from '../shared/run/run-not-started.js';

/**
 * Wraps a phase as a handler: parse the event with zod (a malformed event is a clear
 * USAGE error, not a TypeError deep inside), build deps once per process, call the phase.
 */
export function makeHandler<S extends z.ZodTypeAny, R>(
  schema: S,
  deps: () => Promise<RunDeps>,
  phase: (event: z.infer<S>, deps: RunDeps) => Promise<R>,
): (event: unknown) => Promise<R> {
  let built: Promise<RunDeps> | null = null;
  return async (event) => {
    const parsed = parseEvent(schema, event);
    built ??= deps();
    return phase(parsed, await built);
  };
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

/** The part of the Lambda context the handlers use (the local runner in tests provides the same). */
export interface HandlerContext {
  getRemainingTimeInMillis(): number;
  awsRequestId?: string;
}

/** Error name for a failure Step Functions should retry (`Retry: ErrorEquals`). */
export const RETRYABLE = 'Rivet.Retryable';

/**
 * What a handler throws to Step Functions: the `name` becomes the Error of the task
 * (`Rivet.<CODE>` or `Rivet.Retryable`), the message its Cause — redacted, with the hint on
 * a second line, no stack frames.
 */
export class HandlerError extends Error {
  constructor(
    readonly failure: Failure,
    retryable: boolean,
  ) {
    super(failure.hint ? `${failure.message}\nhint: ${failure.hint}` : failure.message);
    this.name = retryable ? RETRYABLE : `Rivet.${failure.code}`;
    // Lambda puts the stack in the error payload; ours would only show bundle offsets.
    this.stack = `${this.name}: ${this.message}`;
  }
}

export function toFailure(e: unknown): Failure {
  if (e instanceof HandlerError) return e.failure;
  return failureOf(e);
}

/** Turn whatever a phase threw into a HandlerError, logging it once. */
export function handlerError(e: unknown, log: Logger | undefined, retryable = false): HandlerError {
  if (e instanceof HandlerError) return e;
  const failure = toFailure(e);
  const err = new HandlerError(failure, retryable);
  (log ?? console).error?.(`${err.name}: ${failure.message}`);
  return err;
}
