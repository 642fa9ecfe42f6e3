import { mssqlDialect } from './mssql/mssql-dialect.js';
import { mssqlPartitionLabelsSql } from './mssql/mssql-partition.js';
import { mysqlDialect } from './mysql/mysql-dialect.js';
import { mysqlPartitionLabelsSql } from './mysql/mysql-partition.js';
import { pgDialect } from './postgres/pg-dialect.js';
import { pgPartitionLabelsSql } from './postgres/pg-partition.js';
import type { SourceEngine } from './source.js';
import type { SqlDialect } from './sql-dialect.js';

export type PartitionGranularity = 'day' | 'month' | 'year';

/**
 * The SQL of `partition_by`, per engine, without a connection: a partition's query is part
 * of the resolved export every phase sees, before any source is opened. The dialects import
 * no driver, so this costs none of the memory `openSource` defers.
 */
export interface PartitionSql {
  dialect: SqlDialect;
  /**
   * Rows as text, distinct: the bucket of every row of the base query — `YYYY-MM-DD`,
   * `YYYY-MM` or `YYYY` (UTC for zoned types) — and one NULL row when some rows have a NULL
   * `column` (already quoted). Only buckets that hold rows are listed.
   */
  labelsSql(baseSql: string, column: string, granularity: PartitionGranularity): string;
}

export function partitionSqlOf(engine: SourceEngine): PartitionSql {
  switch (engine) {
    case 'postgres':
      return { dialect: pgDialect, labelsSql: pgPartitionLabelsSql };
    case 'mysql':
      return { dialect: mysqlDialect, labelsSql: mysqlPartitionLabelsSql };
    case 'mssql':
      return { dialect: mssqlDialect, labelsSql: mssqlPartitionLabelsSql };
  }
}
