import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshDatabase, mysqlExec, testMysqlUrl } from '../helpers/mysql.js';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { queryWithDuckDB } from '../helpers/readers.js';

/**
 * A read recycles each batch's column memory for the next batches once the format writer is
 * done with it (shared/source/buffer-pool.ts). If any writer kept a view of a batch past its
 * `write`, a later batch would overwrite rows already "written". The oracle: the same export
 * in one batch, where nothing is reused, must read back identically to the export in ~60
 * batches — for each writer path, both PostgreSQL read methods, and MySQL.
 */
let schema: string;
let mysqlDb: string;
const ROWS = 60_000;

beforeAll(async () => {
  schema = await freshSchema('e2e_reuse');
  await pgExec(`
    CREATE TABLE ${schema}.t AS
    SELECT g::int8 AS id,
           CASE WHEN g % 7 = 0 THEN NULL ELSE g * 31 % 1000 END::int4 AS i,
           round((g * 1.37)::numeric, 2)::numeric(12,2) AS n,
           CASE WHEN g % 5 = 0 THEN NULL ELSE g / 3.0 END::float8 AS f,
           CASE WHEN g % 11 = 0 THEN NULL ELSE g % 3 = 0 END AS b,
           CASE WHEN g % 13 = 0 THEN NULL ELSE repeat(md5(g::text), 1 + g % 9) END AS t,
           timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' AS ts,
           CASE WHEN g % 17 = 0 THEN NULL ELSE ARRAY[g, g + 1, NULL] END::int4[] AS arr
    FROM generate_series(1, ${ROWS}) g`);
  mysqlDb = await freshDatabase('e2e_reuse');
  await mysqlExec(
    `CREATE TABLE t (id BIGINT PRIMARY KEY, i INT NULL, n DECIMAL(12,2), f DOUBLE NULL, b BOOLEAN NULL, t TEXT NULL, ts DATETIME(6));
     SET SESSION max_recursive_iterations = ${ROWS + 10};
     INSERT INTO t
     WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < ${ROWS})
     SELECT x, IF(x % 7 = 0, NULL, x * 31 % 1000), ROUND(x * 1.37, 2), IF(x % 5 = 0, NULL, x / 3.0), IF(x % 11 = 0, NULL, x % 3 = 0),
            IF(x % 13 = 0, NULL, REPEAT(MD5(x), 1 + x % 9)), TIMESTAMP '2024-01-01 00:00:00' + INTERVAL x SECOND
     FROM g`,
    [],
    mysqlDb,
  );
}, 120_000);

async function exportOnce(format: string, batchSize: number, env: NodeJS.ProcessEnv, columns: string, engine: 'postgres' | 'mysql' = 'postgres'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rivet-reuse-'));
  const out = join(dir, 'out');
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(
    cfg,
    [
      'source:',
      `  type: ${engine}`,
      `  url: ${engine === 'postgres' ? testPgUrl() : testMysqlUrl(mysqlDb)}`,
      '  tuning: { profile: fast }',
      'exports:',
      '  - name: t',
      `    query: "SELECT ${columns} FROM ${engine === 'postgres' ? `${schema}.t` : 't'} ORDER BY id"`,
      `    ${format}`,
      `    tuning: { batch_size: ${batchSize} }`,
      `    destination: { type: local, path: ${out} }`,
      '',
    ].join('\n'),
  );
  const r = await runCli(['run', '-c', cfg], { env: { RIVET_LOG: 'debug', ...env } });
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.code, r.stderr.slice(-2000)).toBe(0);
  // The read method asked for is the one used.
  if (engine === 'postgres') expect(r.stderr).toContain(env.RIVET_PG_READ_METHOD === 'cursor' ? 'read method: binary cursor' : 'read method: binary COPY');
  return out;
}

const ALL = 'id, i, n, f, b, t, ts, arr';

describe('batches whose memory is reused read back like one batch', () => {
  const parquet: [string, string, NodeJS.ProcessEnv][] = [
    ['zstd (compression threads), COPY', 'format: parquet\n    compression: zstd', {}],
    ['zstd (compression threads), cursor', 'format: parquet\n    compression: zstd', { RIVET_PG_READ_METHOD: 'cursor' }],
    ['uncompressed (pages encoded on this thread)', 'format: parquet\n    compression: none', {}],
    ['zstd, wasm encoder', 'format: parquet\n    compression: zstd', { RIVET_PARQUET_ENCODER: 'wasm' }],
  ];

  it.each(parquet)('Parquet, %s', async (_name, format, env) => {
    const many = await exportOnce(format, 1000, env, ALL);
    const one = await exportOnce(format, 1_000_000, env, ALL);
    const read = (dir: string) => queryWithDuckDB(`SELECT ${ALL} FROM read_parquet('${dir}/*.parquet') ORDER BY id`);
    const [a, b] = [await read(many), await read(one)];
    expect(a.length).toBe(ROWS);
    expect(a).toEqual(b);
  });

  it('MySQL (MariaDB) to Parquet zstd', async () => {
    const columns = 'id, i, n, f, b, t, ts';
    const many = await exportOnce('format: parquet\n    compression: zstd', 1000, {}, columns, 'mysql');
    const one = await exportOnce('format: parquet\n    compression: zstd', 1_000_000, {}, columns, 'mysql');
    const read = (dir: string) => queryWithDuckDB(`SELECT ${columns} FROM read_parquet('${dir}/*.parquet') ORDER BY id`);
    const [a, b] = [await read(many), await read(one)];
    expect(a.length).toBe(ROWS);
    expect(a).toEqual(b);
  });

  // The Arrow renderer is what reads batches; CSV rendered from the server text (ADR 0009) has none.
  it.each([['COPY', { RIVET_CSV_RENDER: 'arrow' }] as const, ['cursor', { RIVET_PG_READ_METHOD: 'cursor' }] as const])('CSV, %s', async (_name, env) => {
    const columns = 'id, i, n, f, b, t, ts';
    const many = await exportOnce('format: csv', 1000, env, columns);
    const one = await exportOnce('format: csv', 1_000_000, env, columns);
    const bytes = async (dir: string) => {
      const parts = (await readdir(dir)).filter((f) => f.endsWith('.csv')).sort();
      return Buffer.concat(await Promise.all(parts.map((p) => readFile(join(dir, p)))));
    };
    const [a, b] = [await bytes(many), await bytes(one)];
    expect(a.length).toBeGreaterThan(ROWS * 40);
    expect(a.equals(b)).toBe(true);
  });
});
