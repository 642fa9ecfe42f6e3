import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshDatabase, mysqlExec, testMysqlUrl } from '../helpers/mysql.js';
import { manifestOf, readParts } from '../helpers/lake.js';

/**
 * `rivet reconcile` / `rivet repair` through the built CLI against the real MariaDB server:
 * a row deleted at the source after the export is found in exactly one chunk, and repair
 * re-exports that chunk alone, leaving a dataset that validates and matches the source.
 */
let db: string;
let env: Record<string, string>;

beforeAll(async () => {
  db = await freshDatabase('e2e_myreconcile');
  env = { RV_MY_URL: testMysqlUrl(db) };
  await mysqlExec(
    `CREATE TABLE orders (id BIGINT PRIMARY KEY, amount INT, day DATE);
     INSERT INTO orders SELECT seq, seq * 10, DATE_ADD('2024-01-01', INTERVAL seq % 20 DAY) FROM seq_1_to_1000;`,
    [],
    db,
  );
}, 60_000);

afterAll(async () => {
  await mysqlExec(`DROP DATABASE IF EXISTS \`${db}\``);
});

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'rv-myreconcile-'));
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(
    cfg,
    `source:\n  type: mysql\n  url_env: RV_MY_URL\n  tls: { mode: disable }\n  tuning: { batch_size: 500, throttle_ms: 0 }\nexports:\n` +
      `  - name: orders\n    query: SELECT * FROM orders\n    mode: chunked\n    chunk_column: id\n    chunk_size: 250\n    chunk_checkpoint: true\n    format: parquet\n    destination: { type: local, path: ${join(dir, 'out')} }\n`,
  );
  return { dir, cfg, out: join(dir, 'out') };
}


async function datasetIds(out: string): Promise<number[]> {
  const rows = await readParts(out, await manifestOf(out), 'CAST(id AS INTEGER) AS id', 'ORDER BY id');
  return rows.map((r) => Number(r.id));
}

async function cli(args: string[]) {
  const r = await runCli(args, { env });
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return r;
}

describe('rivet reconcile and rivet repair (built CLI, real MariaDB)', () => {
  it('a deleted row is flagged in exactly its chunk; repair re-exports that chunk alone; validate passes; reconcile is clean again', async () => {
    const { dir, cfg, out } = await setup();
    const run = await cli(['run', '-c', cfg]);
    expect(run.code, run.stderr).toBe(0);
    const runId = (await manifestOf(out)).run_id;

    const clean = await cli(['reconcile', '-c', cfg, '-e', 'orders']);
    expect(clean.stderr).toBe('');
    expect(clean.code).toBe(0);
    expect(clean.stdout).toBe(
      `\n  Export     : orders\n  Run        : ${runId}\n  Strategy   : chunked\n  Partitions : 4 (4 match, 0 mismatch, 0 unknown)\n` +
        '  Rows       : source 1,000 / exported 1,000\n  Status     : all partitions match\n',
    );

    await mysqlExec('DELETE FROM orders WHERE id = 600', [], db);
    try {
      const report = join(dir, 'reconcile.json');
      const found = await cli(['reconcile', '-c', cfg, '-e', 'orders', '--format', 'json', '-o', report]);
      expect(found.code).toBe(1);
      expect(found.stdout).toBe(`report written to ${report}\n`);
      expect(found.stderr).toContain("error: reconcile: source counts differ for 1 of 4 partition(s) of 'orders'");
      const json = JSON.parse(await readFile(report, 'utf8'));
      expect(json).toMatchObject({ export_name: 'orders', run_id: runId, strategy: 'chunked' });
      expect(json.summary).toEqual({ total_partitions: 4, matches: 3, mismatches: 1, unknown: 0, total_source_rows: 999, total_exported_rows: 1000 });
      expect(json.partitions.map((p: { status: string }) => p.status)).toEqual(['match', 'match', 'mismatch', 'match']);
      expect(json.partitions[2]).toEqual({ kind: 'chunk', identifier: 'chunk 2 [501..750]', source_count: 249, exported_count: 250, status: 'mismatch', note: 'source=249, exported=250, diff=-1' });

      const pretty = await cli(['reconcile', '-c', cfg, '-e', 'orders']);
      expect(pretty.code).toBe(1);
      expect(pretty.stdout).toContain('  Partitions : 4 (3 match, 1 mismatch, 0 unknown)\n  Rows       : source 999 / exported 1,000\n  Repair candidates:\n');
      expect(pretty.stdout).toContain('    • chunk 2 [501..750] — source=249, exported=250 (source=249, exported=250, diff=-1)\n');

      // Dry run: a plan of one chunk, nothing written.
      const before = (await readdir(out)).sort();
      const manifestBefore = await readFile(join(out, 'manifest.json'), 'utf8');
      const dry = await cli(['repair', '-c', cfg, '-e', 'orders', '--report', report]);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain('  Actions    : 1 chunk(s) to re-export\n    • chunk 2 [501..750] — source=249, exported=250, diff=-1\n');
      expect(dry.stdout).toContain('nothing was written; add --execute');
      expect((await readdir(out)).sort()).toEqual(before);
      expect(await readFile(join(out, 'manifest.json'), 'utf8')).toBe(manifestBefore);

      const exec = await cli(['repair', '-c', cfg, '-e', 'orders', '--report', report, '--execute', '--format', 'json', '-o', join(dir, 'repair.json')]);
      expect(exec.stderr).toBe('');
      expect(exec.code).toBe(0);
      const rep = JSON.parse(await readFile(join(dir, 'repair.json'), 'utf8'));
      expect(rep.summary).toEqual({ planned: 1, executed: 1, skipped: 0, failed: 0, rows_written: 249 });
      expect(rep.results).toEqual([[expect.objectContaining({ chunk_index: 2 }), { executed: { rows_written: 249, path: 'part-000005.parquet' } }]]);

      // The other chunks' parts are untouched; the repaired part takes chunk 2's place.
      const after = await readdir(out);
      for (const f of before) expect(after).toContain(f);
      expect(after.filter((f) => f.startsWith('part-')).length).toBe(5);
      const m = await manifestOf(out);
      expect(m.run_id).toBe(rep.repair_run_id);
      expect(m.row_count).toBe(999);
      expect(m.parts.map((p) => [p.path, p.rows])).toEqual([
        ['part-000001.parquet', 250],
        ['part-000002.parquet', 250],
        ['part-000004.parquet', 250],
        ['part-000005.parquet', 249],
      ]);
      const ids = await datasetIds(out);
      expect(ids).toHaveLength(999);
      expect(ids).not.toContain(600);
      expect(ids).toEqual((await mysqlExec<{ id: string }>('SELECT id FROM orders ORDER BY id', [], db)).map((r) => Number(r.id)));

      const v = await cli(['validate', '-c', cfg, '-e', 'orders']);
      expect(v.code).toBe(0);
      expect(v.stdout).toContain('status:    PASSED');

      const again = await cli(['reconcile', '-c', cfg, '-e', 'orders']);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('  Partitions : 4 (4 match, 0 mismatch, 0 unknown)\n  Rows       : source 999 / exported 999\n  Status     : all partitions match\n');
    } finally {
      await mysqlExec(`INSERT IGNORE INTO orders VALUES (600, 6000, '2024-01-01')`, [], db);
    }
  });
});
