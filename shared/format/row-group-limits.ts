import { DataType, type Schema } from 'apache-arrow';
import { META_COLUMN_PREFIX } from '../types/rivet-type.js';
import { DEFAULT_ROW_GROUP_ROWS, MAX_ROW_GROUP_BYTES } from './parquet-encoding-policy.js';

/** The `parquet:` block of an export, resolved (docs/reference/config.md, "parquet"). */
export interface RowGroupPolicy {
  strategy: 'auto' | 'fixed_rows' | 'fixed_memory';
  /** `row_group_rows` (fixed_rows only). */
  rows?: number;
  /** `target_row_group_mb`. */
  targetMb: number;
  /** `max_row_group_mb`. */
  maxMb?: number;
}

/** When a row group is closed: after `rows` rows, or once its encoded pages reach `bytes`. */
export interface RowGroupLimits {
  rows: number;
  bytes: number;
}

const MIB = 1024 * 1024;
/** The reference's rows for `fixed_rows` without `row_group_rows` (its Parquet library's default). */
export const FIXED_ROWS_DEFAULT = 1_048_576;
const MIN_ROWS = 1000;
const MAX_ROWS = 10_000_000;

/**
 * Bytes a row of `schema` is assumed to take before anything is read, with the reference's
 * weights (so a config sizes its row groups the same under both tools). Meta columns are
 * left out: the estimate describes the source's rows.
 */
export function estimatedRowBytes(schema: Schema): number {
  let total = 0;
  for (const f of schema.fields) {
    if (f.name.startsWith(META_COLUMN_PREFIX)) continue;
    total += 1 + fieldBytes(f.type);
  }
  return Math.max(1, total);
}

function fieldBytes(t: DataType): number {
  if (DataType.isBool(t)) return 1;
  if (DataType.isInt(t)) return t.bitWidth / 8;
  if (DataType.isFloat(t)) return t.precision === 0 ? 2 : t.precision === 1 ? 4 : 8;
  if (DataType.isDate(t)) return t.unit === 0 ? 4 : 8;
  if (DataType.isTimestamp(t) || DataType.isTime(t) || DataType.isDuration(t)) return 8;
  if (DataType.isDecimal(t)) return 16;
  if (DataType.isUtf8(t) || DataType.isLargeUtf8(t) || DataType.isBinary(t) || DataType.isLargeBinary(t)) return 256;
  return 64;
}

/**
 * The row-group limits a Parquet writer applies to a file of `schema`.
 *
 * Without a `parquet:` block rivet keeps its own defaults (122,880 rows, 32 MiB of encoded
 * pages): a row group is held in memory until it is written, and these keep a wide export
 * within a few hundred MB. With the block, the user's numbers rule:
 * - `fixed_rows`: exactly `row_group_rows` rows (1,048,576 when unset) per group;
 * - `auto` / `fixed_memory`: rows = clamp(target_mb / estimated row bytes, 1,000, 10,000,000),
 *   and the group is also closed when its encoded pages reach `target_row_group_mb`;
 * - `max_row_group_mb`, under any strategy, caps both the rows (by the estimate, never
 *   below 1,000) and the encoded bytes of a group.
 */
export function rowGroupLimits(schema: Schema, options: { rowGroup?: RowGroupPolicy; rowGroupRows?: number }): RowGroupLimits {
  const policy = options.rowGroup;
  if (!policy) return { rows: options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS, bytes: MAX_ROW_GROUP_BYTES };
  const perRow = estimatedRowBytes(schema);
  let rows: number;
  let bytes: number;
  if (policy.strategy === 'fixed_rows') {
    rows = policy.rows ?? FIXED_ROWS_DEFAULT;
    bytes = Number.MAX_SAFE_INTEGER;
  } else {
    rows = clamp(Math.floor((policy.targetMb * MIB) / perRow), MIN_ROWS, MAX_ROWS);
    bytes = policy.targetMb * MIB;
  }
  if (policy.maxMb !== undefined) {
    rows = Math.min(rows, Math.max(MIN_ROWS, Math.floor((policy.maxMb * MIB) / perRow)));
    bytes = Math.min(bytes, policy.maxMb * MIB);
  }
  return { rows, bytes };
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}
