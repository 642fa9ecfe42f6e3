import { DuckDBInstance } from '@duckdb/node-api';

/**
 * Run one SQL statement in a fresh in-memory DuckDB, binding `?` to `file`. For tests that
 * compare what we wrote with the source through renderings both sides agree on.
 */
export async function queryWithDuckDB(file: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(sql, [file]);
    return reader.getRowObjectsJS().map((row) =>
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])),
    );
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
