import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshDatabase, mysqlExec, testMysqlUrl } from '../helpers/mysql.js';
import { readWithDuckDB, readWithPyArrow, type ReadResult } from '../helpers/readers.js';

/**
 * The MySQL type matrix (docs/reference/types.md) end to end on MariaDB: one column per type, five rows
 * (typical, all NULL, minimum/negative extremes, maximum/huge values, unicode/empty/special
 * values), exported by the built CLI to Parquet and CSV, read back by DuckDB and pyarrow and
 * compared with what MariaDB itself renders for each value (in a UTC session).
 */

interface Col {
  name: string;
  ddl: string;
  /** SQL literals for rows 1..5 (inserted in a +05:30 session with an empty sql_mode). */
  values: [string, string, string, string, string];
  /** MariaDB expression rendering the expected exported value as text. */
  expect: string;
  cmp?: 'float4' | 'float8';
  override?: string;
  duck: string;
  py: string;
  noCsv?: boolean;
}

const TS = (e: string) => `DATE_FORMAT(${e}, '%Y-%m-%dT%H:%i:%s.%f')`;
const BOOL = (e: string) => `IF(${e} IS NULL, NULL, IF(${e} <> 0, 'true', 'false'))`;
const HUGE_TEXT = `REPEAT('é✓x', 100000)`;

const COLS: Col[] = [
  { name: 'b', ddl: 'BOOL', values: ['1', 'NULL', '0', '1', '0'], expect: BOOL('b'), duck: 'BOOLEAN', py: 'bool' },
  { name: 'ti', ddl: 'TINYINT', values: ['12', 'NULL', '-128', '127', '0'], expect: 'CAST(ti AS CHAR)', duck: 'SMALLINT', py: 'int16' },
  { name: 'tiu', ddl: 'TINYINT UNSIGNED', values: ['12', 'NULL', '0', '255', '1'], expect: 'CAST(tiu AS CHAR)', duck: 'SMALLINT', py: 'int16' },
  { name: 'si', ddl: 'SMALLINT', values: ['1234', 'NULL', '-32768', '32767', '0'], expect: 'CAST(si AS CHAR)', duck: 'SMALLINT', py: 'int16' },
  { name: 'siu', ddl: 'SMALLINT UNSIGNED', values: ['1234', 'NULL', '0', '65535', '1'], expect: 'CAST(siu AS CHAR)', duck: 'INTEGER', py: 'int32' },
  { name: 'mi', ddl: 'MEDIUMINT', values: ['123456', 'NULL', '-8388608', '8388607', '0'], expect: 'CAST(mi AS CHAR)', duck: 'INTEGER', py: 'int32' },
  { name: 'i', ddl: 'INT', values: ['123456', 'NULL', '-2147483648', '2147483647', '0'], expect: 'CAST(i AS CHAR)', duck: 'INTEGER', py: 'int32' },
  { name: 'iu', ddl: 'INT UNSIGNED', values: ['123456', 'NULL', '0', '4294967295', '1'], expect: 'CAST(iu AS CHAR)', duck: 'BIGINT', py: 'int64' },
  {
    name: 'bi', ddl: 'BIGINT', values: ['1234567890123', 'NULL', '-9223372036854775808', '9223372036854775807', '0'],
    expect: 'CAST(bi AS CHAR)', duck: 'BIGINT', py: 'int64',
  },
  {
    name: 'biu', ddl: 'BIGINT UNSIGNED', values: ['1234567890123', 'NULL', '0', '18446744073709551615', '9223372036854775808'],
    expect: 'CAST(biu AS CHAR)', duck: 'UBIGINT', py: 'uint64',
  },
  { name: 'f', ddl: 'FLOAT', values: ['1.5', 'NULL', '-3.40282e38', '3.40282e38', '1.17549e-38'], expect: 'CAST(f AS CHAR)', cmp: 'float4', duck: 'FLOAT', py: 'float' },
  {
    name: 'd', ddl: 'DOUBLE', values: ['0.1', 'NULL', '-1.7976931348623157e308', '1.7976931348623157e308', '2.2250738585072014e-308'],
    expect: 'CAST(d AS CHAR)', cmp: 'float8', duck: 'DOUBLE', py: 'double',
  },
  { name: 'dec', ddl: 'DECIMAL(10,2)', values: ['12345.67', 'NULL', '-99999999.99', '99999999.99', '0.01'], expect: 'CAST(`dec` AS CHAR)', duck: 'DECIMAL(10,2)', py: 'decimal128(10, 2)' },
  {
    name: 'dec38', ddl: 'DECIMAL(38,10)',
    values: ['12345.6789', 'NULL', `-${'9'.repeat(28)}.${'9'.repeat(10)}`, `${'9'.repeat(28)}.${'9'.repeat(10)}`, '0.0000000001'],
    expect: 'CAST(dec38 AS CHAR)', duck: 'DECIMAL(38,10)', py: 'decimal128(38, 10)',
  },
  {
    name: 'decu', ddl: 'DECIMAL(20,0) UNSIGNED', values: ['42', 'NULL', '0', '99999999999999999999', '18446744073709551615'],
    expect: 'CAST(decu AS CHAR)', duck: 'DECIMAL(20,0)', py: 'decimal128(20, 0)',
  },
  {
    name: 'dec65', ddl: 'DECIMAL(65,10)',
    values: ['1.5', 'NULL', `-${'9'.repeat(55)}.${'9'.repeat(10)}`, `${'9'.repeat(55)}.${'9'.repeat(10)}`, '0.0000000001'],
    expect: 'CAST(dec65 AS CHAR)', duck: 'DOUBLE', py: 'decimal256(65, 10)', noCsv: true,
  },
  { name: 'dt', ddl: 'DATE', values: ["'2024-02-29'", 'NULL', "'1000-01-01'", "'9999-12-31'", "'1970-01-01'"], expect: "DATE_FORMAT(dt, '%Y-%m-%d')", duck: 'DATE', py: 'date32[day]' },
  // Zero dates (allowed by an empty sql_mode) are exported as NULL, with a warning.
  { name: 'zd', ddl: 'DATE', values: ["'2001-02-03'", 'NULL', "'0000-00-00'", "'2024-00-10'", "'1969-12-31'"], expect: "IF(MONTH(zd) = 0 OR DAY(zd) = 0, NULL, DATE_FORMAT(zd, '%Y-%m-%d'))", duck: 'DATE', py: 'date32[day]' },
  {
    name: 'tm', ddl: 'TIME(6)', values: ["'13:14:15.123456'", 'NULL', "'00:00:00'", "'23:59:59.999999'", "'12:00:00.000001'"],
    expect: "TIME_FORMAT(tm, '%H:%i:%s.%f')", duck: 'TIME', py: 'time64[us]',
  },
  {
    name: 'dtm', ddl: 'DATETIME(6)',
    values: ["'2024-02-29 13:14:15.123456'", 'NULL', "'1000-01-01 00:00:00'", "'9999-12-31 23:59:59.999999'", "'1969-07-20 20:17:40.5'"],
    expect: TS('dtm'), duck: 'TIMESTAMP', py: 'timestamp[us]',
  },
  {
    // Inserted through a +05:30 session: the exported instant must be the UTC one.
    name: 'ts', ddl: 'TIMESTAMP(6) NULL',
    values: ["'2024-03-10 01:30:00.000001'", 'NULL', "'1970-01-01 05:30:01'", "'2038-01-19 08:44:07.999999'", "'2000-01-01 00:00:00'"],
    expect: `CONCAT(${TS('ts')}, 'Z')`, duck: 'TIMESTAMP WITH TIME ZONE', py: 'timestamp[us, tz=UTC]',
  },
  { name: 'yr', ddl: 'YEAR', values: ['2024', 'NULL', '1901', '2155', '0'], expect: 'CAST(yr + 0 AS CHAR)', duck: 'SMALLINT', py: 'int16' },
  { name: 'ch', ddl: 'CHAR(5)', values: ["'ab'", 'NULL', "''", "'abcde'", "'ü'"], expect: 'ch', duck: 'VARCHAR', py: 'string' },
  { name: 'vc', ddl: 'VARCHAR(100)', values: [`'héllo, "wörld"'`, 'NULL', "''", "REPEAT('z', 100)", "'😀 line\\nbreak\\r\\n'"], expect: 'vc', duck: 'VARCHAR', py: 'string' },
  { name: 'tx', ddl: 'LONGTEXT', values: ["'text ✓'", 'NULL', "''", HUGE_TEXT, "'名前'"], expect: 'tx', duck: 'VARCHAR', py: 'string' },
  { name: 'bn', ddl: 'BINARY(4)', values: ["X'00ff0001'", 'NULL', "X''", "X'ffffffff'", "X'0a2c22'"], expect: 'LOWER(HEX(bn))', duck: 'BLOB', py: 'binary' },
  { name: 'vb', ddl: 'VARBINARY(10)', values: ["X'00ff'", 'NULL', "X''", "X'ffffffffffffffffffff'", "X'0a'"], expect: 'LOWER(HEX(vb))', duck: 'BLOB', py: 'binary' },
  { name: 'bl', ddl: 'LONGBLOB', values: ["X'00'", 'NULL', "X''", "UNHEX(REPEAT('ab', 200000))", "X'0a2c22'"], expect: 'LOWER(HEX(bl))', duck: 'BLOB', py: 'binary' },
  {
    // MariaDB's JSON is LONGTEXT with a json_valid check: the text is stored and exported as written.
    name: 'js', ddl: 'JSON', values: [`'{"a" : [1, 2.50], "b":"x y"}'`, 'NULL', "'[]'", `'{"big": 12345678901234567890.123456789}'`, `'"ünï ✓"'`],
    expect: 'js', duck: 'JSON', py: 'extension<arrow.json>',
  },
  { name: 'en', ddl: "ENUM('sad','happy','ünï ✓')", values: ["'happy'", 'NULL', "'sad'", "'happy'", "'ünï ✓'"], expect: 'en', duck: 'VARCHAR', py: 'string' },
  { name: 'st', ddl: "SET('a','b','c')", values: ["'a,c'", 'NULL', "''", "'a,b,c'", "'b'"], expect: 'st', duck: 'VARCHAR', py: 'string' },
  { name: 'b1', ddl: 'BIT(1)', values: ["b'1'", 'NULL', "b'0'", "b'1'", "b'0'"], expect: BOOL('b1'), duck: 'BOOLEAN', py: 'bool' },
  {
    // BIT(n) is an int64 of the big-endian bytes: 64 one bits read as -1.
    name: 'b64', ddl: 'BIT(64)', values: ["b'1010'", 'NULL', '0', `b'${'1'.repeat(64)}'`, `b'0${'1'.repeat(63)}'`],
    expect: 'CAST(CAST(b64 AS UNSIGNED) AS SIGNED)', duck: 'BIGINT', py: 'int64',
  },
  {
    name: 'u', ddl: 'CHAR(36)', override: 'uuid',
    values: ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", 'NULL', "'00000000-0000-0000-0000-000000000000'", "'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF'", "'12345678-1234-1234-1234-123456789abc'"],
    expect: 'LOWER(u)', duck: 'UUID', py: 'extension<arrow.uuid>',
  },
];

let db: string;
const ROWS = 5;

function norm(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  return String(v);
}

function expected(col: Col, value: unknown): unknown {
  if (value === null) return null;
  if (col.cmp) {
    const n = Number(value as string);
    return norm(col.cmp === 'float4' ? Math.fround(n) : n);
  }
  return norm(value);
}

async function expectedRows(): Promise<Record<string, unknown>[]> {
  const conn = await mysql.createConnection({ uri: testMysqlUrl(db), multipleStatements: true });
  try {
    await conn.query("SET time_zone = '+00:00'");
    const [rows] = await conn.query({
      sql: `SELECT CAST(id AS CHAR) AS id, ${COLS.map((c) => `${c.expect} AS \`${c.name}\``).join(', ')} FROM matrix ORDER BY id`,
      typeCast: (field) => field.string('utf8'),
    });
    return (rows as Record<string, unknown>[]).map((r) => {
      const out: Record<string, unknown> = { id: r.id };
      for (const c of COLS) out[c.name] = expected(c, r[c.name]);
      return out;
    });
  } finally {
    await conn.end();
  }
}

function normalised(result: ReadResult, names: string[]): Record<string, unknown>[] {
  return result.rows.map((r) => Object.fromEntries(names.map((n) => [n, norm(r[n])])));
}

beforeAll(async () => {
  db = await freshDatabase('e2e_mytypes');
  const ddl = COLS.map((c) => `\`${c.name}\` ${c.ddl}`).join(',\n      ');
  const inserts = Array.from({ length: ROWS }, (_, row) => `INSERT INTO matrix VALUES (${row + 1}, ${COLS.map((c) => c.values[row]).join(', ')});`).join('\n');
  await mysqlExec(`SET SESSION sql_mode = ''; SET time_zone = '+05:30';
    CREATE TABLE matrix (id INT PRIMARY KEY, ${ddl});
    ${inserts}`, [], db);
}, 60_000);

afterAll(async () => {
  await mysqlExec(`DROP DATABASE IF EXISTS \`${db}\``);
});

interface Export {
  out: string;
  code: number;
  stderr: string;
  parts: string[];
}

/** One `rivet run` to `format`, in a non-UTC process zone so that no local zone can leak into values. */
async function exportMatrix(format: 'parquet' | 'csv', columns: Col[]): Promise<Export> {
  const dir = await mkdtemp(join(tmpdir(), 'rivet-mytypes-'));
  const out = join(dir, 'out');
  const overrides = columns.filter((c) => c.override).map((c) => `      ${c.name}: "${c.override}"`);
  const query = `SELECT id, ${columns.map((c) => `\`${c.name}\``).join(', ')} FROM matrix ORDER BY id`;
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(
    cfg,
    `source:\n  type: mysql\n  url_env: RIVET_MATRIX_MY_URL\n  tls: { mode: disable }\n` +
      `exports:\n  - name: matrix\n    query: "${query}"\n    format: ${format}\n` +
      `    tuning: { batch_size: 2 }\n    destination: { type: local, path: ${out} }\n` +
      (overrides.length > 0 ? `    columns:\n${overrides.join('\n')}\n` : ''),
  );
  const r = await runCli(['run', '-c', cfg], { env: { RIVET_MATRIX_MY_URL: testMysqlUrl(db), TZ: 'Asia/Kolkata' } });
  const parts = r.code === 0 ? (await readdir(out)).filter((f) => f.startsWith('part-')).sort() : [];
  return { out, code: r.code, stderr: r.stderr, parts };
}

describe('MySQL (MariaDB) type matrix through the built CLI', () => {
  it('Parquet: every type reads back from DuckDB and pyarrow as MariaDB renders it', async () => {
    const r = await exportMatrix('parquet', COLS);
    expect(r.stderr).not.toMatch(/ERROR|\n\s+at /);
    expect(r.code, r.stderr).toBe(0);
    // Zero dates are not silently dropped: one warning names the column.
    expect(r.stderr).toMatch(/column "zd" \(MySQL date\) holds zero or invalid dates such as 0000-00-00; they are exported as NULL/);
    expect(r.parts).toEqual(['part-000001.parquet']);
    const file = join(r.out, r.parts[0]);

    const names = ['id', ...COLS.map((c) => c.name)];
    const want = await expectedRows();
    expect(want[2].zd).toBeNull();

    const py = await readWithPyArrow(file);
    const pyTypes = Object.fromEntries(py.columns.map((c) => [c.name, c.type]));
    expect(pyTypes).toEqual({ id: 'int32', ...Object.fromEntries(COLS.map((c) => [c.name, c.py])) });
    expect(normalised(py, names)).toEqual(want);

    const duck = await readWithDuckDB(file);
    const duckTypes = Object.fromEntries(duck.columns.map((c) => [c.name, c.type]));
    expect(duckTypes).toEqual({ id: 'INTEGER', ...Object.fromEntries(COLS.map((c) => [c.name, c.duck])) });
    // DuckDB reads DECIMAL beyond 38 digits as a DOUBLE and, in this version, misreads it
    // (a file pyarrow itself writes with decimal256(65,10) 1.5 reads back as 6442450944), so
    // that one column is left to pyarrow, which checked it exactly above.
    const duckNames = names.filter((n) => n !== 'dec65');
    expect(normalised(duck, duckNames)).toEqual(want.map((row) => Object.fromEntries(duckNames.map((n) => [n, row[n]]))));

    const meta = py.metadata!.fieldMetadata;
    expect(meta.b).toMatchObject({ 'rivet.native_type': 'tinyint(1)', 'rivet.fidelity': 'exact' });
    expect(meta.biu).toMatchObject({ 'rivet.native_type': 'bigint unsigned', 'rivet.fidelity': 'exact' });
    expect(meta.dec).toMatchObject({ 'rivet.native_type': 'decimal', 'rivet.fidelity': 'exact' });
    expect(meta.ts).toMatchObject({ 'rivet.native_type': 'timestamp' });
    expect(meta.dtm).toMatchObject({ 'rivet.native_type': 'datetime' });
    expect(meta.js).toMatchObject({ 'rivet.native_type': 'json', 'rivet.fidelity': 'logical_string', 'rivet.logical_type': 'json' });
    expect(meta.en).toMatchObject({ 'rivet.native_type': 'enum', 'rivet.fidelity': 'compatible', 'rivet.logical_type': 'enum' });
    expect(meta.st).toMatchObject({ 'rivet.native_type': 'set', 'rivet.logical_type': 'enum' });
    expect(meta.b1).toMatchObject({ 'rivet.native_type': 'bit(1)' });
    expect(meta.tx).toMatchObject({ 'rivet.native_type': 'blob' });
    expect(meta.vb).toMatchObject({ 'rivet.native_type': 'varbinary' });
    expect(py.metadata!.logicalTypes).toMatchObject({ u: 'UUID', js: 'JSON' });
    expect(py.metadata!.logicalTypes.ts).toMatch(/isAdjustedToUTC=true/);
    expect(py.metadata!.logicalTypes.dtm).toMatch(/isAdjustedToUTC=false/);
  }, 120_000);

  it('CSV: every CSV-serializable type reads back from DuckDB and pyarrow as MariaDB renders it', async () => {
    const csvCols = COLS.filter((c) => !c.noCsv);
    const r = await exportMatrix('csv', csvCols);
    expect(r.code, r.stderr).toBe(0);
    expect(r.parts).toEqual(['part-000001.csv']);
    const file = join(r.out, r.parts[0]);
    const bytes = await readFile(file);
    const names = ['id', ...csvCols.map((c) => c.name)];
    expect(bytes.toString('utf8').split('\n')[0]).toBe(names.join(','));

    const csvText = (c: string, v: unknown): unknown => {
      if (v === null || v === '') return null;
      if (c === 'ts') return String(v).replace(/Z$/, '');
      return v;
    };
    const want = (await expectedRows()).map((row) => Object.fromEntries(names.map((n) => [n, csvText(n, row[n])])));
    // Float cells are compared as numbers of the column's width.
    const floats = new Map(csvCols.filter((c) => c.cmp).map((c) => [c.name, c.cmp]));
    const cells = (result: ReadResult) =>
      normalised(result, names).map((row) =>
        Object.fromEntries(
          Object.entries(row).map(([k, v]) => {
            if (v === '' || v === null) return [k, null];
            if (floats.has(k)) return [k, norm(floats.get(k) === 'float4' ? Math.fround(Number(v)) : Number(v))];
            return [k, v];
          }),
        ),
      );
    expect(cells(await readWithDuckDB(file, { allVarchar: true }))).toEqual(want);
    expect(cells(await readWithPyArrow(file, { allVarchar: true }))).toEqual(want);

    const lines = bytes.toString('utf8').split('\n');
    expect(lines[1]).toContain(',12345.67,');
    expect(lines[1]).toContain(',2024-03-09T20:00:00.000001,'); // 01:30 at +05:30 = 20:00 UTC the day before
    expect(lines[1]).toContain(',"héllo, ""wörld""",');
    expect(lines[4]).toContain(',18446744073709551615,');
  }, 120_000);
});
