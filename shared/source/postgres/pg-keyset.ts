import type { SqlDialect } from '../sql-dialect.js';

function textLiteral(value: string): string {
  return `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

function regclass(table: { schema?: string; name: string }): string {
  return `to_regclass(${textLiteral(table.schema ? `${table.schema}.${table.name}` : table.name)})`;
}

/**
 * `chunk_by_key` and `chunk_size_memory_mb` on PostgreSQL. Every type reads back exactly
 * from its text form through a CAST, so no key type is excluded; a partial or expression
 * unique index does not make a column unique, so only plain ones count.
 */
export const pgKeysetSql: Pick<SqlDialect, 'keysetKeysSql' | 'avgRowBytesSql'> = {
  keysetKeysSql: (table) =>
    `SELECT DISTINCT CAST(a.attname AS TEXT) AS k, CASE WHEN a.attnotnull THEN '1' ELSE '0' END AS nn, i.indisprimary AS pk, a.attnum
       FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
      WHERE i.indrelid = ${regclass(table)} AND i.indisunique AND i.indisvalid AND i.indnkeyatts = 1
        AND i.indpred IS NULL AND i.indexprs IS NULL
      ORDER BY pk DESC, a.attnum`,

  // pg_table_size counts TOAST too: wide text values live there, and they are what fills memory.
  avgRowBytesSql: (table) =>
    `SELECT CASE WHEN c.reltuples > 0 THEN CAST(CEIL(pg_table_size(c.oid) / c.reltuples) AS BIGINT)::text END FROM pg_class c WHERE c.oid = ${regclass(table)}`,
};
