import { pgDialect } from './pg-dialect.js';

/**
 * `partition_by` buckets on PostgreSQL. Reads run with TimeZone = UTC, so a timestamptz is
 * bucketed by its UTC day — the same day the child's `>= 'YYYY-MM-DD'` predicate compares.
 */
export function pgPartitionLabelsSql(baseSql: string, column: string, granularity: 'day' | 'month' | 'year'): string {
  const format = { day: 'YYYY-MM-DD', month: 'YYYY-MM', year: 'YYYY' }[granularity];
  return `SELECT DISTINCT to_char(${column}, '${format}') AS p FROM ${pgDialect.wrapBase(baseSql)}`;
}
