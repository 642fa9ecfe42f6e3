import { RivetError, errorChain } from '../errors/rivet-error.js';
import { redact } from '../log/redact.js';
import type { Failure, RunResult } from './run-plan.js';

/** The result of a run that ended before it was planned: no run id, nothing written. */
export function runNotStarted(exportName: string, mode: RunResult['mode'], error: Failure | undefined, durationMs = 0): RunResult {
  return {
    runId: '',
    exportName,
    mode,
    status: 'failed',
    rows: 0,
    files: 0,
    bytes: 0,
    durationMs,
    peakRssMb: 0,
    destination: '',
    manifestKey: null,
    ...(error ? { error } : {}),
  };
}

/** Whatever was thrown, as a redacted Failure (RivetErrors keep their code and hint). */
export function failureOf(e: unknown, fallbackCode = 'INTERNAL'): Failure {
  if (e instanceof RivetError) return { code: e.code, message: redact(e.message), ...(e.hint ? { hint: redact(e.hint) } : {}) };
  return { code: fallbackCode, message: redact(errorChain(e)) };
}
