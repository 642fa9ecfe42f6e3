import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { freshDatabase, mysqlExec, testMysqlUrl } from '../helpers/mysql.js';
import { countWithDuckDB } from '../helpers/readers.js';

/**
 * What a run leaves in state and beside a plan: the `run_aggregate` row of a multi-export
 * `rivet run` (docs/reference/state.md; none for a single export), `schema=CHANGED|ok` on `rivet metrics`
 * (docs/reference/state.md), and the run report `rivet apply` writes under the plan file's directory (docs/reference/cli.md).
 */
let pgSchema: string;
let myDb: string;

beforeAll(async () => {
  pgSchema = await freshSchema('e2e_run_history');
  await pgExec(`CREATE TABLE ${pgSchema}.a (id int PRIMARY KEY, v text); INSERT INTO ${pgSchema}.a SELECT g, 'a' || g FROM generate_series(1, 300) g;
    CREATE TABLE ${pgSchema}.b (id int PRIMARY KEY); INSERT INTO ${pgSchema}.b SELECT g FROM generate_series(1, 70) g;`);
  myDb = await freshDatabase('e2e_run_history');
  await mysqlExec('CREATE TABLE a (id int PRIMARY KEY, v text)', [], myDb);
  await mysqlExec("INSERT INTO a SELECT seq, CONCAT('a', seq) FROM seq_1_to_300", [], myDb);
  await mysqlExec('CREATE TABLE b (id int PRIMARY KEY)', [], myDb);
  await mysqlExec('INSERT INTO b SELECT seq FROM seq_1_to_70', [], myDb);
});

type Engine = 'postgres' | 'mysql';

async function setup(engine: Engine): Promise<{ dir: string; cfg: string }> {
  const dir = await mkdtemp(join(tmpdir(), `rivet-history-${engine}-`));
  const cfg = join(dir, 'rivet.yaml');
  const t = (name: string) => (engine === 'postgres' ? `${pgSchema}.${name}` : name);
  await writeFile(
    cfg,
    `source:\n  type: ${engine}\n  url_env: HISTORY_SOURCE_URL\n  tls: { mode: disable }\nexports:\n` +
      `  - name: a\n    table: ${t('a')}\n    format: parquet\n    destination: { type: local, path: "${join(dir, 'lake/a')}" }\n` +
      `  - name: b\n    query: "SELECT * FROM ${t('b')}"\n    format: csv\n    destination: { type: local, path: "${join(dir, 'lake/b')}" }\n`,
  );
  return { dir, cfg };
}

/** The built CLI with the source URL in the environment (a plan never carries an inline one). */
function cli(engine: Engine, args: string[]) {
  return runCli(args, { env: { HISTORY_SOURCE_URL: engine === 'postgres' ? testPgUrl() : testMysqlUrl(myDb) } });
}

function aggregates(dir: string): Record<string, unknown>[] {
  const db = new Database(join(dir, '.rivet_state.db'), { readonly: true });
  try {
    return db.prepare('SELECT * FROM run_aggregate ORDER BY finished_at').all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

describe('run history (built CLI)', () => {
  for (const engine of ['postgres', 'mysql'] as const) {
    it(`${engine}: a multi-export run stores its aggregate (the --json one); a single-export run stores none`, async () => {
      const { dir, cfg } = await setup(engine);
      const r = await cli(engine, ['run', '-c', cfg, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const printed = JSON.parse(r.stdout) as Record<string, unknown>;
      const rows = aggregates(dir);
      expect(rows).toHaveLength(1);
      const [row] = rows;
      expect(row).toMatchObject({
        run_aggregate_id: printed.run_aggregate_id,
        started_at: printed.started_at,
        finished_at: printed.finished_at,
        config_path: cfg,
        parallel_mode: 'sequential',
        total_exports: 2,
        success_count: 2,
        failed_count: 0,
        skipped_count: 0,
        total_rows: 370,
        total_files: 2,
        total_bytes: printed.total_bytes,
      });
      const details = JSON.parse(String(row.details_json)) as { export_name: string; rows: number; status: string }[];
      expect(details.map((d) => [d.export_name, d.rows, d.status])).toEqual([
        ['a', 300, 'success'],
        ['b', 70, 'success'],
      ]);
      expect(await countWithDuckDB(join(dir, 'lake/a/part-*.parquet'))).toBe(300);

      const single = await cli(engine, ['run', '-c', cfg, '-e', 'b', '--json']);
      expect(single.code, single.stderr).toBe(0);
      expect(aggregates(dir)).toHaveLength(1);
    });

    it(`${engine}: rivet metrics flags each run's schema verdict (ok, then CHANGED after a column is added)`, async () => {
      const { cfg } = await setup(engine);
      const table = engine === 'postgres' ? `${pgSchema}.b` : 'b';
      expect((await cli(engine, ['run', '-c', cfg, '-e', 'b'])).code).toBe(0);
      expect((await cli(engine, ['run', '-c', cfg, '-e', 'b'])).code).toBe(0);
      if (engine === 'postgres') await pgExec(`ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS extra int`);
      else await mysqlExec(`ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS extra int`, [], myDb);
      try {
        const changed = await cli(engine, ['run', '-c', cfg, '-e', 'b']);
        expect(changed.code, changed.stderr).toBe(0);
        const m = await cli(engine, ['metrics', '-c', cfg, '-e', 'b']);
        expect(m.code).toBe(0);
        const flags = m.stdout.split('\n').filter((l) => /^\s+schema=/.test(l) || /\sschema=/.test(l));
        // Newest first: changed, then unchanged (the first run had nothing to compare with, and is ok too).
        expect(flags.map((l) => /schema=(\w+)/.exec(l)![1])).toEqual(['CHANGED', 'ok', 'ok']);
      } finally {
        if (engine === 'postgres') await pgExec(`ALTER TABLE ${table} DROP COLUMN IF EXISTS extra`);
        else await mysqlExec(`ALTER TABLE ${table} DROP COLUMN IF EXISTS extra`, [], myDb);
      }
    });

    it(`${engine}: rivet apply writes the run report beside the plan (summary.json with apply_context, summary.md) and prints its path`, async () => {
      const { dir, cfg } = await setup(engine);
      const plan = join(dir, 'plan.json');
      const p = await cli(engine, ['plan', '-c', cfg, '-e', 'a', '--format', 'json', '-o', plan]);
      expect(p.code, p.stderr).toBe(0);
      const planId = (JSON.parse(await readFile(plan, 'utf8')) as { plan_id: string }).plan_id;
      const r = await cli(engine, ['apply', plan]);
      expect(r.code, r.stderr).toBe(0);
      const md = /report:\s+(\S+summary\.md)/.exec(r.stderr)?.[1];
      expect(md, r.stderr).toBeTruthy();
      expect(md!.startsWith(join(dir, '.rivet', 'runs'))).toBe(true);
      const summary = JSON.parse(await readFile(md!.replace(/summary\.md$/, 'summary.json'), 'utf8')) as Record<string, unknown>;
      expect(summary).toMatchObject({
        export_name: 'a',
        status: 'success',
        destination_kind: 'local',
        format: 'parquet',
        total_rows: 300,
        files_produced: 1,
        retries: 0,
        validation: null,
        reconciliation: null,
        error_message: null,
        resumable: false,
        apply_context: { plan_id: planId, forced: false, force_bypassed: [] },
      });
      expect(existsSync(md!)).toBe(true);
      const text = await readFile(md!, 'utf8');
      expect(text).toContain(`# Rivet run: \`${String(summary.run_id)}\``);
      expect(text).toMatch(/- Rows: 300/);
      expect(await countWithDuckDB(join(dir, 'lake/a/part-*.parquet'))).toBe(300);
    });
  }
});
