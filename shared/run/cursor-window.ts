import { z } from 'zod';

/**
 * The slice of an incremental export one run covers: rows whose cursor is above `from`
 * (exclusive; null = no lower bound, the first run) and at most `to` (inclusive). `to` is
 * fixed at plan time, so rows that arrive while the run streams are left for the next run
 * instead of being skipped, and it is what the finalizer commits as the new cursor.
 * Both bounds are the source's own text rendering of the value (e.g. PostgreSQL `::text`).
 */
export const CursorWindowSchema = z.object({
  /** The cursor column, or `coalesce(<column>, <fallback>)`, for logs, manifests and skip reasons. */
  column: z.string(),
  from: z.string().nullable(),
  /** Null when no row has a non-NULL cursor yet: nothing is committed, the next run starts over. */
  to: z.string().nullable(),
});
export type CursorWindow = z.infer<typeof CursorWindowSchema>;
