/**
 * How a retry loop should treat a source error (docs/modes.md). Each engine's classifier
 * (`<engine>-errors.ts`) maps its driver's errors onto these.
 */
export interface ErrorClass {
  transient: boolean;
  /** Open a new connection before retrying. */
  reconnect: boolean;
  /** Added to the exponential backoff. */
  extraDelayMs: number;
}

export const PERMANENT: ErrorClass = { transient: false, reconnect: false, extraDelayMs: 0 };
export const RECONNECT: ErrorClass = { transient: true, reconnect: true, extraDelayMs: 0 };
export const RECONNECT_LATER: ErrorClass = { transient: true, reconnect: true, extraDelayMs: 15_000 };
export const SAME_CONNECTION: ErrorClass = { transient: true, reconnect: false, extraDelayMs: 0 };
export const AFTER_1S: ErrorClass = { transient: true, reconnect: false, extraDelayMs: 1_000 };
