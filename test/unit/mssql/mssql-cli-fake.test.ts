import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { queryWithDuckDB } from '../../helpers/readers.js';
import { col, startFakeTds, type FakeAnswer, type FakeTdsServer } from './fake-tds-server.js';

/**
 * `rivet run` (the built CLI) with `source.type: mssql` against the FAKE TDS server: config
 * → connection (TLS with a CA file) → registry → SQL Server source → Parquet → manifest,
 * read back with DuckDB. The fake server filters chunk queries by their BETWEEN bounds, so
 * chunked mode's key probe and per-chunk SQL are exercised too; it understands nothing else.
 */

const N = 2_345;
const COLUMNS = [col.bigint('id'), col.nvarchar('name'), col.decimal('amount', 20, 4)];
const ROWS = Array.from({ length: N }, (_, i) => [BigInt(i + 1), `n${i + 1}`, BigInt(i + 1) * 10_001n]);
const text = (name: string) => col.nvarchar(name);

function answer(sql: string): FakeAnswer {
  if (/sys\.databases/.test(sql)) return { columns: [col.int('s'), col.int('r')], rows: [[0, 1]] };
  if (/^\s*SET /i.test(sql)) return 'done';
  if (/OBJECT_ID/.test(sql)) return { columns: [col.int('e')], rows: [[1]] };
  if (/MIN\(\[id\]\)/.test(sql)) return { columns: [text('a'), text('b'), text('c'), text('d')], rows: [['1', String(N), String(N), String(N)]] };
  if (/COUNT_BIG/.test(sql)) return { columns: [text('n')], rows: [[String(N)]] };
  const between = /BETWEEN (\d+) AND (\d+)/.exec(sql);
  if (between) {
    const [lo, hi] = [BigInt(between[1]), BigInt(between[2])];
    return { columns: COLUMNS, rows: ROWS.filter((r) => (r[0] as bigint) >= lo && (r[0] as bigint) <= hi) };
  }
  if (/\bbig\b/.test(sql)) return { columns: COLUMNS, rows: ROWS };
  return { error: { number: 102, message: `Incorrect syntax (the fake server does not understand: ${sql.slice(0, 60)})` } };
}

let server: FakeTdsServer;

beforeAll(async () => {
  server = await startFakeTds(answer);
});

afterAll(async () => {
  await server?.close();
});

async function run(exportYaml: string) {
  const dir = await mkdtemp(join(tmpdir(), 'rivet-mssql-cli-'));
  const out = join(dir, 'out');
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(
    cfg,
    `source:\n  type: mssql\n  url_env: MSSQL_URL\n  tls: { mode: verify-full, ca_file: ${server.caFile} }\n  tuning: { batch_size: 1000, throttle_ms: 0 }\n` +
      `exports:\n${exportYaml.replaceAll('OUT', out)}`,
  );
  const r = await runCli(['run', '-c', cfg], { env: { MSSQL_URL: `sqlserver://sa:Fake-Passw0rd@localhost:${server.port}/shop?encrypt=strict` } });
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).not.toContain('Fake-Passw0rd');
  expect(r.code, r.stderr).toBe(0);
  const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { status: string; row_count: number; parts: { path: string }[] };
  const files = manifest.parts.map((p) => `'${join(out, p.path)}'`).join(', ');
  const rows = await queryWithDuckDB(`SELECT CAST(id AS BIGINT) AS id, name, CAST(amount AS VARCHAR) AS amount FROM read_parquet([${files}]) ORDER BY id`);
  return { manifest, rows };
}

describe('rivet run with an mssql source (fake TDS server)', () => {
  it('full: every row, exact decimals, through the built CLI', async () => {
    const { manifest, rows } = await run(`  - name: big\n    table: dbo.big\n    format: parquet\n    destination: { type: local, path: OUT }\n`);
    expect(manifest.status).toBe('success');
    expect(manifest.row_count).toBe(N);
    expect(rows.length).toBe(N);
    expect(rows[0]).toEqual({ id: 1n, name: 'n1', amount: '1.0001' });
    expect(rows[N - 1]).toEqual({ id: BigInt(N), name: `n${N}`, amount: (N * 1.0001).toFixed(4) });
  });

  it('chunked: range chunks cut with BETWEEN, one part per chunk', async () => {
    const before = server.batches.length;
    const { manifest, rows } = await run(`  - name: big\n    table: dbo.big\n    mode: chunked\n    chunk_column: id\n    chunk_size: 1000\n    format: parquet\n    destination: { type: local, path: OUT }\n`);
    expect(manifest.parts.length).toBe(3);
    expect(rows.map((r) => Number(r.id))).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    const chunkSql = server.batches.slice(before).filter((b) => /BETWEEN/.test(b));
    expect(chunkSql).toEqual([
      'SELECT * FROM (\nSELECT * FROM dbo.big\n) AS _rivet WHERE [id] BETWEEN 1 AND 1000',
      'SELECT * FROM (\nSELECT * FROM dbo.big\n) AS _rivet WHERE [id] BETWEEN 1001 AND 2000',
      'SELECT * FROM (\nSELECT * FROM dbo.big\n) AS _rivet WHERE [id] BETWEEN 2001 AND 2345',
    ]);
    // READ COMMITTED when the database does not allow snapshot isolation
    expect(server.batches.slice(before)).toContain('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
  });
});
