/**
 * Every error a user can see is a RivetError: a stable code, the process exit status it
 * leads to, and a hint that says what to do next. Anything else reaching the CLI is a bug
 * and is reported as INTERNAL (still without a stack trace unless RIVET_DEBUG is set).
 */

/** Exit statuses (the reference tool's documented contract). */
export const EXIT_OK = 0;
export const EXIT_EXPORT_FAILED = 1;
export const EXIT_CONFIG = 2;

export type ErrorCode =
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_INVALID'
  | 'USAGE'
  | 'NOT_SUPPORTED_YET'
  | 'SOURCE_CONNECT'
  | 'SOURCE_QUERY'
  | 'SOURCE_TABLE_NOT_FOUND'
  | 'TYPE_UNSUPPORTED'
  | 'VALUE_TOO_LARGE'
  | 'FORMAT'
  | 'DESTINATION'
  | 'STATE'
  | 'EXPORT_FAILED'
  | 'RUN_IN_PROGRESS'
  | 'RUN_LEASE_LOST'
  | 'QUALITY'
  | 'SCHEMA_DRIFT'
  | 'CONTENT_MISMATCH'
  | 'BATCH_MEMORY_EXCEEDED'
  | 'INTERNAL';

const CONFIG_CODES: ReadonlySet<ErrorCode> = new Set(['CONFIG_NOT_FOUND', 'CONFIG_INVALID', 'USAGE', 'NOT_SUPPORTED_YET']);

export interface RivetErrorOptions {
  hint?: string;
  exitCode?: number;
  cause?: unknown;
  /** Running the same work again may succeed and cannot duplicate what was written (see `retryable`). */
  retryable?: boolean;
}

/**
 * The error name a driver retries on (Step Functions `Retry.ErrorEquals`): a failure whose
 * `retryable` is true. Every other failure is `Rivet.<CODE>` and final.
 */
export const RETRYABLE_ERROR = 'Rivet.Retryable';

export class RivetError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly hint?: string;
  /**
   * True when the failed unit of work may simply run again: a transient source error, or a
   * task stopped before its deadline, with nothing of it published. False (the default) for
   * everything else — notably a task that already published a part, whose key is create-only.
   */
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: RivetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RivetError';
    this.code = code;
    this.hint = options.hint;
    this.retryable = options.retryable ?? false;
    this.exitCode = options.exitCode ?? (CONFIG_CODES.has(code) ? EXIT_CONFIG : EXIT_EXPORT_FAILED);
  }

  /** Plain-data form for Lambda results, receipts and summaries (message already redacted by the caller). */
  toJSON(): { code: ErrorCode; message: string; hint?: string } {
    return { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) };
  }
}

export function configError(message: string, hint?: string, cause?: unknown): RivetError {
  return new RivetError('CONFIG_INVALID', message, { hint, cause });
}

export function notSupportedYet(what: string, hint?: string): RivetError {
  return new RivetError('NOT_SUPPORTED_YET', `${what} is not supported yet in this version of rivet`, {
    hint: hint ?? 'remove the key or pick a supported value; see docs/reference/config.md for what works today',
  });
}

/** The same error, with `retryable` as given (the class of a subclass is not kept: only its data travels). */
export function withRetryable(e: RivetError, retryable: boolean): RivetError {
  if (e.retryable === retryable) return e;
  return new RivetError(e.code, e.message, { hint: e.hint, exitCode: e.exitCode, cause: e.cause, retryable });
}

/** Whether a thrown value says its work may run again (only a RivetError can say so). */
export function isRetryable(e: unknown): boolean {
  return e instanceof RivetError && e.retryable;
}

export function isRivetError(e: unknown): e is RivetError {
  return e instanceof RivetError;
}

/** The message of any thrown value, following `cause` chains the way the reference joins them (": "). */
export function errorChain(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  const seen = new Set<unknown>();
  while (cur !== undefined && cur !== null && !seen.has(cur)) {
    seen.add(cur);
    const msg = cur instanceof Error ? cur.message : String(cur);
    if (msg && !parts.some((p) => p.includes(msg))) parts.push(msg);
    cur = cur instanceof Error ? (cur as Error & { cause?: unknown }).cause : undefined;
  }
  return parts.join(': ');
}
