#!/usr/bin/env node
// The peer pipeline's second half: DuckDB reads the CSV psql wrote and writes Parquet (zstd),
// as a data engineer would do it by hand. Usage: node bench/duckdb-csv-to-parquet.mjs IN.csv OUT.parquet
import { DuckDBInstance } from '@duckdb/node-api';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: duckdb-csv-to-parquet.mjs IN.csv OUT.parquet');
  process.exit(2);
}
const quote = (s) => `'${s.replace(/'/g, "''")}'`;
const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
await conn.run(`COPY (SELECT * FROM read_csv(${quote(input)}, header = true)) TO ${quote(output)} (FORMAT parquet, COMPRESSION zstd)`);
conn.closeSync?.();
