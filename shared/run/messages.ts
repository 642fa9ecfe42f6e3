import { z } from 'zod';
import { ChunkTaskSchema, FailureSchema, ReceiptSchema, RunHeaderSchema, RunResultSchema } from './run-plan.js';

/**
 * The JSON documents the three phases take and give back, whichever driver carries them:
 * `rivet run` passes them in-process (cli/local-driver.ts), Step Functions between the
 * Lambda adapters (functions/*.ts). Each carries `v: 1`: a Lambda deployed from one build may
 * meet a state machine (or a queued schedule) from another, and an unknown version must fail
 * loudly rather than be half-understood. In-process callers may leave `v` out; it defaults to 1.
 */
const V1 = z.literal(1).default(1);

/** Planner input: which export to run, with the `--param` values. */
export const PlannerEventSchema = z.object({
  v: V1,
  export: z.string().min(1),
  params: z.record(z.string(), z.string()).default({}),
  /** Adopt the export's unfinished checkpointed run instead of planning a new one. */
  resume: z.boolean().default(false),
  /** With `resume`: even when the prefix already holds `_SUCCESS`. */
  force: z.boolean().default(false),
  /**
   * The instant the run stands for (ISO 8601): it fixes the run id and the `{date}` of the
   * prefix. `rivet cloud run` and the scheduler set it, so a repeated start of the same slot
   * gets the same run id and is refused instead of exporting twice.
   */
  requestedAt: z.iso.datetime({ offset: true }).optional(),
  /** `--validate`: verify the committed prefix after finalize; a prefix that does not verify fails the run. */
  validate: z.boolean().default(false),
  /** `--reconcile`: compare the source's row count with the rows committed; a mismatch fails the run. */
  reconcile: z.boolean().default(false),
});
export type PlannerEvent = z.infer<typeof PlannerEventSchema>;

/** Worker input: one task (Step Functions Map item). */
export const WorkerEventSchema = z.object({ v: V1, task: ChunkTaskSchema });
export type WorkerEvent = z.infer<typeof WorkerEventSchema>;

/** The post-run checks a request asked for; they travel from the planner to the finalizer. */
export const ChecksWantedSchema = z.object({ validate: z.boolean().default(false), reconcile: z.boolean().default(false) });
export type ChecksWanted = z.infer<typeof ChecksWantedSchema>;

/** Finalizer input (in-process): the run header; `failure` when a task or the driver failed. */
export const FinalizerEventSchema = z.object({
  v: V1,
  header: RunHeaderSchema,
  failure: FailureSchema.optional(),
  receipts: z.array(ReceiptSchema).optional(),
  checks: ChecksWantedSchema.optional(),
});
export type FinalizerEvent = z.infer<typeof FinalizerEventSchema>;

/** Tasks are returned inline up to this count (in-process driver); beyond it they are read from `planKey`. */
export const INLINE_TASK_LIMIT = 1000;

// ---------------------------------------------------------------------------------------
// Lambda-facing documents (what travels through Step Functions). All small: state is capped
// at 256 KB, so the task list goes to the work bucket and only its key comes back.
// ---------------------------------------------------------------------------------------

export const TaskListRefSchema = z.object({
  bucket: z.string().min(1),
  key: z.string().min(1),
  count: z.number().int().nonnegative(),
});
export type TaskListRef = z.infer<typeof TaskListRefSchema>;

/** Planner Lambda result: the run header and where the Map reads its items (`ItemReader`). */
export const PlannerResultSchema = z.object({
  v: z.literal(1),
  header: RunHeaderSchema,
  taskList: TaskListRefSchema,
  /** Always present (the Finalize state reads `$.plan.checks`; a JSONPath to a missing field fails the state). */
  checks: ChecksWantedSchema,
});
export type PlannerResult = z.infer<typeof PlannerResultSchema>;

/** Worker Lambda result: a receipt summary. The full receipt is at the destination; the finalizer reads it there. */
export const WorkerReceiptSchema = z.object({
  v: z.literal(1),
  runId: z.string(),
  taskIndex: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative(),
  parts: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
});
export type WorkerReceipt = z.infer<typeof WorkerReceiptSchema>;

/** What a Step Functions Catch hands over (`ResultPath: $.error`). */
export const CaughtErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });
export type CaughtError = z.infer<typeof CaughtErrorSchema>;

/**
 * Finalizer Lambda input. With a `header`: finalize that run (failed when `error` is set).
 * Without one (the planner failed): `request` is the execution input, used to record the
 * failure at the export's destination when the export can still be resolved.
 */
export const FinalizerLambdaEventSchema = z.object({
  v: z.literal(1),
  header: RunHeaderSchema.optional(),
  request: z.unknown().optional(),
  error: CaughtErrorSchema.optional(),
  checks: ChecksWantedSchema.optional(),
});
export type FinalizerLambdaEvent = z.infer<typeof FinalizerLambdaEventSchema>;

export const FinalizerResultSchema = RunResultSchema.extend({ v: z.literal(1), checks: z.unknown().optional() });
export type FinalizerResult = z.infer<typeof FinalizerResultSchema>;
