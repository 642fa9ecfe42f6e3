import { access, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { runCli } from '../helpers/cli.js';
import { queryWithDuckDB } from '../helpers/readers.js';
import { xxh3Fingerprint } from '../../shared/run/part-hasher.js';
import { expectOk } from '../helpers/expect-ok.js';
import { manifestOf, readParts } from '../helpers/lake.js';
import { storedCursor } from '../helpers/stored-cursor.js';

let schema: string;

beforeAll(async () => {
  schema = await freshSchema('e2e_incr');
});

async function setup(exportYaml: string) {
  const dir = await mkdtemp(join(tmpdir(), 'rivet-incr-'));
  const out = join(dir, 'out');
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(cfg, `source:\n  type: postgres\n  url: ${testPgUrl()}\nexports:\n${exportYaml.replaceAll('OUT', out).replaceAll('SCHEMA', schema)}`);
  return { dir, out, cfg };
}


const exists = (p: string) => access(p).then(() => true, () => false);

/** The whole dataset as the manifest describes it: every listed part, read by DuckDB. */
async function datasetRows(out: string, select: string): Promise<Record<string, unknown>[]> {
  return readParts(out, await manifestOf(out), select, 'ORDER BY 1');
}



describe('mode: incremental (built CLI, real PostgreSQL)', () => {
  it('run 1 exports every row; run 2 only the new ones, into a new part; the manifest lists both and the dataset equals the table', async () => {
    await pgExec(`CREATE TABLE ${schema}.orders (id bigint PRIMARY KEY, note text);
      INSERT INTO ${schema}.orders SELECT g, 'n' || g FROM generate_series(1, 40) g;`);
    const { dir, out, cfg } = await setup(`  - name: orders\n    table: SCHEMA.orders\n    mode: incremental\n    cursor_column: id\n    format: parquet\n    destination: { type: local, path: OUT }\n`);

    await expectOk(['run', '-c', cfg]);
    const first = await manifestOf(out);
    expect(first.parts.map((p) => [p.part_id, p.path, p.rows])).toEqual([[1, 'part-000001.parquet', 40]]);
    expect(first.cursor).toEqual({ column: 'id', from: null, to: '40' });
    expect(storedCursor(dir, 'orders')).toBe('40');

    await pgExec(`INSERT INTO ${schema}.orders SELECT g, 'n' || g FROM generate_series(41, 55) g`);
    await expectOk(['run', '-c', cfg]);
    const second = await manifestOf(out);
    expect(second.status).toBe('success');
    expect(second.parts.map((p) => [p.part_id, p.path, p.rows])).toEqual([
      [1, 'part-000001.parquet', 40],
      [2, 'part-000002.parquet', 15],
    ]);
    expect(second.row_count).toBe(55);
    expect(second.cursor).toEqual({ column: 'id', from: '40', to: '55' });
    expect(storedCursor(dir, 'orders')).toBe('55');
    // Appending supersedes nothing: both parts stay at the root.
    expect((await readdir(out)).filter((f) => f.startsWith('part-')).sort()).toEqual(['part-000001.parquet', 'part-000002.parquet']);
    expect(await exists(join(out, '_superseded'))).toBe(false);
    // _SUCCESS vouches for the appended manifest.
    expect(await readFile(join(out, '_SUCCESS'), 'utf8')).toBe(`${await xxh3Fingerprint(await readFile(join(out, 'manifest.json')))}\n`);

    const src = await pgExec(`SELECT id::text AS id, note FROM ${schema}.orders ORDER BY id`);
    expect(await datasetRows(out, 'id::VARCHAR AS id, note')).toEqual(src);

    // Progression: the committed boundary is the cursor.
    const prog = await expectOk(['state', 'progression', '-c', cfg]);
    expect(prog.stdout).toMatch(/^orders\s+incremental\s+55\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\s+-\s+-$/m);
  });

  it('zero new rows: no part, the cursor stays, the manifest still lists the dataset; with skip_empty the run is skipped', async () => {
    await pgExec(`CREATE TABLE ${schema}.quiet (id int, v text); INSERT INTO ${schema}.quiet VALUES (1, 'a'), (2, 'b');`);
    const { dir, out, cfg } = await setup(
      `  - name: quiet\n    table: SCHEMA.quiet\n    mode: incremental\n    cursor_column: id\n    format: parquet\n    destination: { type: local, path: OUT }\n` +
        `  - name: quiet_skip\n    table: SCHEMA.quiet\n    mode: incremental\n    cursor_column: id\n    skip_empty: true\n    format: parquet\n    destination: { type: local, path: OUT_skip }\n`,
    );
    await expectOk(['run', '-c', cfg]);
    const r = await expectOk(['run', '-c', cfg, '--json']);
    const agg = JSON.parse(r.stdout);
    const byName = Object.fromEntries(agg.per_export.map((e: { export_name: string; status: string }) => [e.export_name, e]));
    expect(byName.quiet.status).toBe('success');
    expect(byName.quiet_skip.status).toBe('skipped');
    const single = await expectOk(['run', '-c', cfg, '-e', 'quiet_skip']);
    expect(single.stderr).toMatch(/skipped \(nothing newer than the stored cursor \(id\)\)/);
    const m = await manifestOf(out);
    expect(m.parts.map((p) => p.path)).toEqual(['part-000001.parquet']);
    expect(m.row_count).toBe(2);
    expect(m.cursor).toEqual({ column: 'id', from: '2', to: '2' });
    expect((await readdir(out)).filter((f) => f.startsWith('part-'))).toEqual(['part-000001.parquet']);
    expect(storedCursor(dir, 'quiet')).toBe('2');
    expect(storedCursor(dir, 'quiet_skip')).toBe('2');
    // The skipped run left the dataset (manifest + _SUCCESS) of run 1 current.
    expect((await manifestOf(`${out}_skip`)).parts.length).toBe(1);
    expect(await exists(join(`${out}_skip`, '_SUCCESS'))).toBe(true);
  });

  it('timestamptz cursor with NULLs and a tie at the boundary: nothing lost, nothing twice; NULL rows go out on the first run with a warning', async () => {
    await pgExec(`CREATE TABLE ${schema}.events (id int, ts timestamptz);
      INSERT INTO ${schema}.events VALUES
        (1, '2024-03-01 10:00:00.000001+02'), (2, NULL), (3, '2024-03-01 09:30:00+01'),
        (4, '2024-03-01 08:30:00.5+00'), (5, '2024-03-01 08:30:00.5+00'), (6, NULL);`);
    const { dir, out, cfg } = await setup(`  - name: events\n    table: SCHEMA.events\n    mode: incremental\n    cursor_column: ts\n    format: parquet\n    destination: { type: local, path: OUT }\n`);
    const r1 = await expectOk(['run', '-c', cfg]);
    expect(r1.stderr).toMatch(/2 row\(s\) have a NULL cursor \(ts\).*incremental_cursor_mode: coalesce/);
    // The high-water mark is a tie of two rows (4 and 5), both exported; the stored text keeps its offset.
    expect(storedCursor(dir, 'events')).toBe('2024-03-01 08:30:00.5+00');
    expect((await manifestOf(out)).row_count).toBe(6);

    // One microsecond above the tie, and a new tie of two rows.
    await pgExec(`INSERT INTO ${schema}.events VALUES (7, '2024-03-01 08:30:00.500001+00'), (8, '2024-03-01 12:00:00+02'), (9, '2024-03-01 10:00:00+00')`);
    const r2 = await expectOk(['run', '-c', cfg]);
    expect(r2.stderr).not.toMatch(/NULL cursor/);
    const m = await manifestOf(out);
    expect(m.parts.map((p) => p.rows)).toEqual([6, 3]);
    expect(m.cursor).toEqual({ column: 'ts', from: '2024-03-01 08:30:00.5+00', to: '2024-03-01 10:00:00+00' });

    const src = await pgExec(`SELECT id::text AS id, (extract(epoch FROM ts) * 1000000)::bigint::text AS us FROM ${schema}.events ORDER BY id`);
    expect(await datasetRows(out, 'id::VARCHAR AS id, epoch_us(ts)::VARCHAR AS us')).toEqual(src);
  });

  it('coalesce: rows whose primary cursor is NULL are carried by the fallback column, on every run', async () => {
    await pgExec(`CREATE TABLE ${schema}.docs (id int, updated_at timestamp, created_at timestamp NOT NULL);
      INSERT INTO ${schema}.docs VALUES (1, NULL, '2024-01-01 00:00'), (2, '2024-01-05 00:00', '2024-01-02 00:00'), (3, NULL, '2024-01-03 00:00');`);
    const { dir, out, cfg } = await setup(
      `  - name: docs\n    table: SCHEMA.docs\n    mode: incremental\n    cursor_column: updated_at\n    incremental_cursor_mode: coalesce\n    cursor_fallback_column: created_at\n    format: parquet\n    destination: { type: local, path: OUT }\n`,
    );
    const r1 = await expectOk(['run', '-c', cfg]);
    expect(r1.stderr).not.toMatch(/NULL cursor/);
    expect(storedCursor(dir, 'docs')).toBe('2024-01-05 00:00:00');
    await pgExec(`INSERT INTO ${schema}.docs VALUES (4, NULL, '2024-01-06 00:00'), (5, '2024-01-07 00:00', '2024-01-01 00:00'), (6, NULL, '2024-01-04 00:00')`);
    await expectOk(['run', '-c', cfg]);
    const m = await manifestOf(out);
    expect(m.cursor).toEqual({ column: 'coalesce(updated_at, created_at)', from: '2024-01-05 00:00:00', to: '2024-01-07 00:00:00' });
    // Row 6 (coalesced 2024-01-04, below the stored cursor) arrived late: out of reach by design, like any late row.
    const got = await datasetRows(out, 'id::VARCHAR AS id');
    expect(got).toEqual(['1', '2', '3', '4', '5'].map((id) => ({ id })));
    // The output has exactly the source's columns (no helper column).
    const cols = await queryWithDuckDB(`DESCRIBE SELECT * FROM read_parquet('${join(out, m.parts[1].path)}')`);
    expect(cols.map((c) => c.column_name)).toEqual(['id', 'updated_at', 'created_at']);
  });

  it.each([
    ['integer', ['9', '3'], ['10', '100']],
    ['numeric(10,2)', ['9.50', '1.25'], ['10.25', '9.51']],
    ['date', ['2024-12-31', '2024-02-01'], ['2025-01-01', '2025-10-10']],
    ['text', ['b', 'a'], ['c', 'ba']],
    ['timestamp', ['2024-01-01 23:59:59.999999', '2023-06-01 00:00:00'], ['2024-01-02 00:00:00', '2030-01-01 00:00:00']],
  ])('a %s cursor compares by the column type, not as text', async (type, before, after) => {
    const table = `typed_${type.replace(/\W+/g, '_')}`;
    await pgExec(`CREATE TABLE ${schema}.${table} (id serial, c ${type}); INSERT INTO ${schema}.${table} (c) VALUES ${before.map((v) => `('${v}')`).join(', ')};`);
    const { out, cfg } = await setup(`  - name: t\n    table: SCHEMA.${table}\n    mode: incremental\n    cursor_column: c\n    format: parquet\n    destination: { type: local, path: OUT }\n`);
    await expectOk(['run', '-c', cfg]);
    await pgExec(`INSERT INTO ${schema}.${table} (c) VALUES ${after.map((v) => `('${v}')`).join(', ')}`);
    await expectOk(['run', '-c', cfg]);
    const m = await manifestOf(out);
    expect(m.parts.map((p) => p.rows)).toEqual([2, 2]);
    const src = await pgExec(`SELECT id::text AS id FROM ${schema}.${table} ORDER BY id`);
    expect(await datasetRows(out, 'id::VARCHAR AS id')).toEqual(src);
  });

  it('a run that fails before its cursor is stored leaves the cursor untouched, and the next run neither loses nor repeats rows', async () => {
    await pgExec(`CREATE TABLE ${schema}.crash (id int); INSERT INTO ${schema}.crash SELECT generate_series(1, 10);`);
    const { dir, out, cfg } = await setup(`  - name: crash\n    table: SCHEMA.crash\n    mode: incremental\n    cursor_column: id\n    format: parquet\n    destination: { type: local, path: OUT }\n`);
    await expectOk(['run', '-c', cfg]);
    await pgExec(`INSERT INTO ${schema}.crash SELECT generate_series(11, 15)`);
    // Dies after manifest.json and _SUCCESS were written, before the cursor.
    const failed = await runCli(['run', '-c', cfg], { env: { RIVET_FAULT: 'before_cursor' } });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/injected fault at before_cursor/);
    expect(storedCursor(dir, 'crash')).toBe('10');
    expect((await manifestOf(out)).row_count).toBe(15);

    // A query error fails the run before anything is committed: the cursor stays too.
    await pgExec(`INSERT INTO ${schema}.crash SELECT generate_series(16, 20)`);
    const broken = await runCli(['run', '-c', cfg], { env: { RIVET_FAULT: 'after_part' } });
    expect(broken.code).toBe(1);
    expect(storedCursor(dir, 'crash')).toBe('10');

    await expectOk(['run', '-c', cfg]);
    expect(storedCursor(dir, 'crash')).toBe('20');
    const m = await manifestOf(out);
    expect(m.cursor).toEqual({ column: 'id', from: '10', to: '20' });
    expect(m.row_count).toBe(20);
    const src = await pgExec(`SELECT id::text AS id FROM ${schema}.crash ORDER BY id`);
    expect(await datasetRows(out, 'id::VARCHAR AS id')).toEqual(src);
  });

  it('`rivet state reset` makes the next run export everything again as a fresh dataset (older parts moved aside)', async () => {
    await pgExec(`CREATE TABLE ${schema}.again (id int); INSERT INTO ${schema}.again SELECT generate_series(1, 5);`);
    const { dir, out, cfg } = await setup(`  - name: again\n    table: SCHEMA.again\n    mode: incremental\n    cursor_column: id\n    format: parquet\n    destination: { type: local, path: OUT }\n`);
    await expectOk(['run', '-c', cfg]);
    await pgExec(`INSERT INTO ${schema}.again VALUES (6), (7)`);
    await expectOk(['run', '-c', cfg]);
    expect((await manifestOf(out)).part_count).toBe(2);

    const reset = await expectOk(['state', 'reset', '-c', cfg, '-e', 'again']);
    expect(reset.stdout).toMatch(/State reset for export 'again'/);
    expect(storedCursor(dir, 'again')).toBeNull();

    await expectOk(['run', '-c', cfg]);
    const m = await manifestOf(out);
    expect(m.parts.map((p) => [p.part_id, p.path, p.rows])).toEqual([[1, 'part-000003.parquet', 7]]);
    expect(m.cursor).toEqual({ column: 'id', from: null, to: '7' });
    expect((await readdir(join(out, '_superseded', m.run_id))).sort()).toEqual(['part-000001.parquet', 'part-000002.parquet']);
    const src = await pgExec(`SELECT id::text AS id FROM ${schema}.again ORDER BY id`);
    expect(await datasetRows(out, 'id::VARCHAR AS id')).toEqual(src);
  });

  it('a cursor column that is not in the query is a config error (exit 2) and nothing is written', async () => {
    await pgExec(`CREATE TABLE ${schema}.nocol (id int)`);
    const { out, cfg } = await setup(`  - name: nocol\n    table: SCHEMA.nocol\n    mode: incremental\n    cursor_column: updated_at\n    format: parquet\n    destination: { type: local, path: OUT }\n`);
    const r = await runCli(['run', '-c', cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cursor column 'updated_at' is not a column of the export's query/);
    expect(await exists(join(out, 'manifest.json'))).toBe(false);
  });
});
