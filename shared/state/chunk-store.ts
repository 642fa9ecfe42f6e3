import { RivetError } from '../errors/rivet-error.js';

/**
 * Chunk checkpoints of `mode: chunked` with `chunk_checkpoint: true` (docs/reference/state.md–3.6):
 * one run row per checkpointed run and one task row per chunk, so a crashed or failed run
 * can be resumed under the same run id. The destination (receipts, parts) stays the record
 * of what was written; these rows record what was attempted.
 */
export type ChunkRunStatus = 'in_progress' | 'completed';
export type ChunkTaskStatus = 'pending' | 'running' | 'completed' | 'failed';

export interface ChunkRunRow {
  runId: string;
  exportName: string;
  /** 16-hex fingerprint of the chunk plan; a resume refuses when the config no longer matches it. */
  planHash: string;
  status: ChunkRunStatus;
  maxChunkAttempts: number;
  /** The run's resolved destination root, so a resume finds its plan without re-expanding placeholders. */
  prefix: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ChunkTaskRow {
  runId: string;
  chunkIndex: number;
  /** Inclusive bounds as text: integers, dates (`chunk_by_days`), ordinals (`chunk_dense`), or `NULL` for the null-key chunk. */
  startKey: string;
  endKey: string;
  status: ChunkTaskStatus;
  attempts: number;
  lastError: string | null;
  rowsWritten: number | null;
  fileName: string | null;
  updatedAt: string;
}

export interface NewChunkRun {
  runId: string;
  exportName: string;
  planHash: string;
  maxChunkAttempts: number;
  prefix: string;
  chunks: { startKey: string; endKey: string }[];
}

/** A task taken by `claimChunkTask`: it is now `running` under this worker, attempt `attempts`. */
export interface ClaimedChunk {
  chunkIndex: number;
  startKey: string;
  endKey: string;
  attempts: number;
}

/** The refusal every backend gives when an export already has an in_progress run (one at a time per export). */
export function chunkRunInProgressError(exportName: string, runId: string): RivetError {
  return new RivetError('STATE', `export '${exportName}' already has chunk run ${runId} in progress`, {
    hint: `another process started it; finish it with \`rivet run -c <config> -e ${exportName} --resume\`, or discard it with \`rivet state reset-chunks -c <config> -e ${exportName}\``,
  });
}

export interface ChunkStore {
  /**
   * Insert the run (in_progress) and one pending task per chunk, atomically; refuses
   * (chunkRunInProgressError) when the export already has an in_progress run.
   */
  createChunkRun(run: NewChunkRun): Promise<void>;
  /** The newest in_progress run of an export, if any. */
  inProgressChunkRun(exportName: string): Promise<ChunkRunRow | null>;
  /** The most recently updated run of an export (any status), for `state chunks`. */
  latestChunkRun(exportName: string): Promise<ChunkRunRow | null>;
  /** Exports that have an in_progress run. */
  inProgressChunkExports(): Promise<string[]>;
  chunkTasks(runId: string): Promise<ChunkTaskRow[]>;
  /** pending|failed|running → running, attempts + 1; returns the new attempt count. */
  startChunkTask(runId: string, chunkIndex: number): Promise<number>;
  /**
   * The spec's atomic claim: the lowest-index task of an in_progress run that is pending, or
   * failed with attempts left, becomes running with attempts + 1. Null when none is left.
   * Two workers claiming at once never get the same task.
   */
  claimChunkTask(runId: string): Promise<ClaimedChunk | null>;
  completeChunkTask(runId: string, chunkIndex: number, result: { rows: number; fileName: string | null }): Promise<void>;
  failChunkTask(runId: string, chunkIndex: number, error: string): Promise<void>;
  /** Back to pending for a rewrite; `reason` is kept in last_error so `state chunks` says why. */
  resetChunkTask(runId: string, chunkIndex: number, reason: string | null): Promise<void>;
  /** Tasks left `running` by a process that died → pending; returns how many. */
  resetRunningChunkTasks(runId: string): Promise<number>;
  completeChunkRun(runId: string): Promise<void>;
  /** Delete every run (any status) of the export and its tasks; returns the number of runs deleted. */
  deleteChunkRuns(exportName: string): Promise<number>;
}
