import { z } from 'zod';
import { BoundaryTaskSchema, CursorWindowSchema } from './cursor-window.js';

/**
 * The small JSON documents that travel between the three phases (and, on AWS, between
 * Lambdas through Step Functions). None of them carries a credential: workers resolve
 * connections from the config themselves.
 */

export const ModeSchema = z.enum(['full', 'incremental', 'chunked', 'time_window']);
export type Mode = z.infer<typeof ModeSchema>;

const ParamsSchema = z.record(z.string(), z.string());

/** What identifies a run and where it writes; shared by every task and the finalizer. */
export const RunHeaderSchema = z.object({
  runId: z.string().min(1),
  exportName: z.string().min(1),
  params: ParamsSchema.default({}),
  mode: ModeSchema,
  format: z.enum(['parquet', 'csv']),
  compression: z.enum(['zstd', 'snappy', 'gzip', 'lz4', 'none']),
  /** Destination root with placeholders expanded at plan time (a run spanning midnight stays in one prefix). */
  prefix: z.string(),
  startedAt: z.string(),
  taskCount: z.number().int().nonnegative(),
  /** Schema fingerprint the planner saw (`xxh3:…`). */
  schemaFingerprint: z.string(),
  /** Incremental runs: the cursor window the planner fixed, committed by the finalizer after _SUCCESS. */
  cursor: CursorWindowSchema.nullable().optional(),
  /** Tasks run at once (`parallel` of a chunked export); absent = 1. Drivers size their pool (or Map concurrency) from it. */
  parallel: z.number().int().positive().optional(),
  /** The run lease taken by the planner (run-lease.ts): the finalizer checks it before committing and gives it back. */
  leaseToken: z.string().optional(),
  /**
   * A partitioned export planned as a whole (the planner Lambda): the child runs this header
   * stands for. It is no run of its own — it has no prefix and no lease; the finalizer
   * finishes each child (partitioned-run.ts).
   */
  children: z.array(z.lazy(() => ChildRunSchema)).optional(),
});
export type RunHeader = z.infer<typeof RunHeaderSchema>;

/**
 * One child of a partitioned run: where its run plan is, from which the finalizer reads the
 * child's own header (a header per child would not fit in Step Functions' 256 KB state once
 * a daily partition spans a few years); or why it could not be planned.
 */
export const ChildRunSchema = z.object({
  exportName: z.string().min(1),
  /** The child's resolved root and its plan document (`plan.json`, or `resume-plan.json` on resume) under it. */
  prefix: z.string().optional(),
  plan: z.string().optional(),
  /** Set when the child's planning failed: nothing was written for it, as under `rivet run`. */
  failure: z.lazy(() => FailureSchema).optional(),
});
export type ChildRun = z.infer<typeof ChildRunSchema>;

/** One unit of work: one query → at most one part. Same task, same key: safe to repeat. */
export const ChunkTaskSchema = z.object({
  runId: z.string().min(1),
  exportName: z.string().min(1),
  params: ParamsSchema.default({}),
  prefix: z.string(),
  taskIndex: z.number().int().nonnegative(),
  partNumber: z.number().int().positive(),
  sql: z.string().min(1),
  /** Roll to a new part once this many bytes are written (`max_file_size`); single-task plans only. */
  maxFileSize: z.number().int().positive().optional(),
  /** Human label for progress and logs, e.g. `id 1..50000`. */
  label: z.string().optional(),
  /** Incremental tasks: rows an earlier run exported at the boundary are dropped (cursor-boundary.ts). */
  boundary: BoundaryTaskSchema.optional(),
  /** The run's lease token: each task renews the lease as it starts (the heartbeat of a run with no long-lived process). */
  leaseToken: z.string().optional(),
});
export type ChunkTask = z.infer<typeof ChunkTaskSchema>;

export const RunPlanSchema = RunHeaderSchema.extend({
  planVersion: z.literal(1),
  tasks: z.array(ChunkTaskSchema),
});
export type RunPlan = z.infer<typeof RunPlanSchema>;

export const ColumnSchema = z.object({ name: z.string(), type: z.string() });

/** One published data part. */
export const ReceiptPartSchema = z.object({
  partNumber: z.number().int().positive(),
  /** Key relative to the prefix. */
  path: z.string(),
  rows: z.number().int().nonnegative(),
  sizeBytes: z.number().int().nonnegative(),
  contentFingerprint: z.string(),
  contentMd5: z.string(),
});
export type ReceiptPart = z.infer<typeof ReceiptPartSchema>;

/**
 * Written by a worker after its parts are published; the finalizer trusts only these.
 * A task that produced no rows has no parts (no file is written) but still a receipt.
 */
export const ReceiptSchema = z.object({
  runId: z.string(),
  exportName: z.string(),
  taskIndex: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative(),
  /** Failed attempts before this one succeeded. */
  retries: z.number().int().nonnegative().default(0),
  parts: z.array(ReceiptPartSchema),
  schemaFingerprint: z.string(),
  columns: z.array(ColumnSchema),
  startedAt: z.string(),
  finishedAt: z.string(),
  /** Incremental tasks: the identities of the next cursor boundary (16 bytes each, sorted), base64. */
  boundaryIds: z.string().optional(),
  /** The `quality:` verdicts on this task's rows (single-task modes; chunked runs check their total in finalize). */
  qualityIssues: z.array(z.object({ severity: z.enum(['fail', 'warn']), message: z.string() })).optional(),
  /** Longest value in bytes per text/binary column, for shape drift. */
  textMax: z.record(z.string(), z.number().int().nonnegative()).optional(),
});
export type Receipt = z.infer<typeof ReceiptSchema>;

export const FailureSchema = z.object({ code: z.string(), message: z.string(), hint: z.string().optional() });
export type Failure = z.infer<typeof FailureSchema>;

export const RunStatusSchema = z.enum(['success', 'failed', 'skipped']);
export type RunStatus = z.infer<typeof RunStatusSchema>;

/** What a finished run reports (finalizer result, CLI summary, aggregate entry). */
export const RunResultSchema = z.object({
  runId: z.string(),
  exportName: z.string(),
  mode: ModeSchema,
  status: RunStatusSchema,
  rows: z.number().int().nonnegative(),
  files: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  durationMs: z.number().int().nonnegative(),
  /** Peak RSS of the process that finalized the run (MiB). */
  peakRssMb: z.number().int().nonnegative().default(0),
  destination: z.string(),
  /** The run's resolved root (local path or object prefix), so post-run checks can reopen it. */
  prefix: z.string().optional(),
  manifestKey: z.string().nullable(),
  error: FailureSchema.optional(),
  skipReason: z.string().optional(),
  /** `quality:` issues of the run (warnings, and the failures that failed it). */
  qualityIssues: z.array(z.object({ severity: z.enum(['fail', 'warn']), message: z.string() })).optional(),
  /** Whether the columns differ from the export's previous run; absent when not judged (no rows, or a failure first). */
  schemaChanged: z.boolean().optional(),
});
export type RunResult = z.infer<typeof RunResultSchema>;
