import { readFile, mkdtemp, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { freshDatabase, mysqlExec, testMysqlUrl } from '../helpers/mysql.js';
import { queryWithDuckDB } from '../helpers/readers.js';
import type { PlanArtifact } from '../../shared/run/plan-artifact.js';

/**
 * `rivet plan` / `rivet apply` through the built CLI against the real MariaDB server. The
 * source logs in as a user of its own whose password appears nowhere but in the environment,
 * so every artifact and every output can be searched for it.
 */
let db: string;
const USER = `rv_plan_${process.pid}`;
const PASSWORD = `My-Plan-Pw-${process.pid}-c4e81b`;
const server = new URL(testMysqlUrl());
let env: Record<string, string>;

beforeAll(async () => {
  db = await freshDatabase('e2e_myplan');
  env = { RV_MY_URL: `mysql://${USER}:${PASSWORD}@${server.host}/${db}`, RV_MY_PW: PASSWORD };
  await mysqlExec(
    `CREATE TABLE orders (id BIGINT PRIMARY KEY, amount INT, note VARCHAR(20));
     INSERT INTO orders SELECT seq, seq * 10, CONCAT('n', seq) FROM seq_1_to_1000;
     CREATE TABLE inc (id BIGINT PRIMARY KEY, v VARCHAR(20));
     INSERT INTO inc SELECT seq, CONCAT('v', seq) FROM seq_1_to_50;
     ANALYZE TABLE orders;
     DROP USER IF EXISTS '${USER}'@'%';
     CREATE USER '${USER}'@'%' IDENTIFIED BY '${PASSWORD}';
     GRANT SELECT ON \`${db}\`.* TO '${USER}'@'%';`,
    [],
    db,
  );
}, 60_000);

afterAll(async () => {
  await mysqlExec(`DROP DATABASE IF EXISTS \`${db}\`; DROP USER IF EXISTS '${USER}'@'%'`);
});

const URL_SOURCE = `source:\n  type: mysql\n  url_env: RV_MY_URL\n  tls: { mode: disable }\n  tuning: { batch_size: 500, throttle_ms: 5 }\n`;
const structuredSource = () =>
  `source:\n  type: mysql\n  host: ${server.hostname}\n  port: ${server.port}\n  user: ${USER}\n  password_env: RV_MY_PW\n  database: ${db}\n  tls: { mode: disable }\n`;

async function setup(exportsYaml: string, source = URL_SOURCE) {
  const dir = await mkdtemp(join(tmpdir(), 'rv-myplan-'));
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(cfg, `${source}exports:\n${exportsYaml.replaceAll('DIR', dir)}`);
  return { dir, cfg };
}

const chunked = (name: string, out: string) => `  - name: ${name}
    query: SELECT * FROM orders
    mode: chunked
    chunk_column: id
    chunk_size: 250
    chunk_checkpoint: true
    format: parquet
    destination: { type: local, path: DIR/${out} }
`;

interface Manifest {
  row_count: number;
  part_count: number;
  parts: { path: string; rows: number }[];
}
const manifestOf = async (out: string) => JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as Manifest;

async function rowsOf(out: string): Promise<string[]> {
  const m = await manifestOf(out);
  const files = m.parts.map((p) => `'${join(out, p.path)}'`).join(', ');
  const rows = await queryWithDuckDB(`SELECT CAST(id AS VARCHAR) AS id, amount, note FROM read_parquet([${files}])`);
  return rows.map((r) => `${String(r.id)}|${String(r.amount)}|${String(r.note)}`).sort();
}

/** Everything a command printed, to search for the password. */
const outputs: CliResult[] = [];
async function cli(args: string[], extraEnv: Record<string, string> = env): Promise<CliResult> {
  const r = await runCli(args, { env: extraEnv });
  outputs.push(r);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return r;
}

async function makePlan(cfg: string, dir: string, exportName: string, file = join(dir, 'plan.json')) {
  const r = await cli(['plan', '-c', cfg, '-e', exportName, '--format', 'json', '-o', file]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(`plan written to ${file}\n`);
  const text = await readFile(file, 'utf8');
  expect(text).not.toContain(PASSWORD);
  return { file, artifact: JSON.parse(text) as PlanArtifact };
}

describe('rivet plan / apply (built CLI, real MariaDB)', () => {
  it('plan pretty: the planned chunks of the integer key; nothing written', async () => {
    const { dir, cfg } = await setup(chunked('orders', 'out'));
    const r = await cli(['plan', '-c', cfg]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}Plan ID {2}: [0-9a-f]{32}$/m);
    expect(r.stdout).toContain('  Export   : orders\n  Strategy : chunked\n');
    expect(r.stdout).toContain('  Chunks   : 4 (1..250 … 751..1000)');
    expect(r.stdout).toMatch(/^ {2}Verdict {2}: [A-Z]+$/m);
    expect(r.stdout).toContain(`  Output   : local → ${dir}/out`);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('plan json -o: the artifact names the variable, never the password', async () => {
    const { dir, cfg } = await setup(chunked('orders', 'out'));
    const { artifact: a } = await makePlan(cfg, dir, 'orders');
    expect(a.strategy).toBe('chunked');
    expect(a.plan_fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(a.computed).toEqual({ chunk_ranges: [[1, 250], [251, 500], [501, 750], [751, 1000]], chunk_count: 4, cursor_snapshot: null, row_estimate: expect.any(Number) });
    expect(a.computed.row_estimate).toBeGreaterThan(0);
    expect(a.resolved_plan.source).toMatchObject({ type: 'mysql', url: null, url_env: 'RV_MY_URL', password: null });
  });

  it('plan → apply gives the same rows as run, from the planned ranges only', async () => {
    const { dir, cfg } = await setup(chunked('orders', 'applied') + chunked('direct', 'ran'));
    const ran = await cli(['run', '-c', cfg, '-e', 'direct']);
    expect(ran.code, ran.stderr).toBe(0);
    const { file } = await makePlan(cfg, dir, 'orders');
    // Rows beyond the planned max: a live MIN/MAX at apply would export them.
    await mysqlExec(`INSERT INTO orders VALUES (5000, 1, 'late'), (5001, 2, 'late')`, [], db);
    try {
      const r = await cli(['apply', file]);
      expect(r.stderr).toContain('status:   success');
      expect(r.code).toBe(0);
      const m = await manifestOf(join(dir, 'applied'));
      expect(m.part_count).toBe(4);
      expect(m.row_count).toBe(1000);
      const applied = await rowsOf(join(dir, 'applied'));
      expect(applied).toHaveLength(1000);
      expect(applied.some((row) => row.includes('late'))).toBe(false);
      expect(applied).toEqual(await rowsOf(join(dir, 'ran')));
      const chunks = await cli(['state', 'chunks', '-c', cfg, '-e', 'orders']);
      expect(chunks.stdout).toContain('751');
      expect(chunks.stdout).not.toContain('5001');
      const v = await cli(['validate', '-c', cfg, '-e', 'orders']);
      expect(v.code).toBe(0);
    } finally {
      await mysqlExec('DELETE FROM orders WHERE id >= 5000', [], db);
    }
  });

  it('a stale plan (> 24 h) is refused with exit 2 and applies with --force', async () => {
    const { dir, cfg } = await setup(chunked('orders', 'out'));
    const { artifact } = await makePlan(cfg, dir, 'orders');
    const old = join(dir, 'plan-30h.json');
    await writeFile(old, JSON.stringify({ ...artifact, created_at: new Date(Date.now() - 30 * 3_600_000).toISOString() }, null, 2));
    const refused = await cli(['apply', old]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("error: the plan for export 'orders' is 30 hours old, past the 24 h limit for applying a plan");
    expect(existsSync(join(dir, 'out'))).toBe(false);
    const forced = await cli(['apply', old, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain('applying anyway because of --force');
    expect((await manifestOf(join(dir, 'out'))).row_count).toBe(1000);
  });

  it('an incremental plan is refused once another run moved the cursor', async () => {
    const { dir, cfg } = await setup(`  - name: inc\n    query: SELECT * FROM inc\n    mode: incremental\n    cursor_column: id\n    format: parquet\n    destination: { type: local, path: DIR/out }\n`);
    expect((await cli(['run', '-c', cfg])).code).toBe(0);
    const { file, artifact } = await makePlan(cfg, dir, 'inc');
    expect(artifact.computed.cursor_snapshot).toBe('50');
    await mysqlExec(`INSERT INTO inc SELECT seq, CONCAT('v', seq) FROM seq_51_to_60`, [], db);
    expect((await cli(['run', '-c', cfg])).code).toBe(0);
    const refused = await cli(['apply', file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("error: the stored cursor of export 'inc' moved after the plan was made: the plan expects 50, the state now holds 60");
    const fresh = await makePlan(cfg, dir, 'inc', join(dir, 'plan2.json'));
    expect(fresh.artifact.computed.cursor_snapshot).toBe('60');
    const ok = await cli(['apply', fresh.file]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/rows: +0\n/);
  });

  it('chunk_by_days with NULL keys: day buckets and the NULL chunk round-trip through the artifact, apply and reconcile', async () => {
    await mysqlExec(
      `CREATE TABLE daily (id INT, day DATE NULL);
       INSERT INTO daily SELECT seq, DATE_ADD('2024-01-01', INTERVAL seq % 30 DAY) FROM seq_1_to_300;
       INSERT INTO daily VALUES (1001, NULL), (1002, NULL), (1003, '2024-06-01');
       GRANT SELECT ON \`${db}\`.daily TO '${USER}'@'%';`,
      [],
      db,
    );
    const exp = (name: string, out: string) =>
      `  - name: ${name}\n    query: SELECT * FROM daily\n    mode: chunked\n    chunk_column: day\n    chunk_by_days: 7\n    chunk_checkpoint: true\n    format: parquet\n    destination: { type: local, path: DIR/${out} }\n`;
    const { dir, cfg } = await setup(exp('planned', 'applied') + exp('direct', 'ran'));
    expect((await cli(['run', '-c', cfg, '-e', 'direct'])).code).toBe(0);
    const { file, artifact } = await makePlan(cfg, dir, 'planned');
    expect(artifact.computed.chunk_ranges).toEqual([
      ['2023-12-28', '2024-01-03'], ['2024-01-04', '2024-01-10'], ['2024-01-11', '2024-01-17'], ['2024-01-18', '2024-01-24'],
      ['2024-01-25', '2024-05-29'], ['2024-05-30', '2024-06-05'], [null, null],
    ]);
    const applied = await cli(['apply', file]);
    expect(applied.code, applied.stderr).toBe(0);
    const ids = async (out: string) => {
      const m = await manifestOf(join(dir, out));
      const rows = await queryWithDuckDB(`SELECT CAST(id AS INTEGER) AS id FROM read_parquet([${m.parts.map((p) => `'${join(dir, out, p.path)}'`).join(', ')}]) ORDER BY id`);
      return rows.map((r) => Number(r.id));
    };
    const got = await ids('applied');
    expect(got).toHaveLength(303);
    expect(got).toEqual(await ids('ran'));
    const rec = await cli(['reconcile', '-c', cfg, '-e', 'planned']);
    expect(rec.code, rec.stderr).toBe(0);
    expect(rec.stdout).toContain('  Partitions : 7 (7 match, 0 mismatch, 0 unknown)');
    expect(rec.stdout).toContain('  Rows       : source 303 / exported 303');
  });

  it('password_env (structured source): the artifact holds the variable name; apply resolves it again', async () => {
    const { dir, cfg } = await setup(chunked('orders', 'out'), structuredSource());
    const { file, artifact } = await makePlan(cfg, dir, 'orders');
    expect(artifact.resolved_plan.source).toMatchObject({ type: 'mysql', user: USER, password: null, password_env: 'RV_MY_PW', credentials_removed: false });
    const without = await cli(['apply', file], {});
    expect(without.code).toBe(2);
    expect(without.stderr).toContain('environment variable RV_MY_PW is referenced by `password_env` but not set');
    const applied = await cli(['apply', file]);
    expect(applied.code).toBe(0);
    expect((await manifestOf(join(dir, 'out'))).row_count).toBe(1000);
    expect(await readFile(join(dir, 'out', 'manifest.json'), 'utf8')).not.toContain(PASSWORD);
  });

  it('no output of any command above carried the password', () => {
    expect(outputs.length).toBeGreaterThan(10);
    for (const r of outputs) expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });
});
