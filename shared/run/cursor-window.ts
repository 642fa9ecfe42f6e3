import { z } from 'zod';

/**
 * The slice of an incremental export one run covers: rows whose cursor is above `from`
 * (exclusive; null = no lower bound, the first run) and at most `to` (inclusive). `to` is
 * fixed at plan time, so rows that arrive while the run streams are left for the next run
 * instead of being skipped, and it is what the finalizer commits as the new cursor.
 * Both bounds are the source's own text rendering of the value (e.g. PostgreSQL `::text`).
 */
/**
 * How a run keeps the rows at the edge of its window from being lost or exported twice
 * (cursor-boundary.ts). Present on every run that reads with boundary tracking.
 */
export const WindowBoundarySchema = z.object({
  /** Inclusive lower bound this run read from (the stored boundary's `since`); null = `> from` (first or legacy run). */
  since: z.string().nullable(),
  /** The `since` this run leaves for the next one: `to` minus the look-back, never below `since`. */
  next: z.string(),
  /** The run whose boundary (identities, manifest) this run builds on; null = none. */
  baseRunId: z.string().nullable(),
  /** `key:<json array of columns>` or `row`. */
  identity: z.string(),
});
export type WindowBoundary = z.infer<typeof WindowBoundarySchema>;

export const CursorWindowSchema = z.object({
  /** The cursor column, or `coalesce(<column>, <fallback>)`, for logs, manifests and skip reasons. */
  column: z.string(),
  from: z.string().nullable(),
  /** Null when no row has a non-NULL cursor yet: nothing is committed, the next run starts over. */
  to: z.string().nullable(),
  boundary: WindowBoundarySchema.optional(),
});
export type CursorWindow = z.infer<typeof CursorWindowSchema>;

/** What the worker of an incremental task needs to drop rows exported before and collect the next boundary. */
export const BoundaryTaskSchema = z.object({
  /** The run whose stored identities are filtered out; null = nothing to filter. */
  baseRunId: z.string().nullable(),
  /** The stored cursor the plan was made from, to check that the stored boundary still belongs to it. */
  from: z.string().nullable(),
  identity: z.string(),
});
export type BoundaryTask = z.infer<typeof BoundaryTaskSchema>;
