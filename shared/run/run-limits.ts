import type { ExportConfig, SourceConfig } from '../config/schema.js';
import { resolveTuning } from '../config/tuning.js';
import { chunkFields, type ChunkSettings } from './chunk-settings.js';

/**
 * How many times one task may be attempted and how many tasks run at once — the numbers
 * every driver needs: the local pool and exportChunk's retry loop read them from the resolved
 * export, the CDK stack writes them into the state machine (Map `MaxConcurrency`, the worker's
 * `Retry.MaxAttempts`). One rule, so the two cannot drift apart.
 */
export interface RunLimits {
  /** Attempts per task in one run, the first included (≥ 1). */
  taskAttempts: number;
  /** Tasks exported side by side (≥ 1). */
  concurrency: number;
}

/**
 * A checkpointed chunk gets `chunk_max_attempts` (else `max_retries + 1`): its attempts are
 * recorded and counted across `--resume`. Every other task — a non-checkpointed chunk
 * included — gets `max_retries + 1`, the reference's per-query retry budget.
 */
export function runLimits(exp: { chunk?: Pick<ChunkSettings, 'checkpoint' | 'maxAttempts'>; tuning: { maxRetries: number }; parallel: number }): RunLimits {
  const taskAttempts = exp.chunk?.checkpoint ? exp.chunk.maxAttempts : exp.tuning.maxRetries + 1;
  return { taskAttempts: Math.max(1, taskAttempts), concurrency: Math.max(1, exp.parallel) };
}

/**
 * The same limits straight from the config, for a caller that cannot resolve a whole export
 * (`cdk synth` has the config's structure but not its secrets): the resolution steps
 * `resolveExport` takes for these fields (tuning profile, chunk settings), then `runLimits`.
 */
export function runLimitsOfConfig(source: SourceConfig, exp: ExportConfig): RunLimits {
  const tuning = resolveTuning(source, exp);
  return runLimits({ ...chunkFields(exp, tuning.maxRetries), tuning });
}
