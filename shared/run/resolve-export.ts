import { RivetError } from '../errors/rivet-error.js';
import type { Logger } from '../log/logger.js';
import type { LoadedConfig } from '../config/load.js';
import { resolveTuning } from '../config/tuning.js';
import { resolveSourceConnection } from '../config/connection.js';
import { resolveBaseQuery } from '../config/query.js';
import { assertExportRules } from '../config/export-rules.js';
import { resolveCompression } from '../config/compression.js';
import { parseSize } from '../config/size.js';
import type { ResolvedExport } from './run-deps.js';
import { modeFields } from './mode-fields.js';
import { destinationTarget } from './destination-target.js';
import { chunkFields } from './chunk-settings.js';
import type { RowGroupPolicy } from '../format/row-group-limits.js';
import type { ExportConfig } from '../config/schema.js';
import { sourceEngine } from '../source/registry.js';
import { findPartitionChild, partitionSql, partitionTarget } from './partitions.js';

/** The `parquet:` block as the writers read it; undefined = rivet's own row-group defaults. */
function rowGroupPolicy(parquet: ExportConfig['parquet']): RowGroupPolicy | undefined {
  if (!parquet) return undefined;
  return {
    strategy: parquet.row_group_strategy,
    ...(parquet.row_group_rows !== undefined ? { rows: parquet.row_group_rows } : {}),
    targetMb: parquet.target_row_group_mb,
    ...(parquet.max_row_group_mb !== undefined ? { maxMb: parquet.max_row_group_mb } : {}),
  };
}

/** Config + export name + params → everything a phase needs. Throws RivetError (exit 2) for unknown exports. */
export function resolveExport(loaded: LoadedConfig, exportName: string, params: Record<string, string>, log: Logger, env: NodeJS.ProcessEnv = process.env): ResolvedExport {
  const { config } = loaded;
  // A partition's child (`orders__2026-05-21`) is not in the config: it is its parent, cut to one bucket.
  const child = config.exports.some((e) => e.name === exportName) ? null : findPartitionChild(config.exports, exportName);
  const exp = child?.parent ?? config.exports.find((e) => e.name === exportName);
  if (!exp) {
    throw new RivetError('USAGE', `export '${exportName}' is not in ${loaded.path}`, {
      hint: `exports in this config: ${config.exports.map((e) => e.name).join(', ')}`,
    });
  }
  assertExportRules(config, exp);
  const tuning = resolveTuning(config.source, exp);
  const codec = resolveCompression(exp);
  const query = resolveBaseQuery(exp, { configDir: loaded.dir, params, env });
  const d = exp.destination;
  const connection = resolveSourceConnection(config.source, { env, configDir: loaded.dir, log });
  const partition = exp.partition_by ? { column: exp.partition_by, granularity: exp.partition_granularity, ...(child ? { bucket: child.bucket } : {}) } : undefined;
  return {
    name: exportName,
    mode: exp.mode ?? 'full',
    format: exp.format,
    compression: codec.codec,
    compressionLevel: codec.level,
    ...(exp.parquet && exp.format === 'parquet' ? { rowGroup: rowGroupPolicy(exp.parquet) } : {}),
    skipEmpty: exp.skip_empty ?? false,
    maxFileSize: exp.max_file_size === undefined ? undefined : (parseSize(exp.max_file_size) ?? undefined),
    sql: child ? partitionSql(sourceEngine(connection.engine).dialect, query.sql, exp.partition_by!, exp.partition_granularity, child.bucket) : query.sql,
    table: query.table,
    connection,
    columnOverrides: exp.columns ?? {},
    tuning: {
      profile: tuning.profile,
      profileLabel: tuning.profileLabel,
      // With batch_size_memory_mb the byte budget decides; rows are capped only by the
      // reference's ceiling (500,000).
      batchSize: tuning.batchSizeMemoryMb ? 500_000 : tuning.batchSize,
      batchMemoryMb: tuning.batchSizeMemoryMb,
      throttleMs: tuning.throttleMs,
      statementTimeoutS: tuning.statementTimeoutS,
      lockTimeoutS: tuning.lockTimeoutS,
      maxRetries: tuning.maxRetries,
      retryBackoffMs: tuning.retryBackoffMs,
      maxValueMb: tuning.maxValueMb,
      memoryThresholdMb: tuning.memoryThresholdMb,
      maxBatchMemoryMb: tuning.maxBatchMemoryMb,
      onBatchMemoryExceeded: tuning.onBatchMemoryExceeded,
      adaptive: tuning.adaptive,
      minParallel: tuning.minParallel,
    },
    ...(exp.verify === 'content' ? { verifyContent: true } : {}),
    destination: child ? partitionTarget(destinationTarget(d), exp.partition_by!, child.bucket) : destinationTarget(d),
    ...modeFields(exp),
    ...chunkFields(exp, tuning.maxRetries),
    metaColumns: { exportedAt: exp.meta_columns.exported_at, rowHash: exp.meta_columns.row_hash },
    ...(exp.quality ? { quality: exp.quality } : {}),
    schemaDrift: { policy: exp.on_schema_drift, shapeFactor: exp.shape_drift_warn_factor },
    ...(config.notifications?.slack ? { slack: config.notifications.slack } : {}),
    ...(partition ? { partition } : {}),
  };
}
