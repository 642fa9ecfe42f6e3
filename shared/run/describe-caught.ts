import { RETRYABLE_ERROR } from '../errors/rivet-error.js';
import { redact } from '../log/redact.js';
import type { CaughtError } from './messages.js';
import type { Failure } from './run-plan.js';
import type { TaskNotes } from './task-notes.js';

/**
 * A Step Functions Catch's `{Error, Cause}` as a Failure. A Lambda error's Cause is the
 * function's error payload (JSON); a Distributed Map reports only that its failure threshold
 * was exceeded, so the notes the failed tasks left supply the real reason.
 */
export async function describeCaught(caught: CaughtError, runId: string | null, notes: TaskNotes | null): Promise<Failure> {
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
  const code = caught.Error.startsWith('Rivet.') && caught.Error !== RETRYABLE_ERROR ? caught.Error.slice(6) : 'EXPORT_FAILED';
  if (!caught.Error.startsWith('Rivet.') && runId && notes) {
    const noted = await notedFailure(runId, notes, ` [${caught.Error}]`);
    if (noted) return noted;
    message = `${caught.Error}${message ? `: ${message}` : ''}`;
  }
  return { code, message: redact(message || caught.Error), ...(hint ? { hint: redact(hint) } : {}) };
}

/**
 * The failure the run's tasks noted, if any is left: a note is removed when a retry of its
 * task succeeds, so one still there at finalize time is a task that failed for good.
 */
export async function notedFailure(runId: string, notes: TaskNotes, suffix = ''): Promise<Failure | null> {
  const noted = await notes.list(runId).catch(() => []);
  if (!noted.length) return null;
  const first = noted[0];
  return {
    code: first.failure.code,
    message: redact(`task ${first.taskIndex} failed: ${first.failure.message}${noted.length > 1 ? ` (and ${noted.length - 1} other task(s))` : ''}${suffix}`),
    ...(first.failure.hint ? { hint: first.failure.hint } : {}),
  };
}
