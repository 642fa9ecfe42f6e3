import type { ExportConfig, ProfileName, SourceConfig, TuningConfig } from './schema.js';

/**
 * Tuning: a profile gives every knob a value; source-level tuning, then export-level tuning,
 * override it field by field. The profile itself is the merged `profile`, else the default of
 * `source.environment` (local → fast, replica/production → balanced), else balanced.
 */
export interface ProfileDefaults {
  batchSize: number;
  throttleMs: number;
  statementTimeoutS: number;
  maxRetries: number;
  retryBackoffMs: number;
  lockTimeoutS: number;
  memoryThresholdMb: number;
  maxBatchMemoryMb: number | null;
  onBatchMemoryExceeded: 'warn' | 'fail' | 'auto_shrink';
  adaptive: boolean;
  minParallel: number | null;
  maxValueMb: number;
}

/** The reference's numbers, exactly (its docs say safe caps batches at 500; its code uses 2000, which we follow). */
export const PROFILES: Readonly<Record<ProfileName, Readonly<ProfileDefaults>>> = Object.freeze({
  fast: Object.freeze({
    batchSize: 50_000,
    throttleMs: 0,
    statementTimeoutS: 0,
    maxRetries: 1,
    retryBackoffMs: 1_000,
    lockTimeoutS: 0,
    memoryThresholdMb: 0,
    maxBatchMemoryMb: null,
    onBatchMemoryExceeded: 'warn',
    adaptive: false,
    minParallel: null,
    maxValueMb: 256,
  }),
  balanced: Object.freeze({
    batchSize: 10_000,
    throttleMs: 50,
    statementTimeoutS: 300,
    maxRetries: 3,
    retryBackoffMs: 2_000,
    lockTimeoutS: 30,
    memoryThresholdMb: 4_096,
    maxBatchMemoryMb: null,
    onBatchMemoryExceeded: 'warn',
    adaptive: false,
    minParallel: null,
    maxValueMb: 256,
  }),
  safe: Object.freeze({
    batchSize: 2_000,
    throttleMs: 500,
    statementTimeoutS: 120,
    maxRetries: 5,
    retryBackoffMs: 5_000,
    lockTimeoutS: 10,
    memoryThresholdMb: 2_048,
    maxBatchMemoryMb: null,
    onBatchMemoryExceeded: 'warn',
    adaptive: false,
    minParallel: null,
    maxValueMb: 256,
  }),
});

export interface ResolvedTuning extends ProfileDefaults {
  profile: ProfileName;
  /** `safe`, `fast (default for environment: local)`, `balanced (default)` — shown in summaries and plans. */
  profileLabel: string;
  /** Memory-derived batch size (MiB per batch); when set, `batchSize` is only the profile's fallback. */
  batchSizeMemoryMb: number | null;
}

/** Export tuning layered over source tuning: the export's value wins wherever it is set. */
export function mergeTuning(source?: TuningConfig, exp?: TuningConfig): TuningConfig {
  const merged: Record<string, unknown> = { ...(source ?? {}) };
  for (const [k, v] of Object.entries(exp ?? {})) if (v !== undefined) merged[k] = v;
  return merged as TuningConfig;
}

export function resolveTuning(source: SourceConfig, exp: ExportConfig): ResolvedTuning {
  const t = mergeTuning(source.tuning, exp.tuning);
  let profile: ProfileName;
  let profileLabel: string;
  if (t.profile) {
    profile = t.profile;
    profileLabel = t.profile;
  } else if (source.environment) {
    profile = source.environment === 'local' ? 'fast' : 'balanced';
    profileLabel = `${profile} (default for environment: ${source.environment})`;
  } else {
    profile = 'balanced';
    profileLabel = 'balanced (default)';
  }
  const p = PROFILES[profile];
  return {
    profile,
    profileLabel,
    batchSize: t.batch_size ?? p.batchSize,
    batchSizeMemoryMb: t.batch_size_memory_mb ?? null,
    throttleMs: t.throttle_ms ?? p.throttleMs,
    statementTimeoutS: t.statement_timeout_s ?? p.statementTimeoutS,
    maxRetries: t.max_retries ?? p.maxRetries,
    retryBackoffMs: t.retry_backoff_ms ?? p.retryBackoffMs,
    lockTimeoutS: t.lock_timeout_s ?? p.lockTimeoutS,
    memoryThresholdMb: t.memory_threshold_mb ?? p.memoryThresholdMb,
    maxBatchMemoryMb: t.max_batch_memory_mb ?? p.maxBatchMemoryMb,
    onBatchMemoryExceeded: t.on_batch_memory_exceeded ?? p.onBatchMemoryExceeded,
    adaptive: t.adaptive ?? p.adaptive,
    minParallel: t.min_parallel ?? p.minParallel,
    maxValueMb: t.max_value_mb ?? p.maxValueMb,
  };
}
