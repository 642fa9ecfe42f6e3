import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshDatabase, mysqlExec, testMysqlUrl } from '../helpers/mysql.js';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { readWithPyArrow, type PyArrowReadResult } from '../helpers/readers.js';

/**
 * One logical table, created on PostgreSQL and on MariaDB with each engine's natural DDL and
 * the same rows (typical, all NULL, minima, maxima, unicode/empty), exported to Parquet by the
 * built CLI and read back with pyarrow. Columns in AGREED must have the same Arrow type,
 * Parquet logical type and values on both engines; columns in DIFFERENCES must differ exactly
 * as documented in docs/reference/types.md ("PostgreSQL vs MySQL/MariaDB: the same table in
 * Parquet"), and that doc section may name no other column.
 */

interface Col {
  name: string;
  pg: string;
  my: string;
  /** SQL literals for rows 1..5, valid on both engines unless `pgValues` / `myValues` say otherwise. */
  values: [string, string, string, string, string];
  pgValues?: [string, string, string, string, string];
  myValues?: [string, string, string, string, string];
}

const BIG_DEC = `${'9'.repeat(28)}.${'9'.repeat(10)}`;
const COLS: Col[] = [
  { name: 'b', pg: 'boolean', my: 'BOOL', values: ['true', 'NULL', 'false', 'true', 'false'], myValues: ['1', 'NULL', '0', '1', '0'] },
  { name: 'si', pg: 'smallint', my: 'SMALLINT', values: ['1234', 'NULL', '-32768', '32767', '0'] },
  { name: 'i', pg: 'integer', my: 'INT', values: ['123456', 'NULL', '-2147483648', '2147483647', '0'] },
  { name: 'bi', pg: 'bigint', my: 'BIGINT', values: ['1234567890123', 'NULL', '-9223372036854775808', '9223372036854775807', '9007199254740993'] },
  { name: 'd12', pg: 'numeric(12,2)', my: 'DECIMAL(12,2)', values: ['12345.67', 'NULL', '-9999999999.99', '9999999999.99', '0.01'] },
  { name: 'd38', pg: 'numeric(38,10)', my: 'DECIMAL(38,10)', values: ['12345.6789', 'NULL', `-${BIG_DEC}`, BIG_DEC, '0.0000000001'] },
  { name: 'r', pg: 'real', my: 'FLOAT', values: ['1.5', 'NULL', '-3.40282e38', '3.40282e38', '1.17549e-38'] },
  { name: 'dp', pg: 'double precision', my: 'DOUBLE', values: ['0.1', 'NULL', '-1.7976931348623157e308', '1.7976931348623157e308', '2.2250738585072014e-308'] },
  { name: 'dt', pg: 'date', my: 'DATE', values: ["'2024-02-29'", 'NULL', "'1000-01-01'", "'9999-12-31'", "'1970-01-01'"] },
  {
    name: 'ts', pg: 'timestamp(6)', my: 'DATETIME(6)',
    values: ["'2024-02-29 13:14:15.123456'", 'NULL', "'1000-01-01 00:00:00'", "'9999-12-31 23:59:59.999999'", "'1970-01-01 00:00:00.000001'"],
  },
  {
    // MariaDB's TIMESTAMP range is 1970-01-01 00:00:01 .. 2038-01-19 03:14:07.999999 UTC.
    name: 'tstz', pg: 'timestamptz(6)', my: 'TIMESTAMP(6) NULL',
    values: ["'2024-02-29 13:14:15.123456'", 'NULL', "'1970-01-01 00:00:01'", "'2038-01-19 03:14:07.999999'", "'2000-01-01 00:00:00.000001'"],
  },
  { name: 'tm', pg: 'time(6)', my: 'TIME(6)', values: ["'13:14:15.123456'", 'NULL', "'00:00:00'", "'23:59:59.999999'", "'12:00:00.000001'"] },
  { name: 'vc', pg: 'varchar(50)', my: 'VARCHAR(50)', values: ["'hello'", 'NULL', "''", "'é✓😀 ünïcödé'", "' trailing  '"] },
  { name: 'tx', pg: 'text', my: 'TEXT', values: ["'some text'", 'NULL', "''", `'${'é✓x'.repeat(10000)}'`, "'line1\nline2'"] },
  {
    name: 'bin', pg: 'bytea', my: 'VARBINARY(100)', values: ['', '', '', '', ''],
    pgValues: ["'\\x0001ff'::bytea", 'NULL', "''::bytea", "'\\xdeadbeef00'::bytea", "'\\x00'::bytea"],
    myValues: ["X'0001ff'", 'NULL', "X''", "X'deadbeef00'", "X'00'"],
  },
  // Written in jsonb's canonical form (no spaces, keys ordered by length then bytes) so both engines hold the same text.
  {
    name: 'js', pg: 'jsonb', my: 'JSON',
    values: [`'{"a":1,"b":[true,null]}'`, 'NULL', `'{}'`, `'{"k":"é✓","nested":{"x":[1.5,"s"]}}'`, `'[]'`],
  },
  {
    name: 'u', pg: 'uuid', my: 'UUID',
    values: ["'6f9619ff-8b86-d011-b42d-00c04fc964ff'", 'NULL', "'00000000-0000-0000-0000-000000000000'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'", "'123e4567-e89b-12d3-a456-426614174000'"],
  },
  // Spacing and key order as a person writes them: jsonb normalises, MariaDB keeps the text.
  {
    name: 'jsw', pg: 'jsonb', my: 'JSON',
    values: [`'{"b": 1, "a": [2, 3]}'`, 'NULL', `'{ }'`, `'{"zz": "é✓", "a": {"y": 1, "x": 2}}'`, `'[1,  2]'`],
  },
  // The common MySQL spelling of a UUID column before MariaDB 10.7's UUID type.
  {
    name: 'uc', pg: 'uuid', my: 'CHAR(36)',
    values: ["'6f9619ff-8b86-d011-b42d-00c04fc964ff'", 'NULL', "'00000000-0000-0000-0000-000000000000'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'", "'123e4567-e89b-12d3-a456-426614174000'"],
  },
];

const DOC = fileURLToPath(new URL('../../docs/reference/types.md', import.meta.url));
const DOC_SECTION = '## PostgreSQL vs MySQL/MariaDB: the same table in Parquet';

let schema = '';
let db = '';
let pgFile: PyArrowReadResult;
let myFile: PyArrowReadResult;
let myUuidOverride: PyArrowReadResult;

function rowsSql(engine: 'pg' | 'my'): string {
  const rows: string[] = [];
  for (let r = 0; r < 5; r++) {
    const cells = COLS.map((c) => (engine === 'pg' ? (c.pgValues ?? c.values) : (c.myValues ?? c.values))[r]);
    rows.push(`(${r + 1}, ${cells.join(', ')})`);
  }
  return rows.join(',\n');
}

async function exportTo(engine: 'pg' | 'my', columns = ''): Promise<PyArrowReadResult> {
  const dir = await mkdtemp(join(tmpdir(), `rivet-xeng-${engine}-`));
  const out = join(dir, 'out');
  const cfg = join(dir, 'rivet.yaml');
  const table = engine === 'pg' ? `${schema}.same_table` : 'same_table';
  const query = `SELECT id, ${COLS.map((c) => c.name).join(', ')} FROM ${table} ORDER BY id`;
  await writeFile(
    cfg,
    `source:\n  type: ${engine === 'pg' ? 'postgres' : 'mysql'}\n  url_env: RIVET_XENG_URL\n  tls: { mode: disable }\n` +
      `exports:\n  - name: same\n    query: "${query}"\n    format: parquet\n    destination: { type: local, path: ${out} }\n` +
      (columns ? `    columns: { ${columns} }\n` : ''),
  );
  const url = engine === 'pg' ? testPgUrl() : testMysqlUrl(db);
  const r = await runCli(['run', '-c', cfg], { env: { RIVET_XENG_URL: url, TZ: 'Asia/Kolkata' } });
  expect(r.code, r.stderr).toBe(0);
  const parts = (await readdir(out)).filter((f) => f.startsWith('part-'));
  expect(parts).toHaveLength(1);
  return readWithPyArrow(join(out, parts[0]!));
}

beforeAll(async () => {
  schema = await freshSchema('xeng');
  await pgExec(
    `SET TimeZone = 'UTC'; CREATE TABLE ${schema}.same_table (id int PRIMARY KEY, ${COLS.map((c) => `${c.name} ${c.pg}`).join(', ')});
     INSERT INTO ${schema}.same_table VALUES ${rowsSql('pg')}`,
  );
  db = await freshDatabase('xeng');
  await mysqlExec(
    `SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_BACKSLASH_ESCAPES';
     CREATE TABLE same_table (id INT PRIMARY KEY, ${COLS.map((c) => `${c.name} ${c.my}`).join(', ')}) CHARACTER SET utf8mb4;
     INSERT INTO same_table VALUES ${rowsSql('my')}`,
    [],
    db,
  );
  [pgFile, myFile] = await Promise.all([exportTo('pg'), exportTo('my')]);
  myUuidOverride = await exportTo('my', 'u: uuid, uc: uuid');
}, 120_000);

afterAll(async () => {
  if (schema) await pgExec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  if (db) await mysqlExec(`DROP DATABASE IF EXISTS \`${db}\``);
});

/** Columns whose Parquet schema and values are the same from both engines, with the Arrow type they share. */
const AGREED: Record<string, string> = {
  id: 'int32',
  b: 'bool',
  si: 'int16',
  i: 'int32',
  bi: 'int64',
  d12: 'decimal128(12, 2)',
  d38: 'decimal128(38, 10)',
  r: 'float',
  dp: 'double',
  dt: 'date32[day]',
  ts: 'timestamp[us]',
  tstz: 'timestamp[us, tz=UTC]',
  tm: 'time64[us]',
  vc: 'string',
  tx: 'string',
  bin: 'binary',
  js: 'extension<arrow.json>',
};

interface Side {
  arrow: string;
  physical: string;
  logical: string;
  /** rivet.logical_type field metadata, or undefined when absent. */
  rivetLogical: string | undefined;
  values?: unknown[];
}

const UUIDS = ['6f9619ff-8b86-d011-b42d-00c04fc964ff', null, '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '123e4567-e89b-12d3-a456-426614174000'];
const PG_UUID: Side = { arrow: 'extension<arrow.uuid>', physical: 'FIXED_LEN_BYTE_ARRAY', logical: 'UUID', rivetLogical: 'uuid', values: UUIDS };
const MY_UUID_TEXT: Side = { arrow: 'string', physical: 'BYTE_ARRAY', logical: 'String', rivetLogical: undefined, values: UUIDS };
const JSON_SIDE: Side = { arrow: 'extension<arrow.json>', physical: 'BYTE_ARRAY', logical: 'JSON', rivetLogical: 'json' };

/** Columns that differ, and exactly how. Mirrored in docs/reference/types.md. */
const DIFFERENCES: Record<string, { pg: Side; my: Side }> = {
  // Same type; PostgreSQL's jsonb reorders keys (shorter first) and drops whitespace, MariaDB keeps the text as written.
  jsw: {
    pg: { ...JSON_SIDE, values: ['{"a":[2,3],"b":1}', null, '{}', '{"a":{"x":2,"y":1},"zz":"é✓"}', '[1,2]'] },
    my: { ...JSON_SIDE, values: ['{"b": 1, "a": [2, 3]}', null, '{ }', '{"zz": "é✓", "a": {"y": 1, "x": 2}}', '[1,  2]'] },
  },
  // MariaDB's UUID type arrives as text in the protocol; rivet keeps it a string.
  u: { pg: PG_UUID, my: MY_UUID_TEXT },
  uc: { pg: PG_UUID, my: MY_UUID_TEXT },
};

function side(f: PyArrowReadResult, name: string): Side {
  return {
    arrow: f.columns.find((c) => c.name === name)!.type,
    physical: f.metadata!.physicalTypes[name]!,
    logical: f.metadata!.logicalTypes[name]!,
    rivetLogical: f.metadata!.fieldMetadata[name]?.['rivet.logical_type'],
    values: f.rows.map((r) => r[name]),
  };
}

/** Field metadata that must agree: everything but the engine's own type name. */
function portableMeta(f: PyArrowReadResult, name: string): Record<string, string> {
  const { ['rivet.native_type']: native, ...rest } = f.metadata!.fieldMetadata[name] ?? {};
  expect(native, `${name}: rivet.native_type`).toBeTruthy();
  return rest;
}

describe('the same table on PostgreSQL and MariaDB in Parquet', () => {
  it('both files have the same columns, in the same order, and five rows', () => {
    const names = ['id', ...COLS.map((c) => c.name)];
    expect(pgFile.columns.map((c) => c.name)).toEqual(names);
    expect(myFile.columns.map((c) => c.name)).toEqual(names);
    expect(pgFile.numRows).toBe(5);
    expect(myFile.numRows).toBe(5);
    // Every column is either agreed or a documented difference.
    expect([...Object.keys(AGREED), ...Object.keys(DIFFERENCES)].sort()).toEqual([...names].sort());
  });

  it.each(Object.keys(AGREED))('agreed column %s: same Arrow type, Parquet types, field metadata and values', (name) => {
    const pg = side(pgFile, name);
    const my = side(myFile, name);
    expect(pg.arrow).toBe(AGREED[name]);
    expect(my).toEqual(pg);
    expect(portableMeta(myFile, name)).toEqual(portableMeta(pgFile, name));
    expect(pg.values?.[1], `${name}: the all-NULL row`).toBe(name === 'id' ? 2 : null);
  });

  it.each(Object.keys(DIFFERENCES))('documented difference %s: exactly as documented', (name) => {
    const want = DIFFERENCES[name]!;
    const pg = side(pgFile, name);
    const my = side(myFile, name);
    expect(pg).toEqual(want.pg);
    expect(my).toEqual(want.my);
    expect(pg).not.toEqual(my);
  });

  it('the documented fix: `columns: { u: uuid }` on MariaDB gives the PostgreSQL UUID column', () => {
    for (const name of ['u', 'uc']) {
      expect(side(myUuidOverride, name)).toEqual(side(pgFile, name));
      expect(portableMeta(myUuidOverride, name)).toEqual(portableMeta(pgFile, name));
    }
  });

  it('docs/reference/types.md names exactly the DIFFERENCES columns', async () => {
    const doc = await readFile(DOC, 'utf8');
    const start = doc.indexOf(DOC_SECTION);
    expect(start, `section "${DOC_SECTION}" in ${DOC}`).toBeGreaterThanOrEqual(0);
    const rest = doc.slice(start + DOC_SECTION.length);
    const next = rest.search(/^## /m);
    const section = next < 0 ? rest : rest.slice(0, next);
    const named = [...section.matchAll(/^\| `([a-z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(named.sort()).toEqual(Object.keys(DIFFERENCES).sort());
  });
});
