import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';

/**
 * `rivet check` against real PostgreSQL tables: preflight verdicts (index served or not,
 * sparse chunk key), and the type report (--strict both ways, --json, --target bigquery).
 */
let schema: string;
let dir: string;
let cfg: string;
const env = () => ({ CHECK_DB_URL: testPgUrl() });

function exportBlock(name: string, body: string): string {
  return `  - name: ${name}\n${body}    format: parquet\n    destination: { type: local, path: "${dir}/out/${name}" }\n`;
}

beforeAll(async () => {
  schema = await freshSchema('e2e_check');
  await pgExec(`
    CREATE TABLE ${schema}.indexed (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, name text);
    CREATE INDEX ON ${schema}.indexed (updated_at);
    INSERT INTO ${schema}.indexed SELECT g, now() - g * interval '1 second', 'n' || g FROM generate_series(1, 20000) g;
    CREATE TABLE ${schema}.unindexed (k int NOT NULL, v text);
    INSERT INTO ${schema}.unindexed SELECT g, 'v' FROM generate_series(1, 20000) g;
    CREATE TABLE ${schema}.sparse (k bigint PRIMARY KEY);
    INSERT INTO ${schema}.sparse SELECT g * 1000 FROM generate_series(1, 5000) g;
    CREATE TABLE ${schema}.exact (id int, flag boolean, amount numeric(12,2), created timestamptz, day date, note varchar(20), blob bytea);
    CREATE TABLE ${schema}.lossy (id int, price money, total numeric);
    CREATE TABLE ${schema}.naive (id int, at timestamp, payload jsonb);
    ANALYZE ${schema}.indexed; ANALYZE ${schema}.unindexed; ANALYZE ${schema}.sparse;`);
  dir = await mkdtemp(join(tmpdir(), 'rivet-check-'));
  cfg = join(dir, 'rivet.yaml');
  await writeFile(
    cfg,
    'source:\n  type: postgres\n  url_env: CHECK_DB_URL\nexports:\n' +
      exportBlock('by_pk', `    table: ${schema}.indexed\n    mode: chunked\n    chunk_column: id\n    chunk_size: 5000\n`) +
      exportBlock('by_cursor', `    table: ${schema}.indexed\n    mode: incremental\n    cursor_column: updated_at\n`) +
      exportBlock('no_index', `    table: ${schema}.unindexed\n    mode: chunked\n    chunk_column: k\n    chunk_size: 5000\n`) +
      exportBlock('sparse', `    table: ${schema}.sparse\n    mode: chunked\n    chunk_column: k\n    chunk_size: 1000\n`) +
      exportBlock('exact', `    table: ${schema}.exact\n`) +
      exportBlock('lossy', `    table: ${schema}.lossy\n`) +
      exportBlock('fixed', `    query: "SELECT id, total FROM ${schema}.lossy"\n    columns: { total: "decimal(20,4)" }\n`) +
      exportBlock('naive', `    table: ${schema}.naive\n`) +
      exportBlock('missing', `    table: ${schema}.no_such_table\n`),
  );
});

/** The lines of one `Export: <name>` block of the diagnostics. */
function block(stdout: string, name: string): string {
  const start = stdout.indexOf(`Export: ${name}\n`);
  expect(start, stdout).toBeGreaterThanOrEqual(0);
  const next = stdout.indexOf('\nExport: ', start + 1);
  return stdout.slice(start, next < 0 ? undefined : next);
}

describe('rivet check (preflight)', () => {
  it('tells an indexed chunk/cursor column from an unindexed one, and flags a sparse key', async () => {
    const r = await runCli(['check', '-c', cfg, '-e', 'by_pk'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const pk = block(r.stdout, 'by_pk');
    expect(pk).toMatch(/Strategy: +chunked\(id, size=5000\)/);
    expect(pk).toMatch(/Row estimate: +~20K/);
    expect(pk).toMatch(/Cursor range: +1 \.\. 20000/);
    expect(pk).toMatch(/Scan type: +.*\(indexed\)/);
    // No cursor_column: an indexed chunked export stops at ACCEPTABLE (docs/commands/check.md).
    expect(pk).toMatch(/Verdict: +ACCEPTABLE/);
    expect(pk).toMatch(/Recommended: +tuning\.profile: fast/);

    const cur = block((await runCli(['check', '-c', cfg, '-e', 'by_cursor'], { env: env() })).stdout, 'by_cursor');
    expect(cur).toMatch(/Scan type: +.*\(indexed\)/);
    expect(cur).toMatch(/Cursor col: +updated_at/);
    expect(cur).toMatch(/Verdict: +EFFICIENT/);
    expect(cur).not.toMatch(/Suggestion:/);

    const ni = await runCli(['check', '-c', cfg, '-e', 'no_index'], { env: env() });
    expect(ni.code, ni.stderr).toBe(0);
    const noIdx = block(ni.stdout, 'no_index');
    expect(noIdx).not.toMatch(/\(indexed\)/);
    expect(noIdx).toMatch(/Scan type: +Seq Scan/);
    expect(noIdx).toMatch(/Verdict: +DEGRADED/);
    expect(noIdx).toMatch(/Suggestion: +no index serves this read/);
    expect(noIdx).not.toMatch(/sparse/);

    const sp = block((await runCli(['check', '-c', cfg, '-e', 'sparse'], { env: env() })).stdout, 'sparse');
    expect(sp).toMatch(/Cursor range: +1000 \.\. 5000000/);
    expect(sp).toMatch(/Warning: +chunk key k is sparse: about 99% of the chunk windows over 1000\.\.5000000/);
  });

  it('reports a missing table under its export and exits 1', async () => {
    const r = await runCli(['check', '-c', cfg, '-e', 'missing'], { env: env() });
    expect(r.code).toBe(1);
    expect(block(r.stdout, 'missing')).toMatch(/Error: +.*no_such_table/);
    expect(r.stderr).toContain('1 problem(s) found');
  });

  it('exits 2 for an unknown export and 1 when the source is unreachable', async () => {
    const unknown = await runCli(['check', '-c', cfg, '-e', 'nope'], { env: env() });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/export 'nope' is not in/);
    const down = await runCli(['check', '-c', cfg, '-e', 'exact'], { env: { CHECK_DB_URL: 'postgresql://u:pw_zz_9@127.0.0.1:1/db' } });
    expect(down.code).toBe(1);
    expect(down.stderr).not.toContain('pw_zz_9');
  });
});

describe('rivet check --type-report', () => {
  it('prints the type table and passes --strict when every mapping is exact', async () => {
    const r = await runCli(['check', '-c', cfg, '-e', 'exact', '--type-report', '--strict'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Column +Source type +Rivet type +Arrow type +Fidelity/);
    expect(r.stdout).toMatch(/amount +numeric +decimal\(12,2\) +Decimal128\(12, 2\) +exact/);
    expect(r.stdout).toMatch(/created +timestamptz +timestamp_tz +Timestamp\(Microsecond, Some\("UTC"\)\) +exact/);
    expect(r.stdout).not.toMatch(/FAIL|WARN/);
  });

  it('--strict exits 1 on unsupported columns; without --strict the same report passes with warnings', async () => {
    const strict = await runCli(['check', '-c', cfg, '-e', 'lossy', '--type-report', '--strict'], { env: env() });
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('--strict rejected unsafe type mappings');
    expect(strict.stdout).toMatch(/price +money +unsupported\(money\) +- +unsupported/);
    expect(strict.stdout).toMatch(/FAIL: column "total" \(numeric\) maps with fidelity unsupported: unbounded NUMERIC/);

    const lenient = await runCli(['check', '-c', cfg, '-e', 'lossy', '--type-report'], { env: env() });
    expect(lenient.code, lenient.stderr).toBe(0);
    expect(lenient.stdout).toMatch(/WARN: column "price"/);

    // A decimal override makes the unbounded NUMERIC exact: --strict passes again.
    const fixed = await runCli(['check', '-c', cfg, '-e', 'fixed', '--type-report', '--strict'], { env: env() });
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
    expect(fixed.stdout).toMatch(/total +numeric +decimal\(20,4\) +Decimal128\(20, 4\) +exact/);
  });

  it('--json prints one object per export and line, and no diagnostics', async () => {
    const r = await runCli(['check', '-c', cfg, '-e', 'lossy', '--json'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]);
    expect(report.export).toBe('lossy');
    expect(report.columns.map((c: { column: string }) => c.column)).toEqual(['id', 'price', 'total']);
    expect(report.columns[0]).toEqual({ column: 'id', source_type: 'int4', rivet_type: 'int4', arrow_type: 'Int32', fidelity: 'exact' });
    expect(report.columns[1]).toMatchObject({ column: 'price', source_type: 'money', rivet_type: 'unsupported(money)', arrow_type: '-', fidelity: 'unsupported' });
    expect(report.violations).toHaveLength(2);
    expect(report.violations[0]).toMatchObject({ column_name: 'price', fidelity: 'unsupported', fatal: false });
    expect(r.stdout).not.toContain('Verdict:');
  });

  it('--target bigquery adds target types, autoload casts and recovery SQL', async () => {
    const r = await runCli(['check', '-c', cfg, '-e', 'naive', '--json', '--target', 'BQ'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim());
    expect(report.target).toBe('bigquery');
    const byName = Object.fromEntries(report.columns.map((c: { column: string }) => [c.column, c]));
    expect(byName.id).toMatchObject({ target_type: 'INT64', target_status: 'ok' });
    expect(byName.id.autoload_type).toBeUndefined();
    expect(byName.at).toMatchObject({ rivet_type: 'timestamp', target_type: 'DATETIME', autoload_type: 'TIMESTAMP', target_status: 'warn', cast_sql: 'DATETIME(at)' });
    expect(byName.payload).toMatchObject({ fidelity: 'logical_string', target_type: 'JSON', autoload_type: 'BYTES', target_status: 'warn' });
    expect(report.recovery_sql).toContain('CREATE OR REPLACE TABLE `naive` AS');
    expect(report.recovery_sql).toContain('DATETIME(at) AS at');
    expect(report.target_failures).toBeUndefined();

    const table = await runCli(['check', '-c', cfg, '-e', 'exact', '--target', 'bigquery'], { env: env() });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain('Export: exact  [target: bigquery]');
    expect(table.stdout).toMatch(/amount +numeric +decimal\(12,2\) +Decimal128\(12, 2\) +exact +NUMERIC +ok/);
    expect(table.stdout).toMatch(/blob +bytea +binary +Binary +exact +BYTES +ok/);

    // A target failure (unsupported column) is fatal under --strict.
    const fail = await runCli(['check', '-c', cfg, '-e', 'lossy', '--json', '--target', 'bigquery'], { env: env() });
    expect(JSON.parse(fail.stdout.trim()).target_failures).toBe(true);
  });
});
