import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { runCli } from '../helpers/cli.js';
import { queryWithDuckDB } from '../helpers/readers.js';
import { manifestOf, planOf, readParts, type LakeManifest } from '../helpers/lake.js';
import { expectOk } from '../helpers/expect-ok.js';

let schema: string;

beforeAll(async () => {
  schema = await freshSchema('e2e_chunked');
  // Gaps: multiples of 7, 200..260, and the whole window 301..400; three NULL keys.
  await pgExec(`
    CREATE TABLE ${schema}.gappy (id bigint, val text, day date);
    INSERT INTO ${schema}.gappy
      SELECT g, 'v' || g, date '2024-01-01' + (g % 40) FROM generate_series(1, 500) g
      WHERE g % 7 <> 0 AND g NOT BETWEEN 200 AND 260 AND g NOT BETWEEN 301 AND 400;
    INSERT INTO ${schema}.gappy VALUES (NULL, 'null-a', NULL), (NULL, 'null-b', date '2030-06-01'), (NULL, 'null-c', NULL);
    INSERT INTO ${schema}.gappy VALUES (490, 'far', date '2030-06-01');
    CREATE TABLE ${schema}.sparse (id bigint PRIMARY KEY, val text);
    INSERT INTO ${schema}.sparse SELECT g, 'v' || g FROM generate_series(1, 1000) g;
    INSERT INTO ${schema}.sparse VALUES (1000000000000, 'far');`);
});

async function setup(exportYaml: string) {
  const dir = await mkdtemp(join(tmpdir(), 'rivet-chunked-'));
  const out = join(dir, 'out');
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(cfg, `source:\n  type: postgres\n  url: ${testPgUrl()}\n  tuning: { batch_size: 1000, throttle_ms: 0 }\nexports:\n${exportYaml.replaceAll('OUT', out)}`);
  return { dir, out, cfg };
}


/** (id, val) of every row of the manifest's parts, as DuckDB reads them, in a canonical order. */
async function exported(out: string, m: LakeManifest): Promise<string[]> {
  const rows = await readParts(out, m, 'CAST(id AS VARCHAR) AS id, val');
  return rows.map((r) => `${r.id ?? 'NULL'}|${r.val}`).sort();
}

async function source(table: string): Promise<string[]> {
  const rows = await pgExec<{ k: string }>(`SELECT COALESCE(id::text, 'NULL') || '|' || val AS k FROM ${schema}.${table}`);
  return rows.map((r) => r.k).sort();
}

describe('mode: chunked (built CLI, real PostgreSQL)', () => {
  it('range chunks: one part per non-empty chunk, NULL keys in a chunk of their own, 3 workers, equal to the source', async () => {
    const { out, cfg } = await setup(`  - name: gappy
    table: ${schema}.gappy
    mode: chunked
    chunk_column: id
    chunk_size: 100
    parallel: 3
    format: parquet
    destination: { type: local, path: OUT }
`);
    await expectOk(['run', '-c', cfg]);
    const m = await manifestOf(out);
    const plan = await planOf(out, m.run_id);
    expect(plan.parallel).toBe(3);
    // Windows 1..100 … 401..500 and the NULL chunk; 301..400 holds no row, so it writes no part.
    expect(plan.taskCount).toBe(6);
    expect(plan.tasks.at(-1)?.sql).toMatch(/IS NULL$/);
    expect(plan.tasks.every((t) => !/OFFSET|LIMIT/i.test(t.sql))).toBe(true);
    expect(m.part_count).toBe(4 + 1);
    expect(m.parts.every((p) => p.rows > 0)).toBe(true);
    expect(await exported(out, m)).toEqual(await source('gappy'));
  });

  it('a sparse key (1..1000 plus 10^12) plans from the key distribution: 11 chunks, not 10^10', async () => {
    const { out, cfg } = await setup(`  - name: sparse
    table: ${schema}.sparse
    mode: chunked
    chunk_size: 100
    format: parquet
    destination: { type: local, path: OUT }
`);
    const r = await runCli(['run', '-c', cfg], { env: { RIVET_LOG: 'info' } });
    expect(r.code).toBe(0);
    // chunk_column omitted: derived from the one-column integer primary key, with the g18 WARN.
    expect(r.stderr).toMatch(/`chunk_column` was omitted, so 'id' was picked because it is the one-column integer primary key/);
    expect(r.stderr).toMatch(/is sparse/);
    const m = await manifestOf(out);
    expect((await planOf(out, m.run_id)).taskCount).toBe(11);
    expect(m.part_count).toBe(11);
    expect(m.parts.map((p) => p.rows)).toEqual([100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 1]);
    expect(await exported(out, m)).toEqual(await source('sparse'));
  });

  it('chunk_count, chunk_by_days (only days that hold rows) and chunk_dense each export the source exactly', async () => {
    const { out, cfg } = await setup(`  - name: by_count
    table: ${schema}.gappy
    mode: chunked
    chunk_column: id
    chunk_count: 4
    format: parquet
    destination: { type: local, path: OUT/count }
  - name: by_days
    query: SELECT id, val, day FROM ${schema}.gappy
    mode: chunked
    chunk_column: day
    chunk_by_days: 7
    parallel: 2
    format: parquet
    destination: { type: local, path: OUT/days }
  - name: dense
    query: SELECT id, val FROM ${schema}.sparse;
    mode: chunked
    chunk_column: id
    chunk_dense: true
    chunk_size: 300
    format: parquet
    destination: { type: local, path: OUT/dense }
`);
    await expectOk(['run', '-c', cfg]);

    const count = await manifestOf(join(out, 'count'));
    expect((await planOf(join(out, 'count'), count.run_id)).taskCount).toBe(4 + 1);
    expect(await exported(join(out, 'count'), count)).toEqual(await source('gappy'));

    const days = await manifestOf(join(out, 'days'));
    const dayPlan = await planOf(join(out, 'days'), days.run_id);
    // 40 days from 2024-01-01 span 7 buckets of 7 days (epoch-aligned), then 2030-06-01 alone — not the ~340 empty weeks between — and the NULL days.
    expect(dayPlan.taskCount).toBe(7 + 1 + 1);
    expect(dayPlan.tasks[0].sql).toMatch(/"day" >= '\d{4}-\d{2}-\d{2}' AND "day" < '\d{4}-\d{2}-\d{2}'/);
    expect(days.part_count).toBe(9);
    expect(await exported(join(out, 'days'), days)).toEqual(await source('gappy'));

    const dense = await manifestOf(join(out, 'dense'));
    expect(dense.parts.map((p) => p.rows)).toEqual([300, 300, 300, 101]);
    const cols = await queryWithDuckDB(`DESCRIBE SELECT * FROM read_parquet('${join(out, 'dense', dense.parts[0].path)}')`);
    expect(cols.map((c) => c.column_name)).toEqual(['id', 'val']);
    expect(await exported(join(out, 'dense'), dense)).toEqual(await source('sparse'));
  });

  it('chunk_checkpoint: every chunk ends completed with one attempt, its rows and its part; the run row ends completed', async () => {
    const { dir, cfg } = await setup(`  - name: ck
    table: ${schema}.sparse
    mode: chunked
    chunk_column: id
    chunk_size: 250
    chunk_checkpoint: true
    format: parquet
    destination: { type: local, path: OUT }
`);
    const r = await runCli(['run', '-c', cfg]);
    expect(r.code).toBe(0);
    const db = new Database(join(dir, '.rivet_state.db'), { readonly: true });
    const run = db.prepare(`SELECT * FROM chunk_run WHERE export_name = 'ck'`).all() as { status: string; plan_hash: string; max_chunk_attempts: number }[];
    const tasks = db.prepare(`SELECT chunk_index, start_key, end_key, status, attempts, rows_written, file_name FROM chunk_task ORDER BY chunk_index`).all() as Record<string, unknown>[];
    db.close();
    expect(run).toHaveLength(1);
    expect(run[0].status).toBe('completed');
    expect(run[0].plan_hash).toMatch(/^[0-9a-f]{16}$/);
    expect(run[0].max_chunk_attempts).toBe(4); // max_retries (balanced: 3) + 1
    expect(tasks.map((t) => [t.start_key, t.end_key])).toEqual([['1', '250'], ['251', '500'], ['501', '750'], ['751', '999999999999'], ['1000000000000', '1000000000000']]);
    expect(tasks.every((t) => t.status === 'completed' && t.attempts === 1)).toBe(true);
    expect(tasks.map((t) => t.rows_written)).toEqual([250, 250, 250, 250, 1]);
    expect(tasks.map((t) => t.file_name)).toEqual(['part-000001.parquet', 'part-000002.parquet', 'part-000003.parquet', 'part-000004.parquet', 'part-000005.parquet']);

    const shown = await runCli(['state', 'chunks', '-c', cfg, '-e', 'ck']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^database: {3}.*\.rivet_state\.db\nexport: {5}ck\nrun_id: {5}ck_\d{8}T\d{6}\.\d{3}\n/);
    const header = `${'IDX'.padEnd(6)} ${'STATUS'.padEnd(12)} ${'START'.padEnd(18)} ${'END'.padEnd(18)} ${'ATT'.padStart(4)} ${'ROWS'.padStart(8)} FILE`;
    const first = `${'0'.padEnd(6)} ${'completed'.padEnd(12)} ${'1'.padEnd(18)} ${'250'.padEnd(18)} ${'1'.padStart(4)} ${'250'.padStart(8)} part-000001.parquet`;
    expect(shown.stdout).toContain(`\n\n${header}\n${'-'.repeat(90)}\n${first}\n`);
  });
});
