import type { SqlDialect } from '../sql-dialect.js';

function textLiteral(value: string): string {
  return value === '' ? "''" : `_utf8mb4 X'${Buffer.from(value, 'utf8').toString('hex')}'`;
}

/**
 * Key types whose text form does not read back as the same value, or whose ORDER BY and
 * `>=` disagree: binary strings (printed as raw bytes), BIT, floating point (printed
 * rounded), ENUM and SET (sorted by ordinal, compared as text).
 */
const UNUSABLE_KEY_TYPES = ['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob', 'bit', 'float', 'double', 'real', 'enum', 'set', 'geometry', 'point', 'json'];

function schemaOf(table: { schema?: string }): string {
  return table.schema ? textLiteral(table.schema) : 'DATABASE()';
}

/** `chunk_by_key` and `chunk_size_memory_mb` on MySQL / MariaDB. */
export const mysqlKeysetSql: Pick<SqlDialect, 'keysetKeysSql' | 'avgRowBytesSql'> = {
  keysetKeysSql: (table) =>
    'SELECT DISTINCT CAST(s.COLUMN_NAME AS CHAR) AS k, CAST(IF(c.IS_NULLABLE = \'NO\', \'1\', \'0\') AS CHAR) AS nn, s.INDEX_NAME = \'PRIMARY\' AS pk, c.ORDINAL_POSITION AS pos ' +
    'FROM information_schema.STATISTICS s JOIN information_schema.COLUMNS c ' +
    'ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME ' +
    `WHERE s.TABLE_SCHEMA = ${schemaOf(table)} AND s.TABLE_NAME = ${textLiteral(table.name)} AND s.NON_UNIQUE = 0 ` +
    `AND c.DATA_TYPE NOT IN (${UNUSABLE_KEY_TYPES.map((t) => `'${t}'`).join(', ')}) ` +
    'AND NOT EXISTS (SELECT 1 FROM information_schema.STATISTICS s2 WHERE s2.TABLE_SCHEMA = s.TABLE_SCHEMA AND s2.TABLE_NAME = s.TABLE_NAME AND s2.INDEX_NAME = s.INDEX_NAME AND s2.SEQ_IN_INDEX > 1) ' +
    'ORDER BY pk DESC, pos',

  avgRowBytesSql: (table) =>
    `SELECT CAST(AVG_ROW_LENGTH AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${schemaOf(table)} AND TABLE_NAME = ${textLiteral(table.name)}`,
};
