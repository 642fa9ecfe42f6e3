import { mkdtemp, readFile, readdir, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { runCli } from '../helpers/cli.js';
import { queryWithDuckDB, readWithDuckDB, readWithPyArrow } from '../helpers/readers.js';
import { xxh3Fingerprint } from '../../shared/run/part-hasher.js';
import { verifyPrefix } from '../../shared/run/verify-prefix.js';
import { openLocalDestination } from '../../shared/destination/local-destination.js';

let schema: string;
const ROWS = 5000;

beforeAll(async () => {
  schema = await freshSchema('e2e_run');
  await pgExec(`
    CREATE TABLE ${schema}.orders (
      id bigint PRIMARY KEY, customer integer, amount numeric(12,2), ratio double precision,
      paid boolean, status text, note varchar(50), ordered_on date, created_at timestamptz,
      local_ts timestamp, ext uuid, attrs jsonb, blob bytea);
    INSERT INTO ${schema}.orders
    SELECT g, g % 100, round((g * 1.37)::numeric, 2), g / 7.0, g % 2 = 0,
           (ARRAY['new','paid','shipped'])[1 + g % 3],
           CASE WHEN g % 10 = 0 THEN NULL ELSE 'note, "quoted" ' || g END,
           date '1969-12-25' + g, timestamptz '2024-03-01 10:00:00+02' + g * interval '1 second 250 microseconds',
           timestamp '1960-01-01 00:00:00.5' + g * interval '1 hour', md5(g::text)::uuid,
           jsonb_build_object('k', g), decode(lpad(to_hex(g), 8, '0'), 'hex')
    FROM generate_series(1, ${ROWS}) g;`);
});

async function setup(exportYaml: string, sourceYaml = `  url: ${testPgUrl()}`) {
  const dir = await mkdtemp(join(tmpdir(), 'rivet-e2e-'));
  const out = join(dir, 'out');
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(cfg, `source:\n  type: postgres\n${sourceYaml}\nexports:\n${exportYaml.replaceAll('OUT', out)}`);
  return { dir, out, cfg };
}

const exists = (p: string) => access(p).then(() => true, () => false);

describe('rivet run (built CLI, real PostgreSQL)', () => {
  it('exports a table to Parquet with parts, manifest.json and a matching _SUCCESS, read back equal by DuckDB and pyarrow', async () => {
    const { out, cfg, dir } = await setup(`  - name: orders\n    table: ${schema}.orders\n    format: parquet\n    destination: { type: local, path: OUT }\n`);
    const r = await runCli(['run', '-c', cfg]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);

    const manifestBytes = await readFile(join(out, 'manifest.json'));
    const manifest = JSON.parse(manifestBytes.toString('utf8'));
    expect(manifest.status).toBe('success');
    expect(manifest.row_count).toBe(ROWS);
    expect(manifest.part_count).toBe(1);
    expect(manifest.parts[0].path).toBe('part-000001.parquet');
    expect(manifest.source).toEqual({ engine: 'postgres', schema, table: 'orders' });
    expect(manifest.schema_fingerprint).toMatch(/^xxh3:[0-9a-f]{16}$/);
    expect(await readFile(join(out, '_SUCCESS'), 'utf8')).toBe(`${await xxh3Fingerprint(manifestBytes)}\n`);

    const partBytes = await readFile(join(out, 'part-000001.parquet'));
    expect(manifest.parts[0].size_bytes).toBe(partBytes.length);
    expect(manifest.parts[0].content_fingerprint).toBe(await xxh3Fingerprint(partBytes));

    const duck = await readWithDuckDB(join(out, 'part-000001.parquet'));
    expect(duck.rows.length).toBe(ROWS);
    const types = Object.fromEntries(duck.columns.map((c) => [c.name, c.type]));
    expect(types).toMatchObject({
      id: 'BIGINT', customer: 'INTEGER', amount: 'DECIMAL(12,2)', ratio: 'DOUBLE', paid: 'BOOLEAN',
      status: 'VARCHAR', ordered_on: 'DATE', created_at: 'TIMESTAMP WITH TIME ZONE', local_ts: 'TIMESTAMP', blob: 'BLOB',
    });
    const py = await readWithPyArrow(join(out, 'part-000001.parquet'));
    expect(py.numRows).toBe(ROWS);
    const pyTypes = Object.fromEntries(py.columns.map((c) => [c.name, c.type]));
    expect(pyTypes).toMatchObject({ id: 'int64', amount: 'decimal128(12, 2)', created_at: 'timestamp[us, tz=UTC]', local_ts: 'timestamp[us]', ordered_on: 'date32[day]' });

    // Values equal the source, compared through text renderings both sides agree on.
    const src = await pgExec<{ id: string; amount: string; note: string | null; created: string; local: string; day: string }>(
      `SELECT id::text, amount::text, note, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS created,
              to_char(local_ts, 'YYYY-MM-DD HH24:MI:SS.US') AS local, ordered_on::text AS day
       FROM ${schema}.orders ORDER BY id`);
    const got = await queryWithDuckDB(`SELECT id::VARCHAR AS id, amount::VARCHAR AS amount, note,
       strftime(created_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%f') AS created, strftime(local_ts, '%Y-%m-%d %H:%M:%S.%f') AS local,
       ordered_on::VARCHAR AS day FROM read_parquet(?) ORDER BY id`, [join(out, 'part-000001.parquet')]);
    expect(got).toEqual(src);

    // State: metrics, file log, journal.
    const db = new Database(join(dir, '.rivet_state.db'), { readonly: true });
    const metric = db.prepare('SELECT * FROM export_metrics').get() as Record<string, unknown>;
    expect(metric).toMatchObject({ export_name: 'orders', status: 'success', total_rows: ROWS, files_produced: 1, mode: 'full' });
    expect(db.prepare('SELECT file_name, row_count FROM file_log').all()).toEqual([{ file_name: 'part-000001.parquet', row_count: ROWS }]);
    const journal = JSON.parse((db.prepare('SELECT journal_json FROM run_journal').get() as { journal_json: string }).journal_json);
    expect(journal.entries.map((e: { event: object }) => Object.keys(e.event)[0])).toEqual(['PlanResolved', 'FileWritten', 'SchemaSnapshot', 'RunCompleted']);
    db.close();
  });

  it('-e naming an export the config lacks is a usage error (exit 2) that lists the exports, and nothing is written', async () => {
    const { out, cfg } = await setup(`  - name: orders\n    table: ${schema}.orders\n    format: parquet\n    destination: { type: local, path: OUT }\n`);
    const r = await runCli(['run', '-c', cfg, '-e', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: export 'nope' is not in");
    expect(r.stderr).toContain('exports in this config: orders');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await exists(out)).toBe(false);
  });

  it('exports a query to CSV that DuckDB reads back with the same values', async () => {
    const { out, cfg } = await setup(
      `  - name: orders_csv\n    query: "SELECT id, amount, note, paid FROM ${schema}.orders WHERE id <= \${max_id}"\n    format: csv\n    destination: { type: local, path: OUT }\n`,
    );
    const r = await runCli(['run', '-c', cfg, '-p', 'max_id=1234']);
    expect(r.code).toBe(0);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.parts[0].path).toBe('part-000001.csv');
    expect(manifest.row_count).toBe(1234);
    const text = await readFile(join(out, 'part-000001.csv'), 'utf8');
    expect(text.split('\n')[0]).toBe('id,amount,note,paid');
    expect(text).toContain('"note, ""quoted"" 1",');
    const got = await queryWithDuckDB(`SELECT count(*)::INTEGER AS n, sum(amount::DECIMAL(12,2))::VARCHAR AS s, count(note)::INTEGER AS notes FROM read_csv(?)`, [join(out, 'part-000001.csv')]);
    const src = await pgExec(`SELECT count(*)::int AS n, sum(amount)::text AS s, count(note)::int AS notes FROM ${schema}.orders WHERE id <= 1234`);
    expect(got).toEqual(src);
  });

  it('a rerun never overwrites a committed part: new numbers, old snapshot moved aside after _SUCCESS, every manifest kept', async () => {
    const { out, cfg } = await setup(`  - name: small\n    query: SELECT id FROM ${schema}.orders WHERE id <= 10\n    format: parquet\n    destination: { type: local, path: OUT }\n`);
    expect((await runCli(['run', '-c', cfg])).code).toBe(0);
    const first = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect((await runCli(['run', '-c', cfg])).code).toBe(0);
    const second = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(second.run_id).not.toBe(first.run_id);
    expect(second.parts.map((p: { path: string }) => p.path)).toEqual(['part-000002.parquet']);
    expect((await readdir(out)).filter((f) => f.startsWith('part-'))).toEqual(['part-000002.parquet']);
    expect(await exists(join(out, '_superseded', second.run_id, 'part-000001.parquet'))).toBe(true);
    expect(JSON.parse(await readFile(join(out, '_rivet/runs', first.run_id, 'manifest.json'), 'utf8')).run_id).toBe(first.run_id);
  });

  it('a failed run leaves the previous dataset and its _SUCCESS as they were, archives its failed manifest, and exits 1', async () => {
    const { out, cfg, dir } = await setup(`  - name: flaky\n    query: SELECT id, 1 / (id - \${d})::int AS x FROM ${schema}.orders WHERE id <= 10\n    format: parquet\n    destination: { type: local, path: OUT }\n`);
    expect((await runCli(['run', '-c', cfg, '-p', 'd=0'])).code).toBe(0);
    const manifestBefore = await readFile(join(out, 'manifest.json'));
    const successBefore = await readFile(join(out, '_SUCCESS'));
    // Fails on row 5, while streaming: the part is never published.
    const r = await runCli(['run', '-c', cfg, '-p', 'd=5']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/division by zero/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await readFile(join(out, 'manifest.json'))).toEqual(manifestBefore);
    expect(await readFile(join(out, '_SUCCESS'))).toEqual(successBefore);
    expect(await exists(join(out, 'part-000001.parquet'))).toBe(true);
    const runs = await readdir(join(out, '_rivet/runs'));
    const failedRun = runs.find((id) => id !== JSON.parse(manifestBefore.toString()).run_id)!;
    expect(JSON.parse(await readFile(join(out, '_rivet/runs', failedRun, 'manifest.json'), 'utf8'))).toMatchObject({ status: 'failed', run_id: failedRun, parts: [] });
    expect(await verifyPrefix(openLocalDestination(out))).toMatchObject({ passed: true, failures: [], run_id: JSON.parse(manifestBefore.toString()).run_id });
    const db = new Database(join(dir, '.rivet_state.db'), { readonly: true });
    expect((db.prepare(`SELECT status FROM export_metrics ORDER BY id`).all() as { status: string }[]).map((x) => x.status)).toEqual(['success', 'failed']);
    db.close();
  });

  it('parts a failed run had already published leave the root for _rivet/runs/<run_id>/parts/; the prefix still verifies clean', async () => {
    const { out, cfg } = await setup(
      `  - name: rolled_fail\n    query: SELECT *, 1 / (id - \${d})::int AS x FROM ${schema}.orders\n    format: parquet\n    max_file_size: 40KB\n    tuning: { batch_size: 1000 }\n` +
        `    parquet: { row_group_strategy: fixed_rows, row_group_rows: 1000 }\n    destination: { type: local, path: OUT }\n`,
    );
    expect((await runCli(['run', '-c', cfg, '-p', 'd=0'])).code).toBe(0);
    const before = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    const r = await runCli(['run', '-c', cfg, '-p', `d=${ROWS - 200}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/division by zero/);
    expect(JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'))).toEqual(before);
    const failedRun = (await readdir(join(out, '_rivet/runs'))).find((id) => id !== before.run_id)!;
    const archived = JSON.parse(await readFile(join(out, '_rivet/runs', failedRun, 'manifest.json'), 'utf8'));
    expect(archived.status).toBe('failed');
    // Parts it published before the failure are out of the root, kept with the run's record.
    const setAside = await readdir(join(out, '_rivet/runs', failedRun, 'parts'));
    expect(setAside.length).toBeGreaterThan(0);
    const atRoot = (await readdir(out)).filter((f) => f.startsWith('part-')).sort();
    expect(atRoot).toEqual(before.parts.map((p: { path: string }) => p.path).sort());
    // (validate cannot read this config without its `d` param, so the same check runs in-process)
    expect(await verifyPrefix(openLocalDestination(out))).toMatchObject({ passed: true, failures: [], run_id: before.run_id });
    // The next good run numbers its parts after the set-aside ones and commits normally.
    expect((await runCli(['run', '-c', cfg, '-p', 'd=0'])).code).toBe(0);
    expect(await verifyPrefix(openLocalDestination(out))).toMatchObject({ passed: true, failures: [] });
  });

  it('max_file_size rolls to new parts at row-group boundaries; the manifest lists them all in order', async () => {
    const { out, cfg } = await setup(
      `  - name: rolled\n    table: ${schema}.orders\n    format: parquet\n    max_file_size: 40KB\n    tuning: { batch_size: 1000 }\n    parquet: { row_group_strategy: fixed_rows, row_group_rows: 1000 }\n    destination: { type: local, path: OUT }\n`,
    );
    const r = await runCli(['run', '-c', cfg]);
    expect(r.code).toBe(0);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.part_count).toBeGreaterThan(1);
    expect(manifest.parts.map((p: { path: string }) => p.path)).toEqual(
      manifest.parts.map((_: unknown, i: number) => `part-${String(i + 1).padStart(6, '0')}.parquet`),
    );
    expect(manifest.row_count).toBe(ROWS);
    for (const p of manifest.parts) {
      const bytes = await readFile(join(out, p.path));
      expect(bytes.length).toBe(p.size_bytes);
      expect(await xxh3Fingerprint(bytes)).toBe(p.content_fingerprint);
    }
    const [all] = await queryWithDuckDB(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS d FROM read_parquet(?)`, [join(out, 'part-*.parquet')]);
    expect(all).toEqual({ n: ROWS, d: ROWS });
  });

  it('streams CSV to stdout with no manifest', async () => {
    const { cfg, dir } = await setup(`  - name: to_stdout\n    query: SELECT id, status FROM ${schema}.orders WHERE id <= 3 ORDER BY id\n    format: csv\n    destination: { type: stdout }\n`);
    const r = await runCli(['run', '-c', cfg]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('id,status\n1,paid\n2,shipped\n3,new\n');
    expect(await readdir(dir)).not.toContain('manifest.json');
  });

  it('refuses --json with a stdout destination (the summary would corrupt the data stream), before any row is read', async () => {
    const { cfg } = await setup(`  - name: to_stdout\n    query: SELECT id, status FROM ${schema}.orders WHERE id <= 3 ORDER BY id\n    format: csv\n    destination: { type: stdout }\n`);
    const r = await runCli(['run', '-c', cfg, '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("--json cannot be used with export 'to_stdout'");
    expect(r.stderr).toContain('--summary-output');
  });

  it('--json and --summary-output give the run aggregate', async () => {
    const { cfg, dir } = await setup(
      `  - name: a\n    query: SELECT 1 AS x\n    format: csv\n    destination: { type: local, path: OUT/a }\n  - name: b\n    query: SELECT 2 AS y\n    format: parquet\n    destination: { type: local, path: OUT/b }\n`,
    );
    const summary = join(dir, 'summary.json');
    const r = await runCli(['run', '-c', cfg, '--json', '--summary-output', summary]);
    expect(r.code).toBe(0);
    const agg = JSON.parse(r.stdout);
    expect(agg).toMatchObject({ total_exports: 2, success_count: 2, failed_count: 0, total_rows: 2, total_files: 2, parallel_mode: 'sequential' });
    expect(agg.per_export.map((e: { export_name: string }) => e.export_name)).toEqual(['a', 'b']);
    expect(JSON.parse(await readFile(summary, 'utf8'))).toEqual(agg);
    expect(r.stderr).toMatch(/2 success · 0 failed/);
  });

  it('never writes the source password to stderr, manifests, plans, receipts, summaries or state', async () => {
    const password = 'rivet';
    const url = testPgUrl();
    expect(url).toContain(`:${password}@`);
    const { out, cfg, dir } = await setup(
      `  - name: secret\n    query: SELECT id FROM ${schema}.orders WHERE id < 3\n    format: csv\n    destination: { type: local, path: OUT }\n  - name: broken\n    table: ${schema}.no_such_table\n    format: csv\n    destination: { type: local, path: OUT/broken }\n`,
      `  url: ${url}`,
    );
    const summary = join(dir, 'summary.json');
    const r = await runCli(['run', '-c', cfg, '--summary-output', summary, '--json']);
    expect(r.code).toBe(1);
    const texts = [r.stderr, r.stdout, await readFile(summary, 'utf8')];
    const walk = async (d: string): Promise<string[]> => {
      const files: string[] = [];
      for (const e of await readdir(d, { withFileTypes: true })) {
        if (e.isDirectory()) files.push(...(await walk(join(d, e.name))));
        else if (e.name.endsWith('.json')) files.push(join(d, e.name));
      }
      return files;
    };
    for (const f of await walk(out)) texts.push(await readFile(f, 'utf8'));
    const db = new Database(join(dir, '.rivet_state.db'), { readonly: true });
    texts.push(JSON.stringify(db.prepare('SELECT * FROM export_metrics').all()), JSON.stringify(db.prepare('SELECT * FROM run_journal').all()));
    db.close();
    for (const t of texts) expect(t).not.toContain(url);
    expect(texts.join('\n')).not.toMatch(/rivet:rivet@/);
  });
});
