import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { readWithDuckDB, readWithPyArrow, type ReadResult } from '../helpers/readers.js';

/**
 * The PostgreSQL type matrix (docs/reference/types.md) end to end: one column per type, five rows (typical,
 * all NULL, minimum/negative extremes, maximum/huge values, unicode/empty/special values),
 * exported by the built CLI with both read paths (binary cursor and binary COPY) to Parquet
 * and CSV, then read back by DuckDB and pyarrow and compared with what PostgreSQL itself
 * renders for each value.
 */

interface Col {
  name: string;
  ddl: string;
  /** SQL literals for rows 1..5. */
  values: [string, string, string, string, string];
  /** SQL rendering PostgreSQL gives of the expected exported value (text, or text[] for lists). */
  expect: string;
  /** How to compare: text (default), numeric floats, or a value computed in JS from the SQL text. */
  cmp?: 'float4' | 'float8' | 'json';
  /** `columns:` override for the export. */
  override?: string;
  duck: string;
  py: string;
  /** The column cannot go to CSV (docs/reference/types.md): lists, Decimal256. */
  noCsv?: boolean;
}

const TS = (e: string) => `to_char(${e}, 'YYYY-MM-DD"T"HH24:MI:SS.US')`;
const HUGE_TEXT = `repeat('é✓x', 100000)`;

const COLS: Col[] = [
  { name: 'b', ddl: 'bool', values: ['true', 'NULL', 'false', 'true', 'false'], expect: 'b::text', duck: 'BOOLEAN', py: 'bool' },
  { name: 'i2', ddl: 'int2', values: ['12', 'NULL', '-32768', '32767', '0'], expect: 'i2::text', duck: 'SMALLINT', py: 'int16' },
  { name: 'i4', ddl: 'int4', values: ['123456', 'NULL', '-2147483648', '2147483647', '0'], expect: 'i4::text', duck: 'INTEGER', py: 'int32' },
  {
    name: 'i8', ddl: 'int8', values: ['1234567890123', 'NULL', '-9223372036854775808', '9223372036854775807', '0'],
    expect: 'i8::text', duck: 'BIGINT', py: 'int64',
  },
  { name: 'o', ddl: 'oid', values: ['42', 'NULL', '0', '4294967295', '1'], expect: 'o::text', duck: 'BIGINT', py: 'int64' },
  { name: 'f4', ddl: 'float4', values: ['1.5', 'NULL', "'-Infinity'", "'3.4028235e38'", "'NaN'"], expect: 'f4::text', cmp: 'float4', duck: 'FLOAT', py: 'float' },
  { name: 'f8', ddl: 'float8', values: ['0.1', 'NULL', "'-0'", "'1.7976931348623157e308'", "'Infinity'"], expect: 'f8::text', cmp: 'float8', duck: 'DOUBLE', py: 'double' },
  {
    name: 'n', ddl: 'numeric(38,9)',
    values: ['12345.6789', 'NULL', '-99999999999999999999999999999.999999999', '99999999999999999999999999999.999999999', '0.000000001'],
    expect: 'n::text', duck: 'DECIMAL(38,9)', py: 'decimal128(38, 9)',
  },
  {
    name: 'n_big', ddl: 'numeric(60,10)',
    values: ['1.5', 'NULL', `-${'9'.repeat(50)}.${'9'.repeat(10)}`, `${'9'.repeat(50)}.${'9'.repeat(10)}`, '0'],
    expect: 'n_big::text', duck: 'DOUBLE', py: 'decimal256(60, 10)', noCsv: true,
  },
  {
    // Unbounded NUMERIC exports only with an override; fractions beyond the scale are truncated, not rounded.
    name: 'n_free', ddl: 'numeric', override: 'decimal(38,9)',
    values: ['1.5', 'NULL', '-0.1234567899', '12345678901234567890.1234567899', '0'],
    expect: 'trunc(n_free, 9)::numeric(38,9)::text', duck: 'DECIMAL(38,9)', py: 'decimal128(38, 9)',
  },
  { name: 'd', ddl: 'date', values: ["'2024-02-29'", 'NULL', "'0001-01-01'", "'9999-12-31'", "'1970-01-01'"], expect: 'd::text', duck: 'DATE', py: 'date32[day]' },
  {
    name: 't', ddl: 'time', values: ["'13:14:15.123456'", 'NULL', "'00:00:00'", "'23:59:59.999999'", "'12:00:00.000001'"],
    expect: `to_char(t, 'HH24:MI:SS.US')`, duck: 'TIME', py: 'time64[us]',
  },
  {
    name: 'ts', ddl: 'timestamp',
    values: ["'2024-02-29 13:14:15.123456'", 'NULL', "'0001-01-01 00:00:00'", "'9999-12-31 23:59:59.999999'", "'1969-07-20 20:17:40.5'"],
    expect: TS('ts'), duck: 'TIMESTAMP', py: 'timestamp[us]',
  },
  {
    // Inserted through a New York session: the exported instant must be the UTC one.
    name: 'tstz', ddl: 'timestamptz',
    values: ["'2024-03-10 01:30:00.000001'", 'NULL', "'0001-01-01 00:00:00+00'", "'9999-12-31 23:59:59.999999+00'", "'1969-12-31 18:59:59.999999'"],
    expect: `${TS("tstz AT TIME ZONE 'UTC'")} || 'Z'`, duck: 'TIMESTAMP WITH TIME ZONE', py: 'timestamp[us, tz=UTC]',
  },
  { name: 'txt', ddl: 'text', values: ["'héllo, \"wörld\"'", 'NULL', "''", HUGE_TEXT, "E'😀 line\\nbreak\\r\\n'"], expect: 'txt', duck: 'VARCHAR', py: 'string' },
  { name: 'vc', ddl: 'varchar(20)', values: ["'abc'", 'NULL', "''", "repeat('z', 20)", "'ünïcödé'"], expect: 'vc', duck: 'VARCHAR', py: 'string' },
  { name: 'bp', ddl: 'char(5)', values: ["'ab'", 'NULL', "''", "'abcde'", "'ü'"], expect: 'rpad(bp::text, 5)', duck: 'VARCHAR', py: 'string' },
  { name: 'nm', ddl: 'name', values: ["'some_name'", 'NULL', "''", "repeat('n', 63)", "'名前'"], expect: 'nm::text', duck: 'VARCHAR', py: 'string' },
  {
    name: 'by', ddl: 'bytea', values: ["'\\x00ff0001'", 'NULL', "'\\x'", "decode(repeat('ab', 200000), 'hex')", "'\\x0a2c22'"],
    expect: "encode(by, 'hex')", duck: 'BLOB', py: 'binary',
  },
  {
    name: 'js', ddl: 'json', values: [`'{"a" : [1, 2.50], "b":"x y"}'`, 'NULL', "'[]'", `'{"big": 12345678901234567890.123456789}'`, `'"ünï ✓"'`],
    expect: 'js::text', cmp: 'json', duck: 'JSON', py: 'extension<arrow.json>',
  },
  {
    name: 'jb', ddl: 'jsonb', values: [`'{"b": 1, "a": "x\\" y"}'`, 'NULL', "'{}'", `'{"n": 1e300, "s": "${'é'.repeat(1000)}"}'`, "'null'"],
    expect: 'jb::text', cmp: 'json', duck: 'JSON', py: 'extension<arrow.json>',
  },
  {
    name: 'u', ddl: 'uuid',
    values: ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", 'NULL', "'00000000-0000-0000-0000-000000000000'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'", "'12345678-1234-1234-1234-123456789abc'"],
    expect: 'u::text', duck: 'UUID', py: 'extension<arrow.uuid>',
  },
  { name: 'e', ddl: 'SCHEMA.mood', values: ["'happy'", 'NULL', "'sad'", "'happy'", "'ünï ✓'"], expect: 'e::text', duck: 'VARCHAR', py: 'string' },
  { name: 'dom_i', ddl: 'SCHEMA.posint', values: ['1', 'NULL', '1', '2147483647', '42'], expect: 'dom_i::text', duck: 'INTEGER', py: 'int32' },
  { name: 'dom_t', ddl: 'SCHEMA.code', values: ["'A-1'", 'NULL', "''", "'ZZZZZZZZZZ'", "'ü'"], expect: 'dom_t::text', duck: 'VARCHAR', py: 'string' },
  {
    name: 'arr_i', ddl: 'int4[]', values: ["'{1,NULL,3}'", 'NULL', "'{}'", "'{-2147483648,2147483647}'", "'{NULL}'"],
    expect: 'arr_i::text[]', duck: 'INTEGER[]', py: 'list<item: int32>', noCsv: true,
  },
  {
    name: 'arr_t', ddl: 'text[]', values: [`'{"x",NULL,""}'`, 'NULL', "'{}'", `ARRAY[${HUGE_TEXT}]`, `'{"a,b","ü ✓"}'`],
    expect: 'arr_t', duck: 'VARCHAR[]', py: 'list<item: string>', noCsv: true,
  },
  {
    name: 'arr_u', ddl: 'uuid[]', values: ["'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}'", 'NULL', "'{}'", "'{ffffffff-ffff-ffff-ffff-ffffffffffff}'", "'{NULL}'"],
    expect: 'arr_u::text[]', duck: 'UUID[]', py: 'list<item: extension<arrow.uuid>>', noCsv: true,
  },
  {
    name: 'arr_n', ddl: 'numeric(10,2)[]', values: ["'{1.5,NULL,-2.25}'", 'NULL', "'{}'", "'{99999999.99}'", "'{0}'"],
    expect: 'arr_n::text[]', duck: 'DECIMAL(10,2)[]', py: 'list<item: decimal128(10, 2)>', noCsv: true,
  },
  {
    name: 'arr_d', ddl: 'date[]', values: ["'{2024-02-29,NULL}'", 'NULL', "'{}'", "'{9999-12-31,0001-01-01}'", "'{1970-01-01}'"],
    expect: 'arr_d::text[]', duck: 'DATE[]', py: 'list<item: date32[day]>', noCsv: true,
  },
  {
    name: 'arr_e', ddl: 'SCHEMA.mood[]', values: ["'{happy,NULL,sad}'", 'NULL', "'{}'", "'{sad}'", `'{"ünï ✓"}'`],
    expect: 'arr_e::text[]', duck: 'VARCHAR[]', py: 'list<item: string>', noCsv: true,
  },
  // Types autodetect rejects (docs/reference/types.md) that a `string` override exports as the server's own text
  // (its output function, which format('%s') uses; the inet→text cast differs: it adds /32).
  {
    name: 'ip', ddl: 'inet', override: 'string',
    values: ["'192.168.0.1'", 'NULL', "'10.0.0.0/8'", "'2001:db8::ff00:42:8329/64'", "'::ffff:1.2.3.4'"],
    expect: "NULLIF(format('%s', ip), '')", duck: 'VARCHAR', py: 'string',
  },
  { name: 'net', ddl: 'cidr', override: 'string', values: ["'192.168.0.0/24'", 'NULL', "'::/0'", "'2001:db8:0:0:1::/80'", "'1:0:0:1::/64'"], expect: "NULLIF(format('%s', net), '')", duck: 'VARCHAR', py: 'string' },
  { name: 'mac', ddl: 'macaddr', override: 'string', values: ["'08:00:2b:01:02:03'", 'NULL', "'00:00:00:00:00:00'", "'ff:ff:ff:ff:ff:ff'", "'0800.2b01.0203'"], expect: 'mac::text', duck: 'VARCHAR', py: 'string' },
  { name: 'mac8', ddl: 'macaddr8', override: 'string', values: ["'08:00:2b:01:02:03:04:05'", 'NULL', "'00:00:00:00:00:00:00:00'", "'ff:ff:ff:ff:ff:ff:ff:ff'", "'08:00:2b:01:02:03'"], expect: 'mac8::text', duck: 'VARCHAR', py: 'string' },
  { name: 'bits', ddl: 'bit(10)', override: 'string', values: ["B'1010101010'", 'NULL', "B'0000000000'", "B'1111111111'", "B'0000000001'"], expect: 'bits::text', duck: 'VARCHAR', py: 'string' },
  { name: 'vbits', ddl: 'varbit', override: 'string', values: ["B'101'", 'NULL', "B''", `B'${'10'.repeat(500)}'`, "B'1'"], expect: 'vbits::text', duck: 'VARCHAR', py: 'string' },
  {
    name: 'ttz', ddl: 'timetz', override: 'string',
    values: ["'13:14:15.123456+02'", 'NULL', "'00:00:00+00'", "'23:59:59.999999-15:59'", "'12:00:00.5+05:30'"],
    expect: 'ttz::text', duck: 'VARCHAR', py: 'string',
  },
  { name: 'x', ddl: 'xml', override: 'string', values: ["'<a b=\"1\">x</a>'", 'NULL', "''", "('<r>' || repeat('<i>ü</i>', 1000) || '</r>')::xml", "'text ✓'"], expect: 'x::text', duck: 'VARCHAR', py: 'string' },
  {
    name: 'span', ddl: 'daterange', override: 'string',
    values: ["'[2024-01-01,2024-02-01)'", 'NULL', "'empty'", "'(,infinity]'", "'[0044-03-15 BC,0001-01-01)'"],
    expect: "NULLIF(format('%s', span), '')", duck: 'VARCHAR', py: 'string',
  },
  {
    // money is a count of minor units; a decimal override exports it exactly.
    name: 'cash', ddl: 'money', override: 'decimal(19,2)',
    values: ["'12.34'", 'NULL', "'-92233720368547758.08'", "'92233720368547758.07'", "'0'"],
    expect: 'cash::numeric(19,2)::text', duck: 'DECIMAL(19,2)', py: 'decimal128(19, 2)',
  },
  { name: 'ch', ddl: '"char"', override: 'string', values: ["'a'", 'NULL', "'z'", "'Z'", "'0'"], expect: 'ch::text', duck: 'VARCHAR', py: 'string' },
];

const INTERVALS: [string, string | null][] = [
  ["'1 year 2 months 3 days 04:05:06.789'", 'P1Y2M3DT4H5M6.789000S'],
  ['NULL', null],
  ["'-1 days -00:00:01.5'", 'P-1DT-1.500000S'],
  ["'178000000 years'", 'P178000000Y'],
  ["'0 seconds'", 'PT0S'],
];

let schema: string;
const ROWS = 5;

/** Remove insignificant JSON whitespace (outside strings), as the exporter does. */
function compactJson(s: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      out += c;
      if (c === '\\') out += s[++i];
      else if (c === '"') inString = false;
    } else if (c !== ' ' && c !== '\n' && c !== '\t' && c !== '\r') {
      out += c;
      if (c === '"') inString = true;
    }
  }
  return out;
}

/** One reader value in a comparable shape: text for scalars, arrays element-wise. */
function norm(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.map(norm);
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  return String(v);
}

function expected(col: Col, pgValue: unknown): unknown {
  if (pgValue === null) return null;
  if (col.cmp === 'float4' || col.cmp === 'float8') {
    const n = Number(pgValue as string);
    return norm(col.cmp === 'float4' ? Math.fround(n) : n);
  }
  if (col.cmp === 'json') return compactJson(pgValue as string);
  return norm(pgValue);
}

async function expectedRows(): Promise<Record<string, unknown>[]> {
  const rows = await pgExec(`SELECT id, ${COLS.map((c) => `${c.expect} AS ${c.name}`).join(', ')} FROM ${schema}.matrix ORDER BY id`);
  return rows.map((r) => {
    const out: Record<string, unknown> = {};
    for (const c of COLS) out[c.name] = expected(c, r[c.name]);
    out.iv = INTERVALS[Number(r.id) - 1][1];
    return out;
  });
}

function normalised(result: ReadResult, names: string[]): Record<string, unknown>[] {
  return result.rows.map((r) => Object.fromEntries(names.map((n) => [n, norm(r[n])])));
}

beforeAll(async () => {
  schema = await freshSchema('e2e_types');
  const ddl = COLS.map((c) => `${c.name} ${c.ddl.replace('SCHEMA', schema)}`).join(',\n      ');
  await pgExec(`
    CREATE TYPE ${schema}.mood AS ENUM ('sad', 'happy', 'ünï ✓');
    CREATE DOMAIN ${schema}.posint AS int4 CHECK (VALUE > 0);
    CREATE DOMAIN ${schema}.code AS varchar(10);
    CREATE TABLE ${schema}.matrix (id int4 PRIMARY KEY, ${ddl}, iv interval)`);
  const c = new pg.Client({ connectionString: testPgUrl() });
  await c.connect();
  try {
    await c.query("SET TimeZone = 'America/New_York'");
    for (let row = 0; row < ROWS; row++) {
      const values = COLS.map((col) => col.values[row]).join(', ');
      await c.query(`INSERT INTO ${schema}.matrix VALUES (${row + 1}, ${values}, ${INTERVALS[row][0]})`);
    }
  } finally {
    await c.end();
  }
}, 60_000);

interface Export {
  out: string;
  code: number;
  stderr: string;
  parts: string[];
}

/**
 * One `rivet run` of `query` to `format`. The process runs in a non-UTC zone (TZ and PGTZ)
 * so that neither the CLI's nor the server session's zone can leak into values.
 */
async function exportMatrix(format: 'parquet' | 'csv', method: 'cursor' | 'copy', columns: Col[], extra = ''): Promise<Export> {
  const dir = await mkdtemp(join(tmpdir(), 'rivet-types-'));
  const out = join(dir, 'out');
  const overrides = columns.filter((c) => c.override).map((c) => `      ${c.name}: "${c.override}"`);
  const query = `SELECT id, ${columns.map((c) => c.name).join(', ')}, iv FROM ${schema}.matrix ORDER BY id`;
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(
    cfg,
    `source:\n  type: postgres\n  url_env: RIVET_MATRIX_PG_URL\n  tls: { mode: disable }\n` +
      `exports:\n  - name: matrix\n    query: "${query}"\n    format: ${format}\n` +
      `    tuning: { batch_size: 2 }\n    destination: { type: local, path: ${out} }\n` +
      (overrides.length > 0 ? `    columns:\n${overrides.join('\n')}\n` : '') +
      extra,
  );
  const r = await runCli(['run', '-c', cfg], { env: { RIVET_MATRIX_PG_URL: testPgUrl(), RIVET_PG_READ_METHOD: method, TZ: 'Asia/Kolkata', PGTZ: 'America/Los_Angeles' } });
  const parts = r.code === 0 ? (await readdir(out)).filter((f) => f.startsWith('part-')).sort() : [];
  return { out, code: r.code, stderr: r.stderr, parts };
}

describe('PostgreSQL type matrix through the built CLI', () => {
  it('Parquet: every type reads back from DuckDB and pyarrow as PostgreSQL renders it; cursor and COPY write identical bytes', async () => {
    const cursor = await exportMatrix('parquet', 'cursor', COLS);
    expect(cursor.stderr).not.toMatch(/WARN|ERROR|\n\s+at /);
    expect(cursor.code).toBe(0);
    const copy = await exportMatrix('parquet', 'copy', COLS);
    expect(copy.code).toBe(0);
    expect(cursor.parts).toEqual(['part-000001.parquet']);
    expect(copy.parts).toEqual(cursor.parts);
    const file = join(cursor.out, cursor.parts[0]);
    expect((await readFile(join(copy.out, copy.parts[0]))).equals(await readFile(file))).toBe(true);

    const names = ['id', ...COLS.map((c) => c.name), 'iv'];
    const want: Record<string, unknown>[] = (await expectedRows()).map((r, i) => ({ id: String(i + 1), ...r }));

    const py = await readWithPyArrow(file);
    const pyTypes = Object.fromEntries(py.columns.map((c) => [c.name, c.type]));
    expect(pyTypes).toEqual({ id: 'int32', ...Object.fromEntries(COLS.map((c) => [c.name, c.py])), iv: 'string' });
    expect(normalised(py, names)).toEqual(want);

    const duck = await readWithDuckDB(file);
    const duckTypes = Object.fromEntries(duck.columns.map((c) => [c.name, c.type]));
    expect(duckTypes).toEqual({ id: 'INTEGER', ...Object.fromEntries(COLS.map((c) => [c.name, c.duck])), iv: 'VARCHAR' });
    // DuckDB reads DECIMAL beyond 38 digits as DOUBLE and gets the value wrong even for files
    // pyarrow writes itself (decimal256(60,10) 1.5 reads as 422212465065984), so n_big is
    // checked by pyarrow above only.
    const withoutBig = (rows: Record<string, unknown>[]) => rows.map(({ n_big: _ignored, ...rest }) => rest);
    expect(withoutBig(normalised(duck, names))).toEqual(withoutBig(want));

    // Field metadata carries the native type and fidelity (docs/reference/types.md).
    const meta = py.metadata!.fieldMetadata;
    expect(meta.n).toMatchObject({ 'rivet.native_type': 'numeric', 'rivet.fidelity': 'exact' });
    expect(meta.jb).toMatchObject({ 'rivet.native_type': 'jsonb', 'rivet.fidelity': 'logical_string', 'rivet.logical_type': 'json' });
    expect(meta.e).toMatchObject({ 'rivet.native_type': 'mood', 'rivet.fidelity': 'compatible', 'rivet.logical_type': 'enum' });
    expect(meta.iv).toMatchObject({ 'rivet.native_type': 'interval', 'rivet.fidelity': 'compatible', 'rivet.logical_type': 'interval' });
    // The server describes domain columns by their base type.
    expect(meta.dom_i).toMatchObject({ 'rivet.native_type': 'int4', 'rivet.fidelity': 'exact' });
    expect(meta.arr_i).toMatchObject({ 'rivet.native_type': '_int4', 'rivet.fidelity': 'compatible' });
    expect(meta.ip).toMatchObject({ 'rivet.native_type': 'inet', 'rivet.fidelity': 'exact' });
    expect(py.metadata!.logicalTypes).toMatchObject({ u: 'UUID', js: 'JSON', jb: 'JSON' });
    expect(py.metadata!.logicalTypes.tstz).toMatch(/isAdjustedToUTC=true/);
    expect(py.metadata!.logicalTypes.ts).toMatch(/isAdjustedToUTC=false/);
  }, 120_000);

  it('CSV: every CSV-serializable type renders as docs/reference/types.md says; cursor and COPY write identical bytes', async () => {
    const csvCols = COLS.filter((c) => !c.noCsv);
    const cursor = await exportMatrix('csv', 'cursor', csvCols);
    expect(cursor.stderr).not.toMatch(/WARN|ERROR|\n\s+at /);
    expect(cursor.code).toBe(0);
    const copy = await exportMatrix('csv', 'copy', csvCols);
    expect(copy.code).toBe(0);
    expect(cursor.parts).toEqual(['part-000001.csv']);
    const file = join(cursor.out, cursor.parts[0]);
    const bytes = await readFile(file);
    expect((await readFile(join(copy.out, copy.parts[0]))).equals(bytes)).toBe(true);

    const names = ['id', ...csvCols.map((c) => c.name), 'iv'];
    expect(bytes.toString('utf8').split('\n')[0]).toBe(names.join(','));
    // CSV cells: no `Z` on instants, floats as inf/-inf/NaN, and an empty string reads like NULL.
    const csvText = (c: string, v: unknown): unknown => {
      if (v === null || v === '') return null;
      const col = COLS.find((x) => x.name === c);
      if (col?.cmp === 'float4' || col?.cmp === 'float8') return v === 'Infinity' ? 'inf' : v === '-Infinity' ? '-inf' : v;
      if (c === 'tstz') return String(v).replace(/Z$/, '');
      return v;
    };
    const want = (await expectedRows()).map((r, i) =>
      Object.fromEntries(names.map((n) => [n, n === 'id' ? String(i + 1) : csvText(n, r[n])])),
    );
    // Float cells are plain decimals (never exponent notation); compare them as numbers.
    const floats = new Map(csvCols.filter((c) => c.cmp === 'float4' || c.cmp === 'float8').map((c) => [c.name, c.cmp]));
    const cells = (result: ReadResult) =>
      normalised(result, names).map((r) =>
        Object.fromEntries(
          Object.entries(r).map(([k, v]) => {
            if (v === '' || v === null) return [k, null];
            if (floats.has(k) && v !== 'inf' && v !== '-inf' && v !== 'NaN') {
              const n = Number(v);
              return [k, norm(floats.get(k) === 'float4' ? Math.fround(n) : n)];
            }
            return [k, v];
          }),
        ),
      );
    const duck = await readWithDuckDB(file, { allVarchar: true });
    expect(cells(duck)).toEqual(want);
    const py = await readWithPyArrow(file, { allVarchar: true });
    expect(cells(py)).toEqual(want);

    // Spot checks on the exact cell text.
    const lines = bytes.toString('utf8').split('\n');
    expect(lines[1]).toContain(',12345.678900000,');
    expect(lines[1]).toContain(',2024-03-10T06:30:00.000001,'); // 01:30 New York (EST) = 06:30 UTC
    expect(lines[1]).toContain(',"héllo, ""wörld""",');
    expect(lines[3]).toContain(',-0,');
    expect(lines[4]).toContain(',340282350000000000000000000000000000000,');
    expect(lines[4]).toContain(`,17976931348623157${'0'.repeat(292)},`);
  }, 120_000);

  it('CSV refuses list and Decimal256 columns before writing anything, naming the column and its Arrow type', async () => {
    const r = await exportMatrix('csv', 'cursor', COLS.filter((c) => c.name === 'arr_i' || c.name === 'b'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/column "arr_i" has Arrow type .*List.* no CSV representation/);
    expect(r.stderr).toMatch(/format: parquet/);
    expect((await readdir(r.out).catch(() => [] as string[])).filter((f) => f.startsWith('part-') || f === '_SUCCESS')).toEqual([]);
  }, 60_000);
});

describe('PostgreSQL values and types without a mapping fail before any data is written', () => {
  let dir: string;

  async function run(query: string, columns: Record<string, string> = {}, method: 'cursor' | 'copy' = 'cursor') {
    dir = await mkdtemp(join(tmpdir(), 'rivet-types-bad-'));
    const out = join(dir, 'out');
    const cols = Object.entries(columns).map(([k, v]) => `      ${k}: "${v}"`);
    const cfg = join(dir, 'rivet.yaml');
    await writeFile(
      cfg,
      `source:\n  type: postgres\n  url: ${testPgUrl()}\n  tls: { mode: disable }\nexports:\n  - name: bad\n    query: "${query}"\n    format: parquet\n` +
        `    destination: { type: local, path: ${out} }\n` +
        (cols.length > 0 ? `    columns:\n${cols.join('\n')}\n` : ''),
    );
    const r = await runCli(['run', '-c', cfg], { env: { RIVET_PG_READ_METHOD: method } });
    const written = await readdir(out).catch(() => [] as string[]);
    return { ...r, written, out };
  }

  it('lists every unmappable column with its PG type and the `columns:` override (or SQL cast) that fixes it', async () => {
    await pgExec(`CREATE TABLE IF NOT EXISTS ${schema}.unmapped (id int4, amount numeric, addr inet, span tsrange, pos point, cash money)`);
    await pgExec(`INSERT INTO ${schema}.unmapped VALUES (1, 1.5, '10.0.0.1', '[2024-01-01,2024-02-01)', '(1,2)', 12.5)`);
    const r = await run(`SELECT * FROM ${schema}.unmapped`);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/5 columns cannot be mapped safely/);
    expect(r.stderr).toContain('"amount" (PG type numeric:');
    expect(r.stderr).toContain('"addr" (PG type inet:');
    expect(r.stderr).toContain('"span" (PG type tsrange:');
    expect(r.stderr).toContain('"pos" (PG type point:');
    expect(r.stderr).toContain('"cash" (PG type money:');
    expect(r.stderr).toContain('columns: { amount: "decimal(38,9)", addr: "string", span: "string", cash: "decimal(19,2)" }');
    expect(r.stderr).toContain('SELECT pos::text AS pos');
    expect(r.written).toEqual([]);

    // The suggested fix works.
    const fixed = await run(`SELECT id, amount, addr FROM ${schema}.unmapped`, { amount: 'decimal(38,9)', addr: 'string' });
    expect(fixed.code).toBe(0);
    const py = await readWithPyArrow(join(fixed.out, 'part-000001.parquet'));
    expect(py.rows).toEqual([{ id: 1, amount: '1.500000000', addr: '10.0.0.1' }]);
  }, 60_000);

  for (const method of ['cursor', 'copy'] as const) {
    it(`NUMERIC NaN/Infinity under a decimal override fail naming the column and the string override (${method}); the string override exports them`, async () => {
      const q = `SELECT x AS amount FROM (VALUES (1.5::numeric), ('NaN'::numeric), ('Infinity'::numeric), ('-Infinity'::numeric)) v(x)`;
      const bad = await run(q, { amount: 'decimal(10,2)' }, method);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/column "amount" \(PG type numeric\): a PostgreSQL NUMERIC NaN value is not supported/);
      expect(bad.stderr).toContain('columns: { amount: string }');
      expect(bad.written.filter((f) => f.startsWith('part-') || f === '_SUCCESS')).toEqual([]);

      const ok = await run(q, { amount: 'string' }, method);
      expect(ok.code).toBe(0);
      const py = await readWithPyArrow(join(ok.out, 'part-000001.parquet'));
      expect(py.rows.map((r) => r.amount)).toEqual(['1.5', 'NaN', 'Infinity', '-Infinity']);
    }, 60_000);

    it(`timestamp and date ±infinity fail naming the column (${method})`, async () => {
      for (const [col, lit] of [['ts', "'infinity'::timestamp"], ['tstz', "'-infinity'::timestamptz"], ['d', "'infinity'::date"]]) {
        const r = await run(`SELECT ${lit} AS ${col}`, {}, method);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`column "${col}" \\(PG type \\w+\\): the (timestamp|date) -?infinity has no Arrow representation`));
        expect(r.stderr).toContain(`NULLIF(${col}, 'infinity')`);
      }
    }, 60_000);

    it(`multi-dimensional arrays fail naming the column (${method})`, async () => {
      const r = await run(`SELECT '{{1,2},{3,4}}'::int4[] AS grid`, {}, method);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/column "grid" \(PG type _int4\): a 2-dimensional array cannot be mapped to a list/);
    }, 60_000);
  }
});
