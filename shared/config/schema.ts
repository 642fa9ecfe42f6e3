import { z } from 'zod';
import { SOURCE_ENGINES } from '../source/registry.js';

/**
 * The `rivet.yaml` grammar of Rivet 0.9.4, as zod schemas. Every object is strict (an
 * unknown key is an error, at every level) and keys are snake_case exactly as the reference
 * spells them, so existing config files keep working unchanged. Key order inside each
 * object follows the reference: it is the order of the "allowed keys" list in errors.
 *
 * Defaults are the reference's. Tuning fields have no defaults here on purpose: source and
 * export tuning are merged field by field and a profile fills the gaps (see tuning.ts), so
 * "not set" must stay distinguishable from "set to the profile value".
 */

/** Counts, sizes, durations: the reference parses them as unsigned integers. */
const count = () => z.number().int().nonnegative();

/** The engines the source registry lists (shared/source/registry.ts). */
export const SOURCE_TYPES = SOURCE_ENGINES;
export const ENVIRONMENTS = ['local', 'replica', 'production'] as const;
export const TLS_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export const PROFILE_NAMES = ['fast', 'balanced', 'safe'] as const;
export const BATCH_MEMORY_POLICIES = ['warn', 'fail', 'auto_shrink'] as const;
export const MODES = ['full', 'incremental', 'chunked', 'time_window'] as const;
export const CURSOR_MODES = ['single_column', 'coalesce'] as const;
export const TIME_COLUMN_TYPES = ['timestamp', 'unix'] as const;
export const PARTITION_GRANULARITIES = ['day', 'month', 'year'] as const;
export const FORMATS = ['parquet', 'csv'] as const;
export const COMPRESSIONS = ['zstd', 'snappy', 'gzip', 'lz4', 'none'] as const;
export const COMPRESSION_PROFILES = ['none', 'fast', 'balanced', 'compact'] as const;
export const VERIFY_MODES = ['size', 'content'] as const;
export const SCHEMA_DRIFT_POLICIES = ['warn', 'continue', 'fail'] as const;
export const DESTINATION_TYPES = ['local', 's3', 'gcs', 'azure', 'stdout'] as const;
export const ROW_GROUP_STRATEGIES = ['auto', 'fixed_rows', 'fixed_memory'] as const;
export const NOTIFICATION_TRIGGERS = ['failure', 'schema_change', 'degraded'] as const;

export const TuningConfigSchema = z.strictObject({
  profile: z.enum(PROFILE_NAMES).optional(),
  batch_size: count().optional(),
  batch_size_memory_mb: count().optional(),
  throttle_ms: count().optional(),
  statement_timeout_s: count().optional(),
  max_retries: count().optional(),
  retry_backoff_ms: count().optional(),
  lock_timeout_s: count().optional(),
  memory_threshold_mb: count().optional(),
  max_batch_memory_mb: count().optional(),
  on_batch_memory_exceeded: z.enum(BATCH_MEMORY_POLICIES).optional(),
  adaptive: z.boolean().optional(),
  min_parallel: count().optional(),
  max_value_mb: count().optional(),
});

export const TlsConfigSchema = z.strictObject({
  mode: z.enum(TLS_MODES).default('verify-full'),
  ca_file: z.string().optional(),
  accept_invalid_certs: z.boolean().default(false),
  accept_invalid_hostnames: z.boolean().default(false),
});

export const SourceConfigSchema = z.strictObject({
  type: z.enum(SOURCE_TYPES),
  url: z.string().optional(),
  url_env: z.string().optional(),
  url_file: z.string().optional(),
  host: z.string().optional(),
  port: z.number().int().min(0).max(65535).optional(),
  user: z.string().optional(),
  password: z.string().optional(),
  password_env: z.string().optional(),
  database: z.string().optional(),
  environment: z.enum(ENVIRONMENTS).optional(),
  tuning: TuningConfigSchema.optional(),
  tls: TlsConfigSchema.optional(),
});

export const DestinationConfigSchema = z.strictObject({
  type: z.enum(DESTINATION_TYPES),
  bucket: z.string().optional(),
  prefix: z.string().optional(),
  path: z.string().optional(),
  region: z.string().optional(),
  endpoint: z.string().optional(),
  credentials_file: z.string().optional(),
  access_key_env: z.string().optional(),
  secret_key_env: z.string().optional(),
  session_token_env: z.string().optional(),
  aws_profile: z.string().optional(),
  account_name: z.string().optional(),
  account_key_env: z.string().optional(),
  sas_token_env: z.string().optional(),
  allow_anonymous: z.boolean().default(false),
});

export const MetaColumnsConfigSchema = z.strictObject({
  exported_at: z.boolean().default(false),
  row_hash: z.boolean().default(false),
});

export const QualityConfigSchema = z.strictObject({
  row_count_min: count().optional(),
  row_count_max: count().optional(),
  null_ratio_max: z.record(z.string(), z.number()).optional(),
  unique_columns: z.array(z.string()).optional(),
  unique_max_entries: count().optional(),
});

export const ParquetConfigSchema = z.strictObject({
  row_group_strategy: z.enum(ROW_GROUP_STRATEGIES).default('auto'),
  row_group_rows: count().optional(),
  target_row_group_mb: count().default(128),
  max_row_group_mb: count().optional(),
});

export const SlackConfigSchema = z.strictObject({
  webhook_url: z.string().optional(),
  webhook_url_env: z.string().optional(),
  on: z.array(z.enum(NOTIFICATION_TRIGGERS)).default([]),
});

export const NotificationsConfigSchema = z.strictObject({
  slack: SlackConfigSchema.optional(),
});

export const ExportConfigSchema = z.strictObject({
  name: z.string(),
  query: z.string().optional(),
  query_file: z.string().optional(),
  table: z.string().optional(),
  mode: z.enum(MODES).default('full'),
  cursor_column: z.string().optional(),
  cursor_fallback_column: z.string().optional(),
  incremental_cursor_mode: z.enum(CURSOR_MODES).default('single_column'),
  cursor_lookback: z.union([z.string(), z.number()]).optional(),
  cursor_key_columns: z.array(z.string()).min(1).optional(),
  chunk_column: z.string().optional(),
  chunk_dense: z.boolean().default(false),
  chunk_size: count().default(100_000),
  chunk_size_memory_mb: count().optional(),
  chunk_count: count().optional(),
  chunk_by_days: count().optional(),
  chunk_by_key: z.string().optional(),
  parallel: count().default(1),
  chunk_checkpoint: z.boolean().default(false),
  chunk_max_attempts: count().optional(),
  time_column: z.string().optional(),
  time_column_type: z.enum(TIME_COLUMN_TYPES).default('timestamp'),
  days_window: count().optional(),
  partition_by: z.string().optional(),
  partition_granularity: z.enum(PARTITION_GRANULARITIES).default('day'),
  format: z.enum(FORMATS),
  compression: z.enum(COMPRESSIONS).default('zstd'),
  // Signed on purpose: a negative level must reach the range check of validate.ts, which says which range the codec accepts.
  compression_level: z.number().int().optional(),
  compression_profile: z.enum(COMPRESSION_PROFILES).optional(),
  skip_empty: z.boolean().default(false),
  destination: DestinationConfigSchema,
  verify: z.enum(VERIFY_MODES).default('size'),
  meta_columns: MetaColumnsConfigSchema.default({ exported_at: false, row_hash: false }),
  quality: QualityConfigSchema.optional(),
  max_file_size: z.string().optional(),
  tuning: TuningConfigSchema.optional(),
  source_group: z.string().optional(),
  reconcile_required: z.boolean().default(false),
  columns: z.record(z.string(), z.string()).default({}),
  target: z.string().optional(),
  on_schema_drift: z.enum(SCHEMA_DRIFT_POLICIES).default('warn'),
  shape_drift_warn_factor: z.number().default(2.0),
  parquet: ParquetConfigSchema.optional(),
});

export const RivetConfigSchema = z.strictObject({
  source: SourceConfigSchema,
  exports: z.array(ExportConfigSchema),
  notifications: NotificationsConfigSchema.optional(),
  parallel_exports: z.boolean().default(false),
  parallel_export_processes: z.boolean().default(false),
});

export type TuningConfig = z.infer<typeof TuningConfigSchema>;
export type TlsConfig = z.infer<typeof TlsConfigSchema>;
export type SourceConfig = z.infer<typeof SourceConfigSchema>;
export type DestinationConfig = z.infer<typeof DestinationConfigSchema>;
export type MetaColumnsConfig = z.infer<typeof MetaColumnsConfigSchema>;
export type QualityConfig = z.infer<typeof QualityConfigSchema>;
export type ParquetConfig = z.infer<typeof ParquetConfigSchema>;
export type SlackConfig = z.infer<typeof SlackConfigSchema>;
export type NotificationsConfig = z.infer<typeof NotificationsConfigSchema>;
export type ExportConfig = z.infer<typeof ExportConfigSchema>;
export type RivetConfig = z.infer<typeof RivetConfigSchema>;

export type SourceType = (typeof SOURCE_TYPES)[number];
export type Environment = (typeof ENVIRONMENTS)[number];
export type ProfileName = (typeof PROFILE_NAMES)[number];
export type ExportMode = (typeof MODES)[number];
export type FileFormatName = (typeof FORMATS)[number];
export type CompressionName = (typeof COMPRESSIONS)[number];
export type CompressionProfileName = (typeof COMPRESSION_PROFILES)[number];
export type DestinationType = (typeof DESTINATION_TYPES)[number];
