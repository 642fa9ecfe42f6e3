import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { runCli } from '../helpers/cli.js';
import { queryWithDuckDB } from '../helpers/readers.js';
import type { PlanArtifact } from '../../shared/run/plan-artifact.js';

/**
 * `rivet plan` / `rivet apply` through the built CLI against the real PostgreSQL server.
 * The URL comes from `url_env`, as a user should configure it; the password tests use a
 * role of their own with a password that appears nowhere else.
 */
let schema: string;
const env = { RV_PG_URL: testPgUrl() };
const ROLE = `rv_plan_${process.pid}`;
const PASSWORD = `Plan-Pw-${process.pid}-7f3a9c`;

beforeAll(async () => {
  schema = await freshSchema('e2e_plan');
  await pgExec(`
    CREATE TABLE ${schema}.orders (id bigint PRIMARY KEY, amount int, note text);
    INSERT INTO ${schema}.orders SELECT g, g * 10, 'n' || g FROM generate_series(1, 1000) g;
    CREATE TABLE ${schema}.events (id bigint PRIMARY KEY, v text);
    INSERT INTO ${schema}.events SELECT g, 'e' || g FROM generate_series(1, 100) g;
    DROP ROLE IF EXISTS ${ROLE};
    CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}';
    GRANT USAGE ON SCHEMA ${schema} TO ${ROLE};
    GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${ROLE};
    ANALYZE ${schema}.orders; ANALYZE ${schema}.events;`);
});

afterAll(async () => {
  await pgExec(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP ROLE IF EXISTS ${ROLE}`);
});

const SOURCE = `source:\n  type: postgres\n  url_env: RV_PG_URL\n  tuning: { batch_size: 500, throttle_ms: 5 }\n`;

async function setup(exportsYaml: string, source = SOURCE) {
  const dir = await mkdtemp(join(tmpdir(), 'rv-plan-'));
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(cfg, `${source}exports:\n${exportsYaml.replaceAll('DIR', dir).replaceAll('SCHEMA', schema)}`);
  return { dir, cfg };
}

const chunked = (name: string, table: string, out = 'out') => `  - name: ${name}
    query: SELECT * FROM SCHEMA.${table}
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

function chunkRuns(dbPath: string): { export_name: string; status: string }[] {
  if (!existsSync(dbPath)) return [];
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare('SELECT export_name, status FROM chunk_run ORDER BY created_at').all() as { export_name: string; status: string }[];
  } finally {
    db.close();
  }
}

async function makePlan(cfg: string, dir: string, exportName: string, file = join(dir, 'plan.json')) {
  const r = await runCli(['plan', '-c', cfg, '-e', exportName, '--format', 'json', '-o', file], { env });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(`plan written to ${file}\n`);
  return { file, artifact: JSON.parse(await readFile(file, 'utf8')) as PlanArtifact };
}

describe('rivet plan (built CLI, real PostgreSQL)', () => {
  it('pretty: chunk boundaries, row estimate, verdict, the Resources block — and nothing written', async () => {
    const { dir, cfg } = await setup(chunked('orders', 'orders'));
    const r = await runCli(['plan', '-c', cfg], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}Plan ID {2}: [0-9a-f]{32}$/m);
    expect(r.stdout).toMatch(/^ {2}Created {2}: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/m);
    expect(r.stdout).toContain('  Export   : orders\n  Strategy : chunked\n');
    expect(r.stdout).toMatch(/^ {2}Fingerprint : [0-9a-f]{16}$/m);
    expect(r.stdout).toContain('  Chunks   : 4 (1..250 … 751..1000)');
    expect(r.stdout).toContain('  Row est. : ~1,000');
    // The `rivet check` preflight: indexed key, no cursor column → ACCEPTABLE (docs/commands/check.md).
    expect(r.stdout).toContain('  Verdict  : ACCEPTABLE\n  Profile  : fast\n  Warnings :\n    • verdict is ACCEPTABLE yet preflight produced no concrete warning');
    expect(r.stdout).toContain('  Resources:\n    Batch size   :     500 rows\n    Batch memory : ~0 MB (narrow) – ~5 MB (wide)\n    RSS guard    : 4,096 MB\n    Throttle     : 5 ms between batches\n');
    expect(r.stdout).toContain(`  Output   : local → ${dir}/out`);
    expect(r.stdout).toContain('  Format   : parquet + zstd');
    // A plan exports nothing and records nothing.
    expect(existsSync(join(dir, 'out'))).toBe(false);
    expect(chunkRuns(join(dir, '.rivet_state.db'))).toEqual([]);
  });

  it('json: the artifact of the seeds, written to -o', async () => {
    const { dir, cfg } = await setup(chunked('orders', 'orders'));
    const { artifact: a } = await makePlan(cfg, dir, 'orders');
    expect(Object.keys(a).slice(0, 10)).toEqual([
      'rivet_version', 'plan_id', 'created_at', 'expires_at', 'export_name', 'strategy', 'plan_fingerprint', 'resolved_plan', 'computed', 'diagnostics',
    ]);
    expect(a.plan_id).toMatch(/^[0-9a-f]{32}$/);
    expect(Date.parse(a.expires_at) - Date.parse(a.created_at)).toBe(24 * 3_600_000);
    expect(a.strategy).toBe('chunked');
    expect(a.computed).toEqual({ chunk_ranges: [[1, 250], [251, 500], [501, 750], [751, 1000]], chunk_count: 4, cursor_snapshot: null, row_estimate: 1000 });
    expect(a.diagnostics).toMatchObject({ verdict: 'ACCEPTABLE', recommended_profile: 'fast' });
    expect(a.diagnostics.warnings).toHaveLength(1);
    expect(a.resolved_plan.strategy).toEqual({ Chunked: { column: 'id', chunk_size: 250, chunk_count: null, parallel: 1, dense: false, by_days: null, checkpoint: true, max_attempts: 4 } });
    expect(a.resolved_plan.source).toMatchObject({ type: 'postgres', url: null, url_env: 'RV_PG_URL', password: null });
    // Printed to stdout when there is no -o.
    const r = await runCli(['plan', '-c', cfg, '--format', 'json'], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).export_name).toBe('orders');
  });

  it('a full export on a scan: the preflight estimate, verdict and its warning', async () => {
    const { cfg } = await setup(`  - name: ev\n    query: SELECT * FROM SCHEMA.events\n    format: parquet\n    destination: { type: local, path: DIR/out }\n`);
    const r = await runCli(['plan', '-c', cfg, '--format', 'json'], { env });
    expect(r.code).toBe(0);
    const a = JSON.parse(r.stdout);
    expect(a.strategy).toBe('full');
    expect(a.plan_fingerprint).toBe('');
    expect(a.computed).toEqual({ chunk_ranges: [], chunk_count: 0, cursor_snapshot: null, row_estimate: 100 });
    expect(a.diagnostics.verdict).toBe('DEGRADED');
    expect(a.diagnostics.recommended_profile).toBe('balanced');
    expect(a.diagnostics.warnings).toEqual([expect.stringContaining('no index serves this read')]);
  });

  it('usage errors: unknown export, -o with several exports', async () => {
    const { cfg } = await setup(chunked('orders', 'orders') + chunked('ev', 'events', 'out2'));
    const a = await runCli(['plan', '-c', cfg, '-e', 'nope'], { env });
    expect(a.code).toBe(2);
    expect(a.stderr).toContain("error: export 'nope' is not in");
    const b = await runCli(['plan', '-c', cfg, '--format', 'json', '-o', join(tmpdir(), 'x.json')], { env });
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('-o/--output writes one plan file, but');
  });
});

describe('rivet apply (built CLI, real PostgreSQL)', () => {
  it('plan → apply gives the same dataset as run, from the planned ranges only (no MIN/MAX at apply)', async () => {
    const { dir, cfg } = await setup(chunked('orders', 'orders', 'applied') + chunked('direct', 'orders', 'ran'));
    const ran = await runCli(['run', '-c', cfg, '-e', 'direct'], { env });
    expect(ran.code).toBe(0);
    const { file } = await makePlan(cfg, dir, 'orders');
    // Rows beyond the planned max: a live MIN/MAX at apply would give them a chunk of their own.
    await pgExec(`INSERT INTO ${schema}.orders VALUES (5000, 1, 'late'), (5001, 2, 'late')`);
    try {
      const r = await runCli(['apply', file], { env });
      expect(r.stderr).toContain('status:   success');
      expect(r.code).toBe(0);
      const m = await manifestOf(join(dir, 'applied'));
      expect(m.part_count).toBe(4);
      expect(m.row_count).toBe(1000);
      expect(await rowsOf(join(dir, 'applied'))).toEqual(await rowsOf(join(dir, 'ran')));
      // The apply recorded its checkpoint with the planned chunks (next to the plan file).
      const chunks = await runCli(['state', 'chunks', '-c', cfg, '-e', 'orders'], { env });
      expect(chunks.stdout).toContain('751');
      expect(chunks.stdout).not.toContain('5001');
      const v = await runCli(['validate', '-c', cfg, '-e', 'orders'], { env });
      expect(v.code).toBe(0);
    } finally {
      await pgExec(`DELETE FROM ${schema}.orders WHERE id >= 5000`);
    }
  });

  it('chunk_by_days with NULL keys: the day buckets and the NULL chunk round-trip through the artifact (and reconcile)', async () => {
    await pgExec(`CREATE TABLE ${schema}.daily (id int, day date);
      INSERT INTO ${schema}.daily SELECT g, date '2024-01-01' + (g % 30) FROM generate_series(1, 300) g;
      INSERT INTO ${schema}.daily VALUES (1001, NULL), (1002, NULL), (1003, date '2024-06-01')`);
    const exp = (name: string, out: string) =>
      `  - name: ${name}\n    query: SELECT * FROM SCHEMA.daily\n    mode: chunked\n    chunk_column: day\n    chunk_by_days: 7\n    chunk_checkpoint: true\n    format: parquet\n    destination: { type: local, path: DIR/${out} }\n`;
    const { dir, cfg } = await setup(exp('planned', 'applied') + exp('direct', 'ran'));
    expect((await runCli(['run', '-c', cfg, '-e', 'direct'], { env })).code).toBe(0);
    const { file, artifact } = await makePlan(cfg, dir, 'planned');
    expect(artifact.computed.chunk_ranges).toEqual([
      ['2023-12-28', '2024-01-03'], ['2024-01-04', '2024-01-10'], ['2024-01-11', '2024-01-17'], ['2024-01-18', '2024-01-24'],
      ['2024-01-25', '2024-05-29'], ['2024-05-30', '2024-06-05'], [null, null],
    ]);
    expect((await runCli(['apply', file], { env })).code).toBe(0);
    const ids = async (out: string) => {
      const m = await manifestOf(join(dir, out));
      const rows = await queryWithDuckDB(`SELECT CAST(id AS INTEGER) AS id FROM read_parquet([${m.parts.map((p) => `'${join(dir, out, p.path)}'`).join(', ')}]) ORDER BY id`);
      return rows.map((r) => Number(r.id));
    };
    const applied = await ids('applied');
    expect(applied.length).toBe(303);
    expect(applied).toEqual(await ids('ran'));
    const rec = await runCli(['reconcile', '-c', cfg, '-e', 'planned'], { env });
    expect(rec.code).toBe(0);
    expect(rec.stdout).toContain('  Partitions : 7 (7 match, 0 mismatch, 0 unknown)');
    expect(rec.stdout).toContain('  Rows       : source 303 / exported 303');
  });

  it('staleness: silent < 1 h, warns 1–24 h, refuses > 24 h unless --force', async () => {
    const { dir, cfg } = await setup(chunked('orders', 'orders'));
    const { artifact } = await makePlan(cfg, dir, 'orders');
    const aged = async (hours: number) => {
      const f = join(dir, `plan-${hours}h.json`);
      await writeFile(f, JSON.stringify({ ...artifact, created_at: new Date(Date.now() - hours * 3_600_000).toISOString() }, null, 2));
      return f;
    };
    const fresh = await runCli(['apply', join(dir, 'plan.json')], { env });
    expect(fresh.code).toBe(0);
    expect(fresh.stderr).not.toContain('WARN');

    const warned = await runCli(['apply', await aged(2)], { env });
    expect(warned.code).toBe(0);
    expect(warned.stderr).toMatch(/WARN .*the plan for export 'orders' is 12\d minutes old/);

    const old = await aged(30);
    const refused = await runCli(['apply', old], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("error: the plan for export 'orders' is 30 hours old, past the 24 h limit for applying a plan");
    expect(refused.stderr).toContain('hint: regenerate it with `');
    expect(refused.stderr).toContain('--force');

    const forced = await runCli(['apply', old, '--force'], { env });
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain('applying anyway because of --force');
    expect(forced.stderr).toMatch(/plan: +[0-9a-f]{32} \(forced: staleness\)/);

    const ancient = await runCli(['apply', await aged(80)], { env });
    expect(ancient.code).toBe(2);
    expect(ancient.stderr).toMatch(/is 3 days \(created \d{4}-\d\d-\d\d\) old/);
  });

  it('an edited plan is refused: its fingerprint no longer matches the query', async () => {
    const { dir, cfg } = await setup(chunked('orders', 'orders'));
    const { artifact } = await makePlan(cfg, dir, 'orders');
    const f = join(dir, 'edited.json');
    await writeFile(f, JSON.stringify({ ...artifact, resolved_plan: { ...artifact.resolved_plan, base_query: `SELECT * FROM ${schema}.orders WHERE id > 10` } }));
    const r = await runCli(['apply', f], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: the plan for export 'orders' was modified after it was made");
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('not a plan: unreadable file, missing fields', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rv-plan-'));
    const missing = await runCli(['apply', join(dir, 'nope.json')], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read the plan file');
    await writeFile(join(dir, 'bad.json'), '{"rivet_version": "0.1.0"}');
    const bad = await runCli(['apply', join(dir, 'bad.json')], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${join(dir, 'bad.json')} is not a Rivet plan artifact (plan_id:`);
  });

  it('cursor drift: an incremental plan is refused once another run moved the cursor; --force overrides', async () => {
    await pgExec(`CREATE TABLE ${schema}.inc (id bigint PRIMARY KEY, v text); INSERT INTO ${schema}.inc SELECT g, 'v' || g FROM generate_series(1, 50) g`);
    const { dir, cfg } = await setup(`  - name: inc\n    query: SELECT * FROM SCHEMA.inc\n    mode: incremental\n    cursor_column: id\n    format: parquet\n    destination: { type: local, path: DIR/out }\n`);
    expect((await runCli(['run', '-c', cfg], { env })).code).toBe(0);
    const { file, artifact } = await makePlan(cfg, dir, 'inc');
    expect(artifact.computed.cursor_snapshot).toBe('50');
    const pretty = await runCli(['plan', '-c', cfg], { env });
    expect(pretty.stdout).toContain('  Cursor   : 50');

    await pgExec(`INSERT INTO ${schema}.inc SELECT g, 'v' || g FROM generate_series(51, 60) g`);
    expect((await runCli(['run', '-c', cfg], { env })).code).toBe(0);
    const refused = await runCli(['apply', file], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("error: the stored cursor of export 'inc' moved after the plan was made: the plan expects 50, the state now holds 60");
    expect(refused.stderr).toContain('--force');

    await pgExec(`INSERT INTO ${schema}.inc SELECT g, 'v' || g FROM generate_series(61, 65) g`);
    const forced = await runCli(['apply', file, '--force'], { env });
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain('applying anyway because of --force');
    // The window starts at the stored cursor, so nothing is exported twice.
    expect(forced.stderr).toMatch(/rows: +5\n/);

    // A fresh plan applies without force and picks up from there.
    await pgExec(`INSERT INTO ${schema}.inc VALUES (66, 'v66')`);
    const again = await makePlan(cfg, dir, 'inc', join(dir, 'plan2.json'));
    expect(again.artifact.computed.cursor_snapshot).toBe('65');
    const ok = await runCli(['apply', again.file], { env });
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/rows: +1\n/);
  });

  it('state is opened next to the plan file', async () => {
    const { dir, cfg } = await setup(chunked('orders', 'orders'));
    const elsewhere = join(dir, 'plans');
    await mkdir(elsewhere);
    const { file } = await makePlan(cfg, dir, 'orders', join(elsewhere, 'p.json'));
    expect(existsSync(join(elsewhere, '.rivet_state.db'))).toBe(false);
    const r = await runCli(['apply', file], { env });
    expect(r.code).toBe(0);
    expect(existsSync(join(elsewhere, '.rivet_state.db'))).toBe(true);
    expect(chunkRuns(join(elsewhere, '.rivet_state.db'))).toEqual([{ export_name: 'orders', status: 'completed' }]);
    expect(chunkRuns(join(dir, '.rivet_state.db'))).toEqual([]);
  });
});

describe('no secret in a plan artifact', () => {
  const structured = (password: string) =>
    `source:\n  type: postgres\n  host: 127.0.0.1\n  port: ${new URL(testPgUrl()).port}\n  user: ${ROLE}\n  ${password}\n  database: ${new URL(testPgUrl()).pathname.slice(1)}\n  tls: { mode: disable }\n`;

  it('password_env: the artifact holds the variable name only, and apply resolves it again', async () => {
    const { dir, cfg } = await setup(chunked('orders', 'orders'), structured('password_env: RV_PLAN_PW'));
    const withPw = { ...env, RV_PLAN_PW: PASSWORD };
    const p = await runCli(['plan', '-c', cfg, '-e', 'orders', '--format', 'json', '-o', join(dir, 'plan.json')], { env: withPw });
    expect(p.code).toBe(0);
    const text = await readFile(join(dir, 'plan.json'), 'utf8');
    expect(text).not.toContain(PASSWORD);
    expect(JSON.parse(text).resolved_plan.source).toMatchObject({ user: ROLE, password: null, password_env: 'RV_PLAN_PW', credentials_removed: false });
    const without = await runCli(['apply', join(dir, 'plan.json')], { env });
    expect(without.code).toBe(2);
    expect(without.stderr).toContain('environment variable RV_PLAN_PW is referenced by `password_env` but not set');
    const applied = await runCli(['apply', join(dir, 'plan.json')], { env: withPw });
    expect(applied.code).toBe(0);
    expect((await manifestOf(join(dir, 'out'))).row_count).toBe(1000);
    expect(applied.stderr + applied.stdout + p.stderr + p.stdout).not.toContain(PASSWORD);
  });

  it('a clear-text password (structured or in url:) is removed with a warning; apply then cannot log in', async () => {
    const { dir, cfg } = await setup(chunked('orders', 'orders'), structured(`password: ${PASSWORD}`));
    const p = await runCli(['plan', '-c', cfg, '-e', 'orders', '--format', 'json', '-o', join(dir, 'plan.json')], { env });
    expect(p.code).toBe(0);
    expect(p.stderr).toContain("export 'orders': clear-text credentials (source `password:` or the password in `url:`) were removed from the plan artifact");
    expect(await readFile(join(dir, 'plan.json'), 'utf8')).not.toContain(PASSWORD);
    const applied = await runCli(['apply', join(dir, 'plan.json')], { env });
    expect(applied.code).toBe(2);
    expect(applied.stderr).toContain("error: the plan for export 'orders' was made from a config with clear-text credentials, which a plan never carries");
    expect(applied.stderr).toContain('`password_env:`');
    expect(applied.stderr).not.toContain(PASSWORD);

    const u = new URL(testPgUrl());
    const url = `postgresql://${ROLE}:${PASSWORD}@${u.host}${u.pathname}`;
    const second = await setup(chunked('orders', 'orders'), `source:\n  type: postgres\n  url: ${url}\n`);
    const q = await runCli(['plan', '-c', second.cfg, '-e', 'orders', '--format', 'json', '-o', join(second.dir, 'plan.json')], { env });
    expect(q.code).toBe(0);
    const text = await readFile(join(second.dir, 'plan.json'), 'utf8');
    expect(text).not.toContain(PASSWORD);
    expect(JSON.parse(text).resolved_plan.source).toMatchObject({ url: `postgresql://REDACTED@${u.host}${u.pathname}`, credentials_removed: true });
  });
});
