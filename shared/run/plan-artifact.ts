import { z } from 'zod';
import { RivetError } from '../errors/rivet-error.js';
import type { SourceConfig } from '../config/schema.js';
import { SOURCE_ENGINES } from '../source/registry.js';
import type { ResolvedExport } from './run-deps.js';

/**
 * The sealed output of `rivet plan`, read back by `rivet apply` (docs/commands/plan.md). Everything
 * apply needs is here, so apply never re-reads the config — but no secret is: the source is
 * kept as its references (`url_env`, `url_file`, `password_env`), resolved again from the
 * environment at apply time. A clear-text `password:` or a password inside `url:` is
 * dropped when the plan is made (with a warning), so a plan file can be reviewed, committed
 * or stored as a CI artifact without leaking credentials.
 */

const Nullable = <T extends z.ZodType>(t: T) => t.nullable();

export const SourceRefSchema = z.object({
  type: z.enum(SOURCE_ENGINES),
  url: Nullable(z.string()),
  url_env: Nullable(z.string()),
  url_file: Nullable(z.string()),
  host: Nullable(z.string()),
  port: Nullable(z.number().int()),
  user: Nullable(z.string()),
  /** Always null: a clear-text password never reaches a plan file. */
  password: z.null(),
  password_env: Nullable(z.string()),
  database: Nullable(z.string()),
  environment: Nullable(z.string()),
  tls: z.record(z.string(), z.unknown()).nullable(),
  /** True when the config held clear-text credentials that were left out: apply refuses, there is nothing to log in with. */
  credentials_removed: z.boolean().default(false),
});
export type SourceRef = z.infer<typeof SourceRefSchema>;

const StrategySchema = z.union([
  z.literal('Snapshot'),
  z.object({ Incremental: z.object({ primary_column: z.string(), fallback_column: z.string().nullable(), mode: z.enum(['single_column', 'coalesce']) }) }),
  z.object({
    Chunked: z.object({
      column: z.string(),
      chunk_size: z.number().int(),
      chunk_count: z.number().int().nullable(),
      parallel: z.number().int().positive(),
      dense: z.boolean(),
      by_days: z.number().int().nullable(),
      checkpoint: z.boolean(),
      max_attempts: z.number().int().positive(),
      /** `chunk_by_key`: `column` is a keyset key and the ranges are half-open key ranges. */
      by_key: z.boolean().optional(),
      /** `chunk_size_memory_mb` (part of the fingerprint; the ranges were cut with the size it yielded). */
      memory_mb: z.number().int().positive().nullable().optional(),
    }),
  }),
  z.object({ TimeWindow: z.object({ column: z.string(), column_type: z.enum(['timestamp', 'unix']), days_window: z.number().int() }) }),
]);

export const ResolvedPlanSchema = z.object({
  export_name: z.string().min(1),
  base_query: z.string().min(1),
  table: z.object({ schema: z.string().optional(), name: z.string() }).nullable(),
  strategy: StrategySchema,
  format: z.enum(['parquet', 'csv']),
  compression: z.enum(['zstd', 'snappy', 'gzip', 'lz4', 'none']),
  compression_level: z.number().int().nullable(),
  row_group_rows: z.number().int().positive().nullable(),
  /** `quality:` and the drift settings (absent in artifacts written before they were honoured). */
  quality: z
    .object({
      row_count_min: z.number().int().optional(),
      row_count_max: z.number().int().optional(),
      null_ratio_max: z.record(z.string(), z.number()).optional(),
      unique_columns: z.array(z.string()).optional(),
      unique_max_entries: z.number().int().optional(),
    })
    .nullable()
    .optional(),
  schema_drift: z.object({ policy: z.enum(['warn', 'continue', 'fail']), shape_factor: z.number() }).nullable().optional(),
  /** The export's `parquet:` block (absent in artifacts written before it was honoured). */
  row_group: z
    .object({ strategy: z.enum(['auto', 'fixed_rows', 'fixed_memory']), rows: z.number().int().positive().optional(), target_mb: z.number().int().positive(), max_mb: z.number().int().positive().optional() })
    .nullable()
    .optional(),
  max_file_size_bytes: z.number().int().positive().nullable(),
  skip_empty: z.boolean(),
  meta_columns: z.object({ exported_at: z.boolean(), row_hash: z.boolean() }),
  /** `{date}`, `{export}`/`{table}` expanded at plan time; `{run_id}` is the run's, expanded at apply. */
  destination: z.object({ kind: z.enum(['local', 's3', 'gcs', 'azure', 'stdout']) }).catchall(z.unknown()),
  tuning: z.object({
    batch_size: z.number().int().positive(),
    batch_size_memory_mb: z.number().int().nullable(),
    throttle_ms: z.number().int().nonnegative(),
    statement_timeout_s: z.number().int().nonnegative(),
    max_retries: z.number().int().nonnegative(),
    retry_backoff_ms: z.number().int().nonnegative(),
    lock_timeout_s: z.number().int().nonnegative(),
    memory_threshold_mb: z.number().int().nonnegative(),
    max_value_mb: z.number().int().nonnegative(),
    configured_profile: z.string(),
    /** Absent in artifacts written before these were honoured. */
    max_batch_memory_mb: z.number().int().positive().nullable().optional(),
    on_batch_memory_exceeded: z.enum(['warn', 'fail', 'auto_shrink']).optional(),
    adaptive: z.boolean().optional(),
    min_parallel: z.number().int().positive().nullable().optional(),
  }),
  /** `verify:` (absent in artifacts written before `content` was honoured). */
  verify: z.enum(['size', 'content']).optional(),
  tuning_profile_label: z.string(),
  source: SourceRefSchema,
  /** Base for a relative `url_file` / `tls.ca_file`: the config's directory at plan time. */
  config_dir: z.string(),
  column_overrides: z.record(z.string(), z.string()),
});
export type ResolvedPlan = z.infer<typeof ResolvedPlanSchema>;

/** A chunk bound: an integer (string beyond 2^53), a `YYYY-MM-DD` day, or null for the NULL-key chunk. */
const BoundSchema = z.union([z.number().int(), z.string()]).nullable();

export const PlanArtifactSchema = z.object({
  rivet_version: z.string(),
  plan_id: z.string().regex(/^[0-9a-f]{32}$/),
  created_at: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not an RFC 3339 time'),
  expires_at: z.string(),
  export_name: z.string().min(1),
  strategy: z.enum(['full', 'incremental', 'chunked', 'timewindow']),
  plan_fingerprint: z.string(),
  resolved_plan: ResolvedPlanSchema,
  computed: z.object({
    chunk_ranges: z.array(z.tuple([BoundSchema, BoundSchema])),
    chunk_count: z.number().int().nonnegative(),
    cursor_snapshot: z.string().nullable(),
    row_estimate: z.number().int().nonnegative().nullable(),
  }),
  diagnostics: z.object({
    verdict: z.string(),
    warnings: z.array(z.string()),
    recommended_profile: z.enum(['fast', 'balanced', 'safe']),
  }),
  params: z.record(z.string(), z.string()).default({}),
  config_path: z.string().optional(),
});
export type PlanArtifact = z.infer<typeof PlanArtifactSchema>;

export const STRATEGY_LABELS = { full: 'full', incremental: 'incremental', chunked: 'chunked', time_window: 'timewindow' } as const;

/** Parse a plan file's text; anything that is not a complete artifact is refused with one clear line. */
export function parsePlanArtifact(text: string, file: string): PlanArtifact {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw notAnArtifact(file, (e as Error).message);
  }
  const parsed = PlanArtifactSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw notAnArtifact(file, `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

function notAnArtifact(file: string, detail: string): RivetError {
  return new RivetError('USAGE', `${file} is not a Rivet plan artifact (${detail})`, {
    hint: 'only the JSON written by `rivet plan --format json -o <file>` can be applied',
  });
}

/**
 * The source block as references only. A clear-text `password:` becomes null, and the
 * userinfo of a literal `url:` is replaced by REDACTED; `removed` says whether anything was.
 */
export function sourceReference(source: SourceConfig): { ref: SourceRef; removed: boolean } {
  let removed = source.password !== undefined;
  let url = source.url ?? null;
  if (url !== null) {
    const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)@/.exec(url);
    if (m) {
      url = `${m[1]}REDACTED@${url.slice(m[0].length)}`;
      removed = true;
    }
  }
  return {
    removed,
    ref: {
      type: source.type,
      url,
      url_env: source.url_env ?? null,
      url_file: source.url_file ?? null,
      host: source.host ?? null,
      port: source.port ?? null,
      user: source.user ?? null,
      password: null,
      password_env: source.password_env ?? null,
      database: source.database ?? null,
      environment: source.environment ?? null,
      tls: source.tls ? { ...source.tls } : null,
      credentials_removed: removed,
    },
  };
}

/** The `source:` block apply resolves again (env references read now, not at plan time). */
export function sourceConfigOf(ref: SourceRef): SourceConfig {
  const out: Record<string, unknown> = { type: ref.type };
  for (const [k, v] of Object.entries(ref)) if (k !== 'type' && k !== 'password' && k !== 'credentials_removed' && v !== null) out[k] = v;
  return out as SourceConfig;
}

/** ResolvedExport → the artifact's `resolved_plan` (the connection replaced by its references). */
export function toResolvedPlan(
  exp: ResolvedExport,
  extra: { source: SourceRef; configDir: string; chunkColumn: string | null; memoryThresholdMb: number },
): ResolvedPlan {
  const c = exp.chunk;
  const strategy: ResolvedPlan['strategy'] =
    exp.mode === 'incremental' && exp.incremental
      ? {
          Incremental: {
            primary_column: exp.incremental.cursorColumn,
            fallback_column: exp.incremental.fallbackColumn ?? null,
            mode: exp.incremental.fallbackColumn ? 'coalesce' : 'single_column',
          },
        }
      : exp.mode === 'chunked' && c
        ? {
            Chunked: {
              column: extra.chunkColumn ?? c.column ?? '',
              chunk_size: c.size,
              chunk_count: c.count ?? null,
              parallel: exp.parallel,
              dense: c.dense,
              by_days: c.byDays ?? null,
              checkpoint: c.checkpoint,
              max_attempts: c.maxAttempts,
              ...(c.byKey !== undefined ? { by_key: true } : {}),
              ...(c.memoryMb !== undefined ? { memory_mb: c.memoryMb } : {}),
            },
          }
        : exp.mode === 'time_window' && exp.timeWindow
          ? { TimeWindow: { column: exp.timeWindow.column, column_type: exp.timeWindow.columnType, days_window: exp.timeWindow.daysWindow } }
          : 'Snapshot';
  return {
    export_name: exp.name,
    base_query: exp.sql,
    table: exp.table ?? null,
    strategy,
    format: exp.format,
    compression: exp.compression,
    compression_level: exp.compressionLevel ?? null,
    row_group_rows: exp.rowGroupRows ?? null,
    quality: exp.quality ?? null,
    schema_drift: exp.schemaDrift ? { policy: exp.schemaDrift.policy, shape_factor: exp.schemaDrift.shapeFactor } : null,
    row_group: exp.rowGroup
      ? { strategy: exp.rowGroup.strategy, rows: exp.rowGroup.rows, target_mb: exp.rowGroup.targetMb, max_mb: exp.rowGroup.maxMb }
      : null,
    max_file_size_bytes: exp.maxFileSize ?? null,
    skip_empty: exp.skipEmpty,
    meta_columns: { exported_at: exp.metaColumns.exportedAt, row_hash: exp.metaColumns.rowHash },
    destination: { ...exp.destination },
    tuning: {
      batch_size: exp.tuning.batchSize,
      batch_size_memory_mb: exp.tuning.batchMemoryMb ?? null,
      throttle_ms: exp.tuning.throttleMs,
      statement_timeout_s: exp.tuning.statementTimeoutS,
      max_retries: exp.tuning.maxRetries,
      retry_backoff_ms: exp.tuning.retryBackoffMs,
      lock_timeout_s: exp.tuning.lockTimeoutS,
      memory_threshold_mb: extra.memoryThresholdMb,
      max_value_mb: exp.tuning.maxValueMb,
      configured_profile: exp.tuning.profile,
      max_batch_memory_mb: exp.tuning.maxBatchMemoryMb ?? null,
      on_batch_memory_exceeded: exp.tuning.onBatchMemoryExceeded ?? 'warn',
      adaptive: exp.tuning.adaptive ?? false,
      min_parallel: exp.tuning.minParallel ?? null,
    },
    verify: exp.verifyContent ? 'content' : 'size',
    tuning_profile_label: exp.tuning.profileLabel,
    source: extra.source,
    config_dir: extra.configDir,
    column_overrides: { ...exp.columnOverrides },
  };
}

/** `resolved_plan` → the ResolvedExport the three phases run, with a connection resolved at apply time. */
export function fromResolvedPlan(rp: ResolvedPlan, connection: ResolvedExport['connection']): ResolvedExport {
  const s = rp.strategy;
  const mode: ResolvedExport['mode'] =
    s === 'Snapshot' ? 'full' : 'Incremental' in s ? 'incremental' : 'Chunked' in s ? 'chunked' : 'time_window';
  const base: ResolvedExport = {
    name: rp.export_name,
    mode,
    format: rp.format,
    compression: rp.compression,
    ...(rp.compression_level !== null ? { compressionLevel: rp.compression_level } : {}),
    ...(rp.row_group_rows !== null ? { rowGroupRows: rp.row_group_rows } : {}),
    ...(rp.quality ? { quality: rp.quality } : {}),
    ...(rp.schema_drift ? { schemaDrift: { policy: rp.schema_drift.policy, shapeFactor: rp.schema_drift.shape_factor } } : {}),
    ...(rp.row_group
      ? {
          rowGroup: {
            strategy: rp.row_group.strategy,
            ...(rp.row_group.rows !== undefined ? { rows: rp.row_group.rows } : {}),
            targetMb: rp.row_group.target_mb,
            ...(rp.row_group.max_mb !== undefined ? { maxMb: rp.row_group.max_mb } : {}),
          },
        }
      : {}),
    skipEmpty: rp.skip_empty,
    ...(rp.max_file_size_bytes !== null ? { maxFileSize: rp.max_file_size_bytes } : {}),
    sql: rp.base_query,
    ...(rp.table ? { table: rp.table } : {}),
    connection,
    columnOverrides: rp.column_overrides,
    tuning: {
      profile: rp.tuning.configured_profile,
      profileLabel: rp.tuning_profile_label,
      batchSize: rp.tuning.batch_size,
      batchMemoryMb: rp.tuning.batch_size_memory_mb,
      throttleMs: rp.tuning.throttle_ms,
      statementTimeoutS: rp.tuning.statement_timeout_s,
      lockTimeoutS: rp.tuning.lock_timeout_s,
      maxRetries: rp.tuning.max_retries,
      retryBackoffMs: rp.tuning.retry_backoff_ms,
      maxValueMb: rp.tuning.max_value_mb,
      memoryThresholdMb: rp.tuning.memory_threshold_mb,
      maxBatchMemoryMb: rp.tuning.max_batch_memory_mb ?? null,
      onBatchMemoryExceeded: rp.tuning.on_batch_memory_exceeded ?? 'warn',
      adaptive: rp.tuning.adaptive ?? false,
      minParallel: rp.tuning.min_parallel ?? null,
    },
    ...(rp.verify === 'content' ? { verifyContent: true } : {}),
    destination: rp.destination as unknown as ResolvedExport['destination'],
    metaColumns: { exportedAt: rp.meta_columns.exported_at, rowHash: rp.meta_columns.row_hash },
    parallel: 1,
  };
  if (s !== 'Snapshot' && 'Incremental' in s) {
    base.incremental = { cursorColumn: s.Incremental.primary_column, ...(s.Incremental.fallback_column ? { fallbackColumn: s.Incremental.fallback_column } : {}) };
  } else if (s !== 'Snapshot' && 'Chunked' in s) {
    const c = s.Chunked;
    base.parallel = c.parallel;
    base.chunk = {
      column: c.column,
      size: c.chunk_size,
      ...(c.chunk_count !== null ? { count: c.chunk_count } : {}),
      ...(c.by_days !== null ? { byDays: c.by_days } : {}),
      dense: c.dense,
      checkpoint: c.checkpoint,
      maxAttempts: c.max_attempts,
      ...(c.by_key ? { byKey: c.column } : {}),
      ...(c.memory_mb ? { memoryMb: c.memory_mb } : {}),
    };
  } else if (s !== 'Snapshot' && 'TimeWindow' in s) {
    base.timeWindow = { column: s.TimeWindow.column, columnType: s.TimeWindow.column_type, daysWindow: s.TimeWindow.days_window };
  }
  return base;
}
