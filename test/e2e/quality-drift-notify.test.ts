import { mkdtemp, readFile, writeFile, access } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { freshDatabase, mysqlExec, testMysqlUrl } from '../helpers/mysql.js';
import { queryWithDuckDB } from '../helpers/readers.js';

/**
 * quality:, on_schema_drift / shape drift and notifications.slack through the built CLI, on
 * PostgreSQL and MariaDB: a failing check or a drift `fail` commits nothing and leaves the
 * previous dataset current; a Slack-shaped POST reaches a real HTTP server on loopback.
 */

let hook: Server;
let hookUrl: string;
const posts: { attachments: { color: string; title: string; text: string }[] }[] = [];

beforeAll(async () => {
  hook = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/services/T0/B0/e2e-secret-token`;
});
afterAll(async () => {
  hook.closeAllConnections();
  await new Promise((resolve) => hook.close(resolve));
});

const exists = (p: string) => access(p).then(() => true, () => false);

interface Engine {
  name: string;
  source: () => string;
  exec: (sql: string) => Promise<unknown>;
  table: () => string;
}

let pgSchema: string;
let myDb: string;
const engines: Engine[] = [
  { name: 'postgres', source: () => `  type: postgres\n  url: ${testPgUrl()}`, exec: (sql) => pgExec(sql), table: () => `${pgSchema}.items` },
  { name: 'mysql', source: () => `  type: mysql\n  url: ${testMysqlUrl(myDb)}`, exec: (sql) => mysqlExec(sql, [], myDb), table: () => 'items' },
];

beforeAll(async () => {
  pgSchema = await freshSchema('e2e_quality');
  myDb = await freshDatabase('e2e_quality');
}, 60_000);
afterAll(async () => {
  await mysqlExec(`DROP DATABASE IF EXISTS \`${myDb}\``);
});

async function setup(engine: Engine, exportYaml: string, root = '') {
  const dir = await mkdtemp(join(tmpdir(), `rivet-quality-${engine.name}-`));
  const out = join(dir, 'out');
  const cfg = join(dir, 'rivet.yaml');
  const write = (yaml: string, top = root) => writeFile(cfg, `source:\n${engine.source()}\n${top}exports:\n${yaml.replaceAll('OUT', out).replaceAll('TABLE', engine.table())}`);
  await write(exportYaml);
  return { dir, out, cfg, write };
}

describe.each(engines)('quality, drift and notifications on $name (built CLI)', (engine) => {
  beforeAll(async () => {
    await engine.exec(`DROP TABLE IF EXISTS ${engine.table()}`);
    await engine.exec(`CREATE TABLE ${engine.table()} (id BIGINT PRIMARY KEY, code VARCHAR(400), note VARCHAR(400))`);
    const values = Array.from({ length: 20 }, (_, i) => `(${i + 1}, ${i % 4 === 0 ? 'NULL' : `'c${i % 10}'`}, 'n${i}')`).join(', ');
    await engine.exec(`INSERT INTO ${engine.table()} VALUES ${values}`);
  });

  it('a passing quality block commits; a failing one commits nothing, keeps the previous dataset, journals and notifies', async () => {
    const exp = (q: string) => `  - name: items\n    table: TABLE\n    format: parquet\n    quality: ${q}\n    destination: { type: local, path: OUT }\n`;
    const { out, cfg, dir, write } = await setup(engine, exp('{ row_count_min: 20, row_count_max: 20, null_ratio_max: { code: 0.25 }, unique_columns: [id] }'), `notifications:\n  slack:\n    webhook_url: ${hookUrl}\n    on: [failure]\n`);
    const ok = await runCli(['run', '-c', cfg], { cwd: dir });
    expect(ok.stderr).not.toMatch(/\n\s+at /);
    expect(ok.code).toBe(0);
    const manifest = await readFile(join(out, 'manifest.json'));
    const success = await readFile(join(out, '_SUCCESS'));
    const before = posts.length;

    // code has 5 NULLs in 20 rows (0.25 passes, strictly); 'c0'.. repeat, so unique on code fails.
    await write(exp('{ null_ratio_max: { code: 0.2 }, unique_columns: [id, code] }'));
    const bad = await runCli(['run', '-c', cfg], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("column 'code' null ratio 0.2500 exceeds the maximum 0.2000");
    expect(bad.stderr).toMatch(/column 'code' has \d+ duplicate values in 20 rows/);
    expect(bad.stderr).toContain('quality checks failed');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    // The previous dataset is still the one the prefix shows, and still verifies.
    expect(await readFile(join(out, 'manifest.json'))).toEqual(manifest);
    expect(await readFile(join(out, '_SUCCESS'))).toEqual(success);
    const v = await runCli(['validate', '-c', cfg], { cwd: dir });
    expect(v.code).toBe(0);
    const [{ n }] = await queryWithDuckDB(`SELECT count(*)::INTEGER AS n FROM read_parquet('${join(out, 'part-*.parquet')}')`);
    expect(n).toBe(20);

    const journal = await runCli(['journal', '-c', cfg, '-e', 'items'], { cwd: dir });
    expect(journal.stdout).toContain('quality [fail]: column \'code\' null ratio 0.2500 exceeds the maximum 0.2000');

    expect(posts.length).toBe(before + 1);
    const a = posts.at(-1)!.attachments[0];
    expect(a.color).toBe('#e74c3c');
    expect(a.text).toMatch(/^\*items\* \| status: `failed` \| rows: 20 \| duration: \d+ms\nerror: .*quality checks failed/);
    // The webhook URL is a credential: it appears in no output.
    expect(bad.stderr + bad.stdout + ok.stderr).not.toContain('e2e-secret-token');
  });

  it('schema drift: warn reports and commits; fail commits nothing and leaves the previous dataset and cursor', async () => {
    const exp = (policy: string) => `  - name: drifting\n    query: SELECT * FROM TABLE\n    format: csv\n    on_schema_drift: ${policy}\n    shape_drift_warn_factor: 2\n    destination: { type: local, path: OUT }\n`;
    const { out, cfg, dir, write } = await setup(engine, exp('warn'));
    expect((await runCli(['run', '-c', cfg], { cwd: dir })).code).toBe(0);
    const first = await runCli(['run', '-c', cfg], { cwd: dir });
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/schema:\s+unchanged/);

    await engine.exec(`ALTER TABLE ${engine.table()} ADD COLUMN extra INTEGER`);
    try {
      const warned = await runCli(['run', '-c', cfg], { cwd: dir });
      expect(warned.code).toBe(0);
      expect(warned.stderr).toContain('added column extra');
      expect(warned.stderr).toMatch(/schema:\s+changed/);

      // The snapshot now has `extra`; dropping it under `fail` must not commit.
      await engine.exec(`ALTER TABLE ${engine.table()} DROP COLUMN extra`);
      const manifest = await readFile(join(out, 'manifest.json'));
      await write(exp('fail'));
      const failed = await runCli(['run', '-c', cfg], { cwd: dir });
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain('schema drift detected: 0 added, 1 removed, 0 retyped');
      expect(failed.stderr).toContain('on_schema_drift: warn');
      expect(await readFile(join(out, 'manifest.json'))).toEqual(manifest);
      expect(await exists(join(out, '_SUCCESS'))).toBe(true);
      expect((await runCli(['validate', '-c', cfg], { cwd: dir })).code).toBe(0);
      // Still failing next time: the snapshot was not replaced by the refused schema.
      expect((await runCli(['run', '-c', cfg], { cwd: dir })).code).toBe(1);
    } finally {
      await engine.exec(`ALTER TABLE ${engine.table()} DROP COLUMN IF EXISTS extra`).catch(() => undefined);
    }
  });

  it('a quality column the query does not return is a config error (exit 2) before anything is written', async () => {
    const { cfg, dir, out } = await setup(engine, `  - name: checked\n    table: TABLE\n    format: parquet\n    quality: { null_ratio_max: { code: 0.5, cod: 0.5 }, unique_columns: [id, ID, note_id] }\n    destination: { type: local, path: OUT }\n`);
    const r = await runCli(['run', '-c', cfg], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("export 'checked': quality names column(s) its query does not return (null_ratio_max: 'cod', unique_columns: 'ID', unique_columns: 'note_id'); the query returns 'id', 'code', 'note'");
    expect(r.stderr).toContain('fix the names under `quality:`');
    expect(await exists(out)).toBe(false);
    const planned = await runCli(['plan', '-c', cfg, '-e', 'checked'], { cwd: dir });
    expect(planned.code).toBe(2);
    expect(planned.stderr).toContain("quality names column(s) its query does not return (null_ratio_max: 'cod', unique_columns: 'ID', unique_columns: 'note_id')");
    // Named right, the same block runs.
    await writeFile(cfg, (await readFile(cfg, 'utf8')).replace(', cod: 0.5', '').replace('[id, ID, note_id]', '[id]'));
    expect((await runCli(['run', '-c', cfg], { cwd: dir })).code).toBe(0);
  });

  it('shape_drift_warn_factor: 0 measures no longest values: the journaled snapshot carries none', async () => {
    const { cfg, dir } = await setup(engine, `  - name: unshaped\n    query: SELECT id, note FROM TABLE\n    format: parquet\n    shape_drift_warn_factor: 0\n    destination: { type: local, path: OUT }\n`);
    expect((await runCli(['run', '-c', cfg], { cwd: dir })).code).toBe(0);
    const j = JSON.parse((await runCli(['journal', '-c', cfg, '-e', 'unshaped', '--format', 'json'], { cwd: dir })).stdout);
    const snapshot = j.journals[0].entries.map((e: { event: Record<string, unknown> }) => e.event).find((e: Record<string, unknown>) => 'SchemaSnapshot' in e).SchemaSnapshot;
    expect(snapshot.columns.map((c: { name: string }) => c.name)).toEqual(['id', 'note']);
    expect(snapshot.text_max).toEqual({});
  });

  it('shape drift warns when a text column grows past the factor, and never fails the run', async () => {
    const { cfg, dir } = await setup(engine, `  - name: shapes\n    query: SELECT id, note FROM TABLE\n    format: csv\n    shape_drift_warn_factor: 3\n    destination: { type: local, path: OUT }\n`);
    expect((await runCli(['run', '-c', cfg], { cwd: dir })).code).toBe(0);
    await engine.exec(`UPDATE ${engine.table()} SET note = '${'x'.repeat(300)}' WHERE id = 7`);
    const grown = await runCli(['run', '-c', cfg], { cwd: dir });
    expect(grown.code).toBe(0);
    expect(grown.stderr).toMatch(/column note grew \d+(\.\d)?× \(longest value 3 → 300 bytes\)/);
  });
});
