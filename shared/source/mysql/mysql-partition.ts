import { mysqlDialect } from './mysql-dialect.js';

/**
 * `partition_by` buckets on MySQL/MariaDB. Sessions run with time_zone '+00:00', so a
 * TIMESTAMP is bucketed by its UTC day — the same day the child's `>= 'YYYY-MM-DD'` compares.
 */
export function mysqlPartitionLabelsSql(baseSql: string, column: string, granularity: 'day' | 'month' | 'year'): string {
  const format = { day: '%Y-%m-%d', month: '%Y-%m', year: '%Y' }[granularity];
  return `SELECT DISTINCT CAST(DATE_FORMAT(${column}, '${format}') AS CHAR) AS p FROM ${mysqlDialect.wrapBase(baseSql)}`;
}
