import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { runCli } from '../helpers/cli.js';
import { queryWithDuckDB, readWithDuckDB } from '../helpers/readers.js';

let schema: string;

beforeAll(async () => {
  schema = await freshSchema('e2e_meta');
  await pgExec(`CREATE TABLE ${schema}.things (id int, name text, price numeric(8,2), seen timestamptz, tags int[], raw bytea);
    INSERT INTO ${schema}.things VALUES
      (1, 'a,b', 1.50, '2024-01-01 00:00:00+00', '{1,2}', '\\x00ff'),
      (2, NULL, NULL, NULL, NULL, NULL),
      (3, '', 0, '1969-12-31 23:59:59.999999+00', '{}', '\\x');`);
});

async function run(format: 'parquet' | 'csv', narrow = format === 'csv') {
  const dir = await mkdtemp(join(tmpdir(), 'rivet-meta-'));
  const out = join(dir, 'out');
  const cfg = join(dir, 'rivet.yaml');
  const select = narrow ? `SELECT id, name, price, seen, raw FROM ${schema}.things` : `SELECT * FROM ${schema}.things`;
  await writeFile(
    cfg,
    `source:\n  type: postgres\n  url: ${testPgUrl()}\nexports:\n  - name: things\n    query: "${select}"\n    format: ${format}\n    meta_columns: { exported_at: true, row_hash: true }\n    destination: { type: local, path: ${out} }\n`,
  );
  const before = Date.now();
  const r = await runCli(['run', '-c', cfg]);
  expect(r.code, r.stderr).toBe(0);
  const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
  return { file: join(out, manifest.parts[0].path), manifest, before };
}

describe('meta_columns (built CLI, real PostgreSQL)', () => {
  it('appends _rivet_exported_at (timestamptz) and _rivet_row_hash (bigint) after the source columns; the hash is stable across runs', async () => {
    const a = await run('parquet');
    const duck = await readWithDuckDB(a.file);
    expect(duck.columns.map((c) => [c.name, c.type])).toEqual([
      ['id', 'INTEGER'],
      ['name', 'VARCHAR'],
      ['price', 'DECIMAL(8,2)'],
      ['seen', 'TIMESTAMP WITH TIME ZONE'],
      ['tags', 'INTEGER[]'],
      ['raw', 'BLOB'],
      ['_rivet_exported_at', 'TIMESTAMP WITH TIME ZONE'],
      ['_rivet_row_hash', 'BIGINT'],
    ]);
    const rows = await queryWithDuckDB(
      `SELECT id, epoch_ms(_rivet_exported_at) AS at, _rivet_row_hash::VARCHAR AS h FROM read_parquet('${a.file}') ORDER BY id`,
    );
    // One instant per task attempt, taken when it started.
    expect(new Set(rows.map((r) => String(r.at))).size).toBe(1);
    expect(Number(rows[0].at)).toBeGreaterThanOrEqual(a.before - 5);
    expect(new Set(rows.map((r) => r.h)).size).toBe(3);
    // Meta columns are listed in the manifest but do not enter the schema fingerprint.
    expect(a.manifest.columns.slice(-2).map((c: { name: string }) => c.name)).toEqual(['_rivet_exported_at', '_rivet_row_hash']);

    const b = await run('parquet');
    const again = await queryWithDuckDB(`SELECT id, _rivet_row_hash::VARCHAR AS h FROM read_parquet('${b.file}') ORDER BY id`);
    expect(again).toEqual(rows.map((r) => ({ id: r.id, h: r.h })));
    expect(b.manifest.schema_fingerprint).toBe(a.manifest.schema_fingerprint);
  });

  it('CSV carries the meta columns too, with the same hash as Parquet for the same values', async () => {
    const csv = await run('csv');
    const header = (await readFile(csv.file, 'utf8')).split('\n')[0];
    expect(header).toBe('id,name,price,seen,raw,_rivet_exported_at,_rivet_row_hash');
    const viaCsv = await queryWithDuckDB(`SELECT id::INTEGER AS id, _rivet_row_hash::VARCHAR AS h FROM read_csv('${csv.file}', all_varchar = true) ORDER BY 1`);
    expect(viaCsv.map((r) => r.h).every((h) => /^-?\d+$/.test(String(h)))).toBe(true);
    const parquet = await run('parquet', true);
    const viaParquet = await queryWithDuckDB(`SELECT id, _rivet_row_hash::VARCHAR AS h FROM read_parquet('${parquet.file}') ORDER BY 1`);
    expect(viaCsv).toEqual(viaParquet);
  });
});
