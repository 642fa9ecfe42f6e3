import { z } from 'zod';
import { ChunkTaskSchema, FailureSchema, ReceiptSchema, RunHeaderSchema } from '../shared/run/run-plan.js';

/** Planner input: which export to run, with the `--param` values. */
export const PlannerEventSchema = z.object({
  export: z.string().min(1),
  params: z.record(z.string(), z.string()).default({}),
  /** Adopt the export's unfinished checkpointed run instead of planning a new one. */
  resume: z.boolean().default(false),
  /** With `resume`: even when the prefix already holds `_SUCCESS`. */
  force: z.boolean().default(false),
});
export type PlannerEvent = z.infer<typeof PlannerEventSchema>;

/** Worker input: one task (Step Functions Map item). */
export const WorkerEventSchema = z.object({ task: ChunkTaskSchema });
export type WorkerEvent = z.infer<typeof WorkerEventSchema>;

/** Finalizer input: the run header; `failure` when the Map (or the driver) caught an error. */
export const FinalizerEventSchema = z.object({
  header: RunHeaderSchema,
  failure: FailureSchema.optional(),
  receipts: z.array(ReceiptSchema).optional(),
});
export type FinalizerEvent = z.infer<typeof FinalizerEventSchema>;

/** Tasks are returned inline up to this count; beyond it Step Functions reads them from `planKey`. */
export const INLINE_TASK_LIMIT = 1000;
