import { readdir, readFile, mkdtemp, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { freshDatabase, mysqlExec, testMysqlUrl } from '../helpers/mysql.js';
import { countWithDuckDB, queryWithDuckDB } from '../helpers/readers.js';

/**
 * `verify: content`: every part is read back from the destination in full (parquet-wasm's
 * reader for Parquet, an RFC 4180 splitter for CSV) and its rows and per-column nulls
 * compared with what was written, before the run commits. A part altered after it was
 * published (RIVET_FAULT=corrupt_published_part, same size, so `verify: size` cannot tell)
 * fails the run: no _SUCCESS for it, and the previous dataset stays current.
 */
let dir: string;
let pgSchema: string;
let myDb: string;

const ROWS = 3000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rivet-verify-content-'));
  pgSchema = await freshSchema('e2e_verify_content');
  await pgExec(`CREATE TABLE ${pgSchema}.t (
      id int PRIMARY KEY, i2 smallint, i8 bigint, n numeric(20,4), f float8, b boolean, s text, bin bytea,
      d date, ts timestamp, tz timestamptz, tm time, u uuid, j jsonb, iv interval, arr int[]);
    INSERT INTO ${pgSchema}.t SELECT g,
      CASE WHEN g % 2 = 0 THEN g % 100 END, CASE WHEN g % 3 = 0 THEN g::bigint * 1000000007 END,
      CASE WHEN g % 5 = 0 THEN g / 7.0 END, CASE WHEN g % 7 = 0 THEN g / 3.0 END, CASE WHEN g % 11 = 0 THEN g % 2 = 0 END,
      CASE WHEN g % 13 = 0 THEN NULL WHEN g % 17 = 0 THEN '' ELSE 'v, "' || g || '"' END,
      CASE WHEN g % 19 = 0 THEN NULL WHEN g % 23 = 0 THEN ''::bytea ELSE decode(lpad(to_hex(g), 8, '0'), 'hex') END,
      CASE WHEN g % 29 = 0 THEN NULL ELSE DATE '2026-01-01' + g END,
      CASE WHEN g % 31 = 0 THEN NULL ELSE TIMESTAMP '2026-01-01' + g * INTERVAL '1 minute' END,
      CASE WHEN g % 37 = 0 THEN NULL ELSE TIMESTAMPTZ '2026-01-01 00:00:00+00' + g * INTERVAL '1 second' END,
      CASE WHEN g % 41 = 0 THEN NULL ELSE TIME '00:00' + g * INTERVAL '1 second' END,
      CASE WHEN g % 43 = 0 THEN NULL ELSE md5(g::text)::uuid END,
      CASE WHEN g % 47 = 0 THEN NULL ELSE jsonb_build_object('g', g) END,
      CASE WHEN g % 53 = 0 THEN NULL ELSE g * INTERVAL '1 hour' END,
      CASE WHEN g % 59 = 0 THEN NULL ELSE ARRAY[g, NULL] END
    FROM generate_series(1, ${ROWS}) g;`);
  myDb = await freshDatabase('e2e_verify_content');
  await mysqlExec(
    `CREATE TABLE t (id int PRIMARY KEY, i8 bigint NULL, n decimal(20,4) NULL, s varchar(40) NULL, bin varbinary(16) NULL, d date NULL, ts datetime(6) NULL, j json NULL)`,
    [],
    myDb,
  );
  const values: string[] = [];
  for (let g = 1; g <= ROWS; g++) {
    values.push(
      `(${g}, ${g % 3 === 0 ? 'NULL' : g * 7}, ${g % 5 === 0 ? 'NULL' : g / 8}, ${g % 13 === 0 ? 'NULL' : g % 17 === 0 ? "''" : `'v, "${g}"'`}, ` +
        `${g % 19 === 0 ? 'NULL' : `x'${g.toString(16).padStart(8, '0')}'`}, ${g % 29 === 0 ? 'NULL' : "'2026-01-01' + INTERVAL " + g + ' DAY'}, ` +
        `${g % 31 === 0 ? 'NULL' : "'2026-01-01 00:00:00' + INTERVAL " + g + ' MINUTE'}, ${g % 47 === 0 ? 'NULL' : `'{"g": ${g}}'`})`,
    );
  }
  await mysqlExec(`INSERT INTO t VALUES ${values.join(',')}`, [], myDb);
});

type Engine = 'postgres' | 'mysql';

async function config(name: string, engine: Engine, format: 'parquet' | 'csv', extra = '', columns = '*'): Promise<{ cfg: string; prefix: string }> {
  const prefix = join(dir, name);
  const cfg = join(dir, `${name}.yaml`);
  const url = engine === 'postgres' ? testPgUrl() : testMysqlUrl(myDb);
  const table = engine === 'postgres' ? `${pgSchema}.t` : 't';
  await writeFile(
    cfg,
    `source:\n  type: ${engine}\n  url: "${url}"\n  tls: { mode: disable }\nexports:\n` +
      `  - name: ${name}\n    query: "SELECT ${columns} FROM ${table} ORDER BY id"\n    format: ${format}\n    verify: content\n` +
      `    tuning: { batch_size: 700 }\n${extra}    destination: { type: local, path: "${prefix}" }\n`,
  );
  return { cfg, prefix };
}

async function parts(prefix: string, ext: string): Promise<string[]> {
  return (await readdir(prefix)).filter((f) => f.startsWith('part-') && f.endsWith(`.${ext}`));
}

/** Null counts per column as DuckDB reads the committed parts. */
async function duckNulls(glob: string, columns: string[]): Promise<Record<string, number>> {
  const sel = columns.map((c) => `count(*) - count("${c}") AS "${c}"`).join(', ');
  const [row] = await queryWithDuckDB(`SELECT ${sel} FROM read_parquet('${glob}')`);
  return Object.fromEntries(columns.map((c) => [c, Number(row[c])]));
}

describe('verify: content (built CLI)', () => {
  // The native encoder writes every column here but the interval and the array (those fall back to wasm).
  const NATIVE_COLUMNS = 'id, i2, i8, n, f, b, s, bin, d, ts, tz, tm, u, j';
  for (const encoder of ['native', 'wasm']) {
    it(`PostgreSQL, ${encoder} encoder, several parts: each part is read back before commit; DuckDB sees every row and null`, async () => {
      const native = encoder === 'native';
      const { cfg, prefix } = await config(`pg_${encoder}`, 'postgres', 'parquet', '    max_file_size: 20KB\n    parquet: { row_group_strategy: fixed_rows, row_group_rows: 400 }\n', native ? NATIVE_COLUMNS : '*');
      const r = await runCli(['run', '-c', cfg, '--validate'], { env: { RIVET_PARQUET_ENCODER: encoder } });
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(join(prefix, '_SUCCESS'))).toBe(true);
      expect((await parts(prefix, 'parquet')).length).toBeGreaterThan(1);
      expect(await countWithDuckDB(join(prefix, 'part-*.parquet'))).toBe(ROWS);
      const nulls = await duckNulls(join(prefix, 'part-*.parquet'), native ? ['i2', 's', 'bin', 'u'] : ['i2', 's', 'bin', 'u', 'iv', 'arr']);
      expect(nulls).toEqual({
        i2: ROWS / 2,
        s: Math.floor(ROWS / 13),
        bin: Math.floor(ROWS / 19),
        u: Math.floor(ROWS / 43),
        ...(native ? {} : { iv: Math.floor(ROWS / 53), arr: Math.floor(ROWS / 59) }),
      });
    });
  }

  it('PostgreSQL: a part altered after it was published fails the run with CONTENT_MISMATCH; nothing is committed and the previous dataset stays current', async () => {
    const { cfg, prefix } = await config('pg_fault', 'postgres', 'parquet');
    const ok = await runCli(['run', '-c', cfg]);
    expect(ok.code, ok.stderr).toBe(0);
    const before = await readFile(join(prefix, 'manifest.json'), 'utf8');
    const success = await readFile(join(prefix, '_SUCCESS'), 'utf8');

    const bad = await runCli(['run', '-c', cfg], { env: { RIVET_FAULT: 'corrupt_published_part' } });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('verify: content: part part-000002.parquet does not hold what was written');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    expect(await readFile(join(prefix, 'manifest.json'), 'utf8')).toBe(before);
    expect(await readFile(join(prefix, '_SUCCESS'), 'utf8')).toBe(success);
    // The altered part went aside with the failed run; the root holds only the dataset's part.
    expect(await parts(prefix, 'parquet')).toEqual(['part-000001.parquet']);
    expect(await countWithDuckDB(join(prefix, 'part-*.parquet'))).toBe(ROWS);

    // The same fault with verify: size goes unnoticed at run time: the check is what catches it.
    await writeFile(cfg, (await readFile(cfg, 'utf8')).replace('verify: content', 'verify: size'));
    const unchecked = await runCli(['run', '-c', cfg], { env: { RIVET_FAULT: 'corrupt_published_part' } });
    expect(unchecked.code, unchecked.stderr).toBe(0);
  });

  it('CSV on PostgreSQL and MariaDB: records and empty cells are counted back; a broken record fails the run', async () => {
    for (const engine of ['postgres', 'mysql'] as const) {
      const columns = engine === 'postgres' ? 'id, i2, i8, n, f, b, s, bin, d, ts, tz, tm, u, j, iv' : '*';
      const { cfg, prefix } = await config(`csv_${engine}`, engine, 'csv', '', columns);
      const r = await runCli(['run', '-c', cfg]);
      expect(r.code, r.stderr).toBe(0);
      expect(await countWithDuckDB(join(prefix, 'part-*.csv'))).toBe(ROWS);

      const bad = await runCli(['run', '-c', cfg], { env: { RIVET_FAULT: 'corrupt_published_part' } });
      expect(bad.code, engine).toBe(1);
      expect(bad.stderr).toMatch(/verify: content: part part-\d+\.csv does not hold what was written \(.*record 1 has \d+ fields/);
    }
  });

  it('MariaDB Parquet: committed after read-back; DuckDB sees every row and null', async () => {
    const { cfg, prefix } = await config('my_parquet', 'mysql', 'parquet', '    max_file_size: 20KB\n    parquet: { row_group_strategy: fixed_rows, row_group_rows: 400 }\n');
    const r = await runCli(['run', '-c', cfg]);
    expect(r.code, r.stderr).toBe(0);
    expect(await countWithDuckDB(join(prefix, 'part-*.parquet'))).toBe(ROWS);
    const nulls = await duckNulls(join(prefix, 'part-*.parquet'), ['i8', 's', 'bin', 'j']);
    expect(nulls).toEqual({ i8: ROWS / 3, s: Math.floor(ROWS / 13), bin: Math.floor(ROWS / 19), j: Math.floor(ROWS / 47) });

    const bad = await runCli(['run', '-c', cfg], { env: { RIVET_FAULT: 'corrupt_published_part' } });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('does not hold what was written');
    expect(await countWithDuckDB(join(prefix, 'part-*.parquet'))).toBe(ROWS);
  });
});
