/**
 * Where an incremental export keeps its high-water mark between runs, and the advisory
 * record of how far each export has durably got (docs/reference/state.md).
 *
 * The cursor is authoritative: the next incremental run exports rows strictly above it.
 * The progression is for operators and monitoring only; nothing reads it for decisions.
 */
export interface CursorRecord {
  exportName: string;
  /** The cursor as the source renders it in text; null never happens for a stored row today. */
  cursor: string | null;
  /** When the cursor was written (RFC 3339, UTC). */
  lastRunAt: string | null;
}

/** One side (committed or verified) of an export's progression. */
export interface ProgressionBoundary {
  strategy: string;
  /** Incremental boundary: the committed cursor. */
  cursor: string | null;
  /** Chunked boundary: the highest completed chunk index. */
  chunkIndex: number | null;
  runId: string | null;
  at: string;
}

export interface ProgressionRecord {
  exportName: string;
  committed: ProgressionBoundary | null;
  verified: ProgressionBoundary | null;
}

export interface CommittedProgression {
  exportName: string;
  strategy: 'incremental' | 'chunked';
  cursor?: string | null;
  chunkIndex?: number | null;
  runId: string;
}

/**
 * What an incremental export remembers about the rows at the edge of its cursor, so the next
 * run can re-read that edge (`cursor >= since`) without exporting any of those rows twice.
 * Stored and replaced together with the cursor (`commitBoundary`).
 */
export interface CursorBoundary {
  /** The cursor this boundary belongs to (the stored high-water mark). */
  cursor: string;
  /** Inclusive lower bound of the next run's window: the cursor minus the look-back. */
  since: string;
  /** How the identities were computed: `key:<json array of columns>` or `row`. */
  identity: string;
  /**
   * 16-byte identities (xxh128 of the cursor and key values) of the exported rows whose
   * cursor is at or above `since`, concatenated and sorted; a multiset, so identical rows
   * without a key each count.
   */
  ids: Uint8Array;
  /** The run that committed this boundary: its manifest is the dataset the next run appends to. */
  runId: string;
}

export interface CursorStore {
  /** The stored cursor, or null when the export has none (first run, or after a reset). */
  getCursor(exportName: string): Promise<string | null>;
  /** Replace the cursor. Callers only ever move it forward (the planner computed it with the source's ordering). */
  setCursor(exportName: string, value: string): Promise<void>;
  /**
   * Compare-and-set: store `next` only if the stored cursor is still `expected` (null = no
   * cursor stored). Returns false when another run moved it first, so two runs that read the
   * same cursor cannot both advance it.
   */
  advanceCursor(exportName: string, expected: string | null, next: string): Promise<boolean>;
  /** The stored boundary, or null (none committed yet, or after a reset). */
  getBoundary(exportName: string): Promise<CursorBoundary | null>;
  /**
   * Replace cursor and boundary together, only if the stored cursor is still
   * `expected.cursor` and the stored boundary's run is still `expected.runId` (null = none
   * stored). Returns false when another run changed either first.
   */
  commitBoundary(exportName: string, expected: { cursor: string | null; runId: string | null }, next: CursorBoundary): Promise<boolean>;
  /** Forget the cursor (and its boundary); returns whether a cursor was stored. */
  resetCursor(exportName: string): Promise<boolean>;
  /** Every stored cursor, ordered by export name. */
  listCursors(): Promise<CursorRecord[]>;
  /** Record the committed boundary of a run (advisory). */
  recordCommittedProgression(p: CommittedProgression): Promise<void>;
  /** Record the verified boundary (advisory): only a clean `rivet reconcile` calls it. */
  recordVerifiedProgression(p: CommittedProgression): Promise<void>;
  /** Progression rows ordered by export name; a side is null when never recorded. */
  listProgression(exportName?: string): Promise<ProgressionRecord[]>;
}
