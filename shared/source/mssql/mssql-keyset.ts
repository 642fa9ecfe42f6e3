import type { SqlDialect } from '../sql-dialect.js';

function textLiteral(value: string): string {
  return `N'${value.replace(/'/g, "''")}'`;
}

function quote(name: string): string {
  return `[${name.replace(/]/g, ']]')}]`;
}

function objectId(table: { schema?: string; name: string }): string {
  return `OBJECT_ID(${textLiteral(table.schema ? `${quote(table.schema)}.${quote(table.name)}` : quote(table.name))})`;
}

/** Key types whose style-126 text does not read back as the same value (floats, binary, LOBs, rowversion, spatial). */
const UNUSABLE_KEY_TYPES = ['float', 'real', 'binary', 'varbinary', 'image', 'text', 'ntext', 'xml', 'sql_variant', 'timestamp', 'hierarchyid', 'geometry', 'geography'];

/** `chunk_by_key` and `chunk_size_memory_mb` on SQL Server. */
export const mssqlKeysetSql: Pick<SqlDialect, 'keysetKeysSql' | 'avgRowBytesSql'> = {
  keysetKeysSql: (table) =>
    'SELECT CAST(c.name AS NVARCHAR(128)) AS k, CASE WHEN c.is_nullable = 0 THEN N\'1\' ELSE N\'0\' END AS nn FROM sys.indexes i ' +
    'JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id AND ic.key_ordinal = 1 ' +
    'JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id ' +
    `WHERE i.object_id = ${objectId(table)} AND i.is_unique = 1 AND i.has_filter = 0 AND i.is_disabled = 0 ` +
    'AND (SELECT COUNT(*) FROM sys.index_columns k WHERE k.object_id = i.object_id AND k.index_id = i.index_id AND k.key_ordinal > 0) = 1 ' +
    `AND TYPE_NAME(c.system_type_id) NOT IN (${UNUSABLE_KEY_TYPES.map((t) => `'${t}'`).join(', ')}) ` +
    'ORDER BY i.is_primary_key DESC, c.column_id',

  // Pages of the heap or clustered index (in-row, overflow and LOB) over its rows.
  avgRowBytesSql: (table) =>
    'SELECT CAST(SUM(ps.used_page_count) * 8192 / NULLIF(SUM(ps.row_count), 0) AS NVARCHAR(40)) FROM sys.dm_db_partition_stats ps ' +
    `WHERE ps.object_id = ${objectId(table)} AND ps.index_id IN (0, 1)`,
};
