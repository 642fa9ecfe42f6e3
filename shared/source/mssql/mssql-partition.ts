import { mssqlDialect } from './mssql-dialect.js';

/**
 * `partition_by` buckets on SQL Server: the UTC calendar date (datetimeoffset switched to
 * +00:00, zone-less types as they are) printed as ISO 8601 (style 23) and cut to the
 * granularity, matching the `'YYYYMMDD'` literals of the child's predicate.
 */
export function mssqlPartitionLabelsSql(baseSql: string, column: string, granularity: 'day' | 'month' | 'year'): string {
  const length = { day: 10, month: 7, year: 4 }[granularity];
  const utcDay = `CONVERT(date, SWITCHOFFSET(CONVERT(datetimeoffset, ${column}), '+00:00'))`;
  return `SELECT DISTINCT LEFT(CONVERT(NVARCHAR(10), ${utcDay}, 23), ${length}) AS p FROM ${mssqlDialect.wrapBase(baseSql)}`;
}
