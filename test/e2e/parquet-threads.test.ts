import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { runCli } from '../helpers/cli.js';
import { queryWithDuckDB } from '../helpers/readers.js';

// The Parquet encoder on a worker thread (RIVET_PARQUET_THREADS=1) must write exactly the
// file the in-thread encoder writes: same rows, same dictionary choices, same bytes.
let schema: string;
const ROWS = 300_000;

beforeAll(async () => {
  schema = await freshSchema('e2e_pq_threads');
  await pgExec(`
    CREATE TABLE ${schema}.t (id bigint PRIMARY KEY, grp int, amount numeric(12,2), status text, note text, at timestamptz, ext uuid, attrs jsonb);
    INSERT INTO ${schema}.t
    SELECT g, g % 7, (g % 100000) / 100.0, (ARRAY['new','paid','shipped'])[1 + g % 3],
           CASE WHEN g % 5 = 0 THEN NULL ELSE 'note ' || g END,
           timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', md5(g::text)::uuid, jsonb_build_object('k', g)
    FROM generate_series(1, ${ROWS}) g;`);
});

async function exportWith(threads: '0' | '1'): Promise<{ out: string; cfg: string }> {
  const dir = await mkdtemp(join(tmpdir(), `rivet-pq-threads-${threads}-`));
  const out = join(dir, 'out');
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(
    cfg,
    `source:\n  type: postgres\n  url: ${testPgUrl()}\n  tuning: { profile: fast, batch_size: 20000 }\n` +
      `exports:\n  - name: t\n    table: ${schema}.t\n    format: parquet\n    destination: { type: local, path: ${out} }\n`,
  );
  const r = await runCli(['run', '-c', cfg], { env: { RIVET_PARQUET_THREADS: threads, RIVET_STATE_PATH: join(dir, 'state.db') } });
  expect(r.code, r.stderr).toBe(0);
  return { out, cfg };
}

describe('Parquet encoding on a worker thread', () => {
  it('writes byte-identical parts to the in-thread encoder, readable by DuckDB', async () => {
    const [t, i] = await Promise.all([exportWith('1'), exportWith('0')]);
    const [threaded, inline] = [t.out, i.out];
    const parts = (await readdir(threaded)).filter((f) => f.startsWith('part-'));
    expect(parts).toEqual(['part-000001.parquet']);
    const a = await readFile(join(threaded, parts[0]));
    const b = await readFile(join(inline, parts[0]));
    expect(a.length).toBeGreaterThan(1000);
    expect(a.equals(b)).toBe(true);
    const [row] = await queryWithDuckDB(`SELECT count(*) AS n, sum(id) AS s, count(DISTINCT status) AS st FROM read_parquet('${join(threaded, parts[0])}')`);
    expect(Number(row.n)).toBe(ROWS);
    expect(BigInt(String(row.s))).toBe(BigInt(ROWS) * BigInt(ROWS + 1) / 2n);
    expect(Number(row.st)).toBe(3);
    const v = await runCli(['validate', '-c', t.cfg]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
  });
});
