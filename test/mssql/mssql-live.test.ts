import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/log/logger.js';
import { openSource } from '../../shared/source/registry.js';
import { runCli } from '../helpers/cli.js';
import { queryWithDuckDB, readWithDuckDB } from '../helpers/readers.js';
import { dropMssqlDatabase, freshMssqlDatabase, mssqlExec, testMssqlUrl } from './mssql-helpers.js';

/**
 * Against a live SQL Server only (`npm run test:mssql`, RIVET_TEST_MSSQL_URL): the type
 * matrix to Parquet read back with DuckDB, and full / incremental / chunked through the
 * built CLI. Written without a server to run them on: see docs/sources/sqlserver.md.
 */

let db: string;

beforeAll(async () => {
  db = await freshMssqlDatabase('rivet_live');
  await mssqlExec(
    `CREATE TABLE dbo.matrix (
       id INT NOT NULL PRIMARY KEY,
       c_bit BIT, c_tiny TINYINT, c_small SMALLINT, c_int INT, c_big BIGINT,
       c_dec DECIMAL(38,10), c_num NUMERIC(9,3), c_money MONEY, c_smallmoney SMALLMONEY,
       c_real REAL, c_float FLOAT,
       c_date DATE, c_time TIME(7), c_dt DATETIME, c_sdt SMALLDATETIME, c_dt2 DATETIME2(7), c_dto DATETIMEOFFSET(7),
       c_char CHAR(5), c_varchar VARCHAR(50), c_nvarchar NVARCHAR(50), c_vmax NVARCHAR(MAX), c_text TEXT, c_ntext NTEXT, c_xml XML,
       c_bin BINARY(4), c_varbin VARBINARY(MAX), c_image IMAGE,
       c_guid UNIQUEIDENTIFIER);
     INSERT INTO dbo.matrix VALUES (1,
       1, 255, -32768, -2147483648, 9223372036854775807,
       1234567890123456789012345678.9012345678, -123456.789, 922337203685477.5807, -214748.3648,
       1.5, 0.1,
       '2024-02-29', '23:59:59.9999999', '2024-03-10T00:00:01.003', '2024-03-10T12:35:00', '2024-03-10T12:34:56.1234567', '2024-03-10T12:34:56.1234567+02:00',
       'ab', 'plain', N'héllo 世界', REPLICATE(CAST(N'x' AS NVARCHAR(MAX)), 10000), 'old text', N'old ntext', '<a b="1"/>',
       0x0001FEFF, 0xDEADBEEF, 0x00FF,
       '6F9619FF-8B86-D011-B42D-00C04FC964FF');
     INSERT INTO dbo.matrix (id) VALUES (2);
     CREATE TABLE dbo.orders (id BIGINT NOT NULL PRIMARY KEY, note NVARCHAR(20), updated DATETIME2(7) NOT NULL);
     INSERT INTO dbo.orders SELECT TOP (40) ROW_NUMBER() OVER (ORDER BY (SELECT NULL)), N'n', DATEADD(MICROSECOND, ROW_NUMBER() OVER (ORDER BY (SELECT NULL)), CAST('2024-05-01T10:00:00' AS DATETIME2(7)))
       FROM sys.all_objects;
     CREATE TABLE dbo.gappy (id BIGINT NOT NULL PRIMARY KEY, val NVARCHAR(20));
     INSERT INTO dbo.gappy SELECT n, CONCAT(N'v', n) FROM (SELECT TOP (500) ROW_NUMBER() OVER (ORDER BY (SELECT NULL)) AS n FROM sys.all_objects a CROSS JOIN sys.all_objects b) AS s
       WHERE n % 7 <> 0 AND n NOT BETWEEN 200 AND 260;`,
    db,
  );
}, 120_000);

afterAll(async () => {
  if (db) await dropMssqlDatabase(db);
});

async function setup(exportYaml: string) {
  const dir = await mkdtemp(join(tmpdir(), 'rivet-mssql-live-'));
  const out = join(dir, 'out');
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(cfg, `source:\n  type: mssql\n  url_env: RIVET_MSSQL_LIVE_URL\n  tuning: { batch_size: 1000, throttle_ms: 0 }\nexports:\n${exportYaml.replaceAll('OUT', out)}`);
  return { dir, out, cfg, env: { RIVET_MSSQL_LIVE_URL: testMssqlUrl(db) } };
}

interface Manifest {
  status: string;
  row_count: number;
  parts: { path: string; rows: number }[];
  cursor?: { column: string; from: string | null; to: string | null };
}

const manifestOf = async (out: string) => JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as Manifest;

async function expectOk(args: string[], env: NodeJS.ProcessEnv) {
  const r = await runCli(args, { env });
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.code, r.stderr).toBe(0);
  return r;
}

async function ids(out: string, m: Manifest): Promise<number[]> {
  if (m.parts.length === 0) return [];
  const files = m.parts.map((p) => `'${join(out, p.path)}'`).join(', ');
  const rows = await queryWithDuckDB(`SELECT CAST(id AS INTEGER) AS id FROM read_parquet([${files}]) ORDER BY id`);
  return rows.map((r) => Number(r.id));
}

describe('SQL Server source (live server)', () => {
  it('describes native types and fidelity', async () => {
    const source = await openSource({ connection: { engine: 'mssql', url: testMssqlUrl(db) }, log: silentLogger });
    try {
      const schema = await source.describe('SELECT * FROM dbo.matrix;');
      const native = Object.fromEntries(schema.fields.map((f) => [f.name, f.metadata.get('rivet.native_type')]));
      expect(native).toMatchObject({ c_dec: 'decimal(38,10)', c_num: 'numeric(9,3)', c_money: 'money', c_dt2: 'datetime2(7)', c_dto: 'datetimeoffset(7)', c_vmax: 'nvarchar(max)', c_guid: 'uniqueidentifier' });
      expect(await source.tableExists('dbo.matrix')).toBe(true);
      expect(await source.tableExists('dbo.nope')).toBe(false);
    } finally {
      await source.close();
    }
  });

  it('type matrix: full export to Parquet, read back exactly with DuckDB', async () => {
    const { out, cfg, env } = await setup(`  - name: matrix\n    query: "SELECT * FROM dbo.matrix"\n    format: parquet\n    destination: { type: local, path: OUT }\n`);
    await expectOk(['run', '-c', cfg], env);
    const m = await manifestOf(out);
    expect(m.status).toBe('success');
    expect(m.row_count).toBe(2);
    const { rows } = await readWithDuckDB(join(out, m.parts[0].path));
    const [a, b] = [...rows].sort((x, y) => Number(x.id) - Number(y.id));
    expect(a).toMatchObject({
      c_bit: true,
      c_tiny: 255,
      c_small: -32768,
      c_int: -2147483648,
      c_big: 9223372036854775807n,
      c_dec: '1234567890123456789012345678.9012345678',
      c_num: '-123456.789',
      c_money: '922337203685477.5807',
      c_smallmoney: '-214748.3648',
      c_real: 1.5,
      c_float: 0.1,
      c_date: '2024-02-29',
      c_time: '23:59:59.999999',
      c_dt: '2024-03-10T00:00:01.003000',
      c_sdt: '2024-03-10T12:35:00.000000',
      c_dt2: '2024-03-10T12:34:56.123456',
      c_dto: '2024-03-10T10:34:56.123456Z',
      c_char: 'ab   ',
      c_varchar: 'plain',
      c_nvarchar: 'héllo 世界',
      c_text: 'old text',
      c_ntext: 'old ntext',
      c_xml: '<a b="1"/>',
      c_bin: '0001feff',
      c_varbin: 'deadbeef',
      c_image: '00ff',
      c_guid: '6f9619ff-8b86-d011-b42d-00c04fc964ff',
    });
    expect(String(a.c_vmax)).toBe('x'.repeat(10000));
    expect(Object.entries(b).filter(([k]) => k !== 'id').every(([, v]) => v === null)).toBe(true);
  });

  it('incremental: run 2 takes only the rows added after run 1', async () => {
    const { out, cfg, env } = await setup(`  - name: orders\n    table: dbo.orders\n    mode: incremental\n    cursor_column: updated\n    format: parquet\n    destination: { type: local, path: OUT }\n`);
    await expectOk(['run', '-c', cfg], env);
    const first = await manifestOf(out);
    expect(first.row_count).toBe(40);
    await mssqlExec(`INSERT INTO dbo.orders VALUES (41, N'late', '2024-05-01T10:00:00.0000410'), (42, N'later', '2024-05-02T00:00:00')`, db);
    await expectOk(['run', '-c', cfg], env);
    // The manifest accumulates the parts of every incremental run: 40 rows, then exactly the 2 new ones.
    const second = await manifestOf(out);
    expect(second.parts.map((p) => p.rows)).toEqual([40, 2]);
    expect(await ids(out, second)).toEqual(Array.from({ length: 42 }, (_, i) => i + 1));
    expect(second.cursor?.to).toMatch(/^2024-05-02T00:00:00(\.0+)?$/);
  });

  it('chunked: range chunks and dense ROW_NUMBER chunks export every row once', async () => {
    const expected = (await mssqlExec<{ id: string }>('SELECT id FROM dbo.gappy ORDER BY id', db)).map((r) => Number(r.id));
    for (const extra of ['chunk_column: id\n    chunk_size: 50', 'chunk_column: id\n    chunk_dense: true\n    chunk_size: 64']) {
      const { out, cfg, env } = await setup(`  - name: gappy\n    table: dbo.gappy\n    mode: chunked\n    ${extra}\n    format: parquet\n    destination: { type: local, path: OUT }\n`);
      await expectOk(['run', '-c', cfg], env);
      const m = await manifestOf(out);
      expect(m.status).toBe('success');
      expect(m.parts.length).toBeGreaterThan(1);
      expect(await ids(out, m)).toEqual(expected);
    }
  });
});
