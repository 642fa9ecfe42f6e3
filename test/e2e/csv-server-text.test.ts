import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { countWithDuckDB, readWithDuckDB } from '../helpers/readers.js';

/**
 * CSV rendered from the server's COPY text (ADR 0009) must be the bytes the Arrow renderer
 * writes: every type the fast path takes, with NULLs, empty strings, quotes, embedded line
 * breaks, unicode, float exponents and infinities, BC and five-digit years, fraction padding
 * and JSON whitespace; receipts (rows, textMax) alike; DuckDB reads the file back.
 */

const DDL = `id int, b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, n numeric(15,4), n0 numeric(10,0),
  t text, vc varchar(20), bp char(3), j json, jb jsonb, by bytea, u uuid, d date, ts timestamp, tz timestamptz`;

const ROWS = [
  `1, true, 12, 123456, 1234567890123, 1.5, 0.1, 12345.6789, 42, 'plain', 'v', 'abc', '{"a": 1, "b": [1, 2]}', '{"a": 1}', '\\x00ff10', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-02-29', '2024-02-29 12:34:56.5', '2024-02-29 12:34:56.123456+00'`,
  `2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL`,
  `3, false, -32768, -2147483648, -9223372036854775808, '-Infinity', '-0', -99999999999.9999, -9999999999, '', '', '', '[]', '""', '', '00000000-0000-0000-0000-000000000000', '0001-01-01 BC', '0044-03-15 12:00:00 BC', '4713-01-01 00:00:00+00 BC'`,
  `4, true, 32767, 2147483647, 9223372036854775807, '3.4028235e38', '1.7976931348623157e308', 99999999999.9999, 9999999999, 'a,b "q" and
newline', 'cr\rhere', 'é✓', '{ "s" : "x, \\"y\\"\\n", "n": 1e5 }', '{"s": "x, \\"y\\"", "k": [true, null]}', '\\x2c22', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '10000-01-01', '12345-06-07 08:09:10', '200000-12-31 23:59:59.999999+00'`,
  `5, false, 0, 0, 0, 'NaN', 'Infinity', 0, 0, '"', ',', ' ', '"str"', '12.50', '\\x', '123e4567-e89b-12d3-a456-426614174000', '1970-01-01', '1969-12-31 23:59:59.999999', '1900-01-01 00:00:00+00'`,
  `6, true, 1, 1, 1, 1e-5, 1e-7, 0.0001, 1, '\\.', 'x', 'y', 'null', 'null', '\\x5c2e', '123e4567-e89b-12d3-a456-426614174001', '9999-12-31', '2000-01-01 00:00:00', '2000-01-01 00:00:00.000001+00'`,
  `7, true, 1, 1, 1, 1e6, 1e15, -0.5, -1, 'ü' || chr(10) || 'ß', 'x""y', 'z', '1', '-0.0', NULL, NULL, '0001-01-01', '0001-01-01 00:00:00', '0001-01-01 00:00:00+00'`,
];

let schema: string;
let dir: string;

function config(table: string, out: string, extra = ''): string {
  return `source:
  type: postgres
  url_env: RIVET_TEST_URL
  tuning: { profile: fast }
exports:
  - name: x
    table: ${table}
    format: csv
${extra}    destination: { type: local, path: ${out} }
`;
}

async function exportCsv(table: string, render: 'text' | 'arrow', extra = ''): Promise<{ code: number; out: string; stderr: string }> {
  const out = await mkdtemp(join(dir, `${render}-`));
  const cfg = join(out, 'rivet.yaml');
  await writeFile(cfg, config(table, join(out, 'lake'), extra));
  const env: NodeJS.ProcessEnv = { RIVET_TEST_URL: testPgUrl(), RIVET_STATE_PATH: join(out, 'state.db'), RIVET_LOG: 'debug' };
  if (render === 'arrow') env.RIVET_CSV_RENDER = 'arrow';
  const r = await runCli(['run', '-c', cfg], { env });
  if (render === 'text' && r.code === 0) expect(r.stderr).toContain('CSV COPY, rendered from the server text');
  return { code: r.code, out: join(out, 'lake'), stderr: r.stderr };
}

async function parts(lake: string): Promise<string[]> {
  return (await readdir(lake)).filter((f) => f.startsWith('part-')).sort();
}

async function receipt(lake: string): Promise<Record<string, unknown>> {
  const runs = await readdir(join(lake, '_rivet', 'runs'));
  const r = JSON.parse(await readFile(join(lake, '_rivet', 'runs', runs[0], 'receipts', 'task-000000.json'), 'utf8'));
  return { rows: r.rows, textMax: r.textMax, columns: r.columns, schemaFingerprint: r.schemaFingerprint, parts: r.parts.map((p: { rows: number }) => p.rows) };
}

beforeAll(async () => {
  schema = await freshSchema('csvtext');
  dir = await mkdtemp(join(tmpdir(), 'rivet-csvtext-'));
  await pgExec(`CREATE TABLE ${schema}.m (${DDL})`);
  await pgExec(`INSERT INTO ${schema}.m VALUES ${ROWS.map((r) => `(${r})`).join(',\n')}`);
  // Floats across the whole exponent range, both widths, to hold the shortest-text rules to each other.
  await pgExec(`CREATE TABLE ${schema}.f AS
    SELECT g AS id, (random() - 0.5) * 10 ^ (random() * 600 - 300) AS f8,
           ((random() - 0.5) * 10 ^ (random() * 70 - 35))::float4 AS f4,
           (random() * 1e6)::numeric(12,3) AS n, md5(g::text) AS t
      FROM generate_series(1, 20000) AS g`);
});

describe('CSV rendered from the server text', () => {
  it('writes the bytes, rows and textMax of the Arrow renderer on every type', async () => {
    const text = await exportCsv(`${schema}.m`, 'text');
    const arrow = await exportCsv(`${schema}.m`, 'arrow');
    expect(text.code, text.stderr).toBe(0);
    expect(arrow.code, arrow.stderr).toBe(0);
    const a = await readFile(join(arrow.out, 'part-000001.csv'));
    const t = await readFile(join(text.out, 'part-000001.csv'));
    expect(t.toString('utf8')).toBe(a.toString('utf8'));
    expect(t.equals(a)).toBe(true);
    expect(await receipt(text.out)).toEqual(await receipt(arrow.out));
    const duck = await readWithDuckDB(join(text.out, 'part-000001.csv'), { allVarchar: true });
    expect(duck.rows.length).toBe(ROWS.length);
  });

  it('renders floats of every magnitude and decimals exactly as the Arrow renderer', async () => {
    const text = await exportCsv(`${schema}.f`, 'text');
    const arrow = await exportCsv(`${schema}.f`, 'arrow');
    expect(text.code, text.stderr).toBe(0);
    const t = await readFile(join(text.out, 'part-000001.csv'));
    const a = await readFile(join(arrow.out, 'part-000001.csv'));
    expect(t.equals(a)).toBe(true);
    expect(await countWithDuckDB(join(text.out, 'part-*.csv'))).toBe(20000);
  });

  it('rolls parts at max_file_size with the same records', async () => {
    const extra = '    max_file_size: 300KB\n';
    const text = await exportCsv(`${schema}.f`, 'text', extra);
    const arrow = await exportCsv(`${schema}.f`, 'arrow', extra);
    expect(text.code, text.stderr).toBe(0);
    const names = await parts(text.out);
    expect(names.length).toBeGreaterThan(1);
    const body = async (lake: string) => {
      let s = '';
      for (const p of await parts(lake)) s += (await readFile(join(lake, p), 'utf8')).replace(/^[^\n]*\n/, '');
      return s;
    };
    expect(await body(text.out)).toBe(await body(arrow.out));
    const r = (await receipt(text.out)) as { rows: number; parts: number[] };
    expect(r.rows).toBe(20000);
    expect(r.parts.reduce((x, y) => x + y, 0)).toBe(20000);
    expect(await countWithDuckDB(join(text.out, 'part-*.csv'))).toBe(20000);
  });

  it('refuses what the Arrow path refuses (NaN numeric, infinite timestamps)', async () => {
    for (const [col, value] of [
      ['n', "'NaN'"],
      ['tz', "'infinity'"],
      ['d', "'-infinity'"],
    ] as const) {
      const table = `${schema}.bad_${col}`;
      await pgExec(`CREATE TABLE ${table} (${DDL})`);
      await pgExec(`INSERT INTO ${table} (id, ${col}) VALUES (1, ${value})`);
      const text = await exportCsv(table, 'text');
      const arrow = await exportCsv(table, 'arrow');
      expect(text.code).toBe(1);
      expect(arrow.code).toBe(1);
      const reason = (s: string) => /column "[a-z]+" \(PG type [^)]+\): [^\n]*/.exec(s)?.[0];
      expect(reason(text.stderr)).toBeDefined();
      expect(reason(text.stderr)).toBe(reason(arrow.stderr));
    }
  });

  it('leaves exports whose rows are needed to the Arrow renderer', async () => {
    const out = await mkdtemp(join(dir, 'meta-'));
    const cfg = join(out, 'rivet.yaml');
    await writeFile(cfg, config(`${schema}.m`, join(out, 'lake'), '    meta_columns: { row_hash: true }\n'));
    const r = await runCli(['run', '-c', cfg], { env: { RIVET_TEST_URL: testPgUrl(), RIVET_STATE_PATH: join(out, 'state.db'), RIVET_LOG: 'debug' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('rendered from the server text');
  });
});
