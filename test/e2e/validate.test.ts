import { cp, mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xxhash3 } from 'hash-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';

/**
 * `rivet validate` against real exports: one good prefix, copied and damaged one way per
 * test, checked with `--prefix`. Also `rivet run --validate/--reconcile`.
 */
let schema: string;
let dir: string;
let cfg: string;
let today: string;
let good: string;
let runId: string;

beforeAll(async () => {
  schema = await freshSchema('e2e_validate');
  await pgExec(`CREATE TABLE ${schema}.orders (id int PRIMARY KEY, name text);
    INSERT INTO ${schema}.orders SELECT g, 'n' || g FROM generate_series(1, 300) g;`);
  dir = await mkdtemp(join(tmpdir(), 'rivet-validate-'));
  cfg = join(dir, 'rivet.yaml');
  await writeFile(
    cfg,
    `source:\n  type: postgres\n  url: ${testPgUrl()}\nexports:\n` +
      `  - name: orders\n    table: ${schema}.orders\n    format: parquet\n    destination: { type: local, path: "${dir}/lake/{export}/{date}" }\n` +
      `  - name: byrun\n    table: ${schema}.orders\n    format: csv\n    destination: { type: local, path: "${dir}/runs/{run_id}" }\n` +
      // The row count depends on the server backend's pid, and the reconcile count runs on a new
      // connection (a new backend): the export and the count disagree (the read-only export
      // transaction rules out a sequence as the moving part).
      `  - name: growing\n    query: "SELECT g AS id FROM generate_series(1, pg_backend_pid() % 4999 + 1) g"\n    format: csv\n    destination: { type: local, path: "${dir}/growing" }\n`,
  );
  const r = await runCli(['run', '-c', cfg, '-e', 'orders']);
  expect(r.code, r.stderr).toBe(0);
  today = new Date().toISOString().slice(0, 10);
  good = join(dir, 'lake', 'orders', today);
  const b = await runCli(['run', '-c', cfg, '-e', 'byrun']);
  expect(b.code, b.stderr).toBe(0);
  runId = /run_id:\s+(\S+)/.exec(b.stderr)![1];
});

/** A copy of the good prefix to damage. */
async function copyOfGood(name: string): Promise<string> {
  const target = join(dir, 'damaged', name);
  await cp(good, target, { recursive: true });
  return target;
}

const validate = (...args: string[]) => runCli(['validate', '-c', cfg, ...args]);

/** Edit manifest.json and write a _SUCCESS that vouches for the new bytes, as a forger would. */
async function rewriteManifest(prefix: string, edit: (m: { parts: { rows: number; size_bytes: number; content_fingerprint: string; content_md5: string }[]; row_count: number }) => void): Promise<void> {
  const m = JSON.parse(await readFile(join(prefix, 'manifest.json'), 'utf8'));
  edit(m);
  const bytes = Buffer.from(`${JSON.stringify(m, null, 2)}\n`);
  await writeFile(join(prefix, 'manifest.json'), bytes);
  await writeFile(join(prefix, '_SUCCESS'), `xxh3:${await xxhash3(bytes)}\n`);
}

describe('rivet validate (built CLI)', () => {
  it('passes a good prefix resolved like run does ({date} = today)', async () => {
    const r = await validate('-e', 'orders');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('── orders ──');
    expect(r.stdout).toContain(`prefix:    ${good}`);
    expect(r.stdout).toMatch(/status:\s+PASSED/);
    expect(r.stdout).toMatch(/parts:\s+1 verified \(1 xxh3 content, 1 md5\), 0 failed/);
    expect(r.stdout).toMatch(/_SUCCESS:\s+consistent/);
    expect(r.stdout).toMatch(/manifest:\s+self-consistent/);
  });

  it('detects a deleted part', async () => {
    const p = await copyOfGood('deleted');
    await rm(join(p, 'part-000001.parquet'));
    const r = await validate('-e', 'orders', '--prefix', p);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/status:\s+FAILED/);
    expect(r.stdout).toContain('failure:   part 1 (part-000001.parquet) is missing');
    expect(r.stderr).toContain('rivet validate: 1 of 1 export failed verification');
  });

  it('detects a truncated part', async () => {
    const p = await copyOfGood('truncated');
    const manifest = JSON.parse(await readFile(join(p, 'manifest.json'), 'utf8'));
    await truncate(join(p, 'part-000001.parquet'), 100);
    const r = await validate('-e', 'orders', '--prefix', p);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`part 1 (part-000001.parquet) has the wrong size: manifest says ${manifest.parts[0].size_bytes} bytes, destination has 100 bytes`);
  });

  it('detects a byte-flipped part of the same size by its content fingerprint', async () => {
    const p = await copyOfGood('flipped');
    const file = join(p, 'part-000001.parquet');
    const bytes = await readFile(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    await writeFile(file, bytes);
    const r = await validate('-e', 'orders', '--prefix', p);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/part 1 \(part-000001\.parquet\) content does not match: manifest content_fingerprint xxh3:[0-9a-f]{16}, destination bytes hash to xxh3:[0-9a-f]{16}/);
    expect(r.stdout).not.toContain('wrong size');
  });

  it('a part replaced by bytes that are not Parquet, with manifest and _SUCCESS rewritten to match, fails naming the part', async () => {
    const p = await copyOfGood('not-parquet');
    const fake = Buffer.from('id,name\n1,n1\n'.repeat(50));
    await writeFile(join(p, 'part-000001.parquet'), fake);
    const fingerprint = `xxh3:${await xxhash3(fake)}`;
    await rewriteManifest(p, (m) => {
      m.parts[0].size_bytes = fake.length;
      m.parts[0].content_fingerprint = fingerprint;
      m.parts[0].content_md5 = createHash('md5').update(fake).digest('base64');
    });
    const r = await validate('-e', 'orders', '--prefix', p);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/_SUCCESS:\s+consistent/);
    expect(r.stdout).toContain(
      'failure:   part 1 (part-000001.parquet) is not a readable Parquet file although its bytes match the manifest: the file does not end with the Parquet magic "PAR1"',
    );
    expect(r.stderr).toContain('rivet validate: 1 of 1 export failed verification');
  });

  it('a manifest (and _SUCCESS) rewritten to claim other row counts fails on the footer\'s count', async () => {
    const p = await copyOfGood('row-count');
    await rewriteManifest(p, (m) => {
      m.parts[0].rows = 301;
      m.row_count = 301;
    });
    const r = await validate('-e', 'orders', '--prefix', p);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('failure:   part 1 (part-000001.parquet) holds 300 rows when parsed back, the manifest says 301');
    expect(r.stdout).toMatch(/parts:\s+0 verified .*, 1 failed; 0 parsed back/);
  });

  it('detects a tampered manifest (its bytes no longer match _SUCCESS)', async () => {
    const p = await copyOfGood('tampered');
    const text = await readFile(join(p, 'manifest.json'), 'utf8');
    await writeFile(join(p, 'manifest.json'), text.replace(/"finished_at": "[^"]+"/, '"finished_at": "2000-01-01T00:00:00.000Z"'));
    const r = await validate('-e', 'orders', '--prefix', p);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/_SUCCESS:\s+INCONSISTENT/);
    expect(r.stdout).toMatch(/_SUCCESS is stale: it holds xxh3:[0-9a-f]{16} but manifest.json hashes to xxh3:[0-9a-f]{16}/);
    expect(r.stdout).toMatch(/manifest:\s+self-consistent/);
  });

  it('reports a legacy prefix (data, no manifest) without failing', async () => {
    const p = join(dir, 'legacy');
    await mkdir(p, { recursive: true });
    await cp(join(good, 'part-000001.parquet'), join(p, 'orders_20200101.parquet'));
    const r = await validate('-e', 'orders', '--prefix', p);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('status:    legacy_run (no manifest at destination');
  });

  it('--date points at another day; a day nobody exported fails with no_dataset', async () => {
    expect((await validate('-e', 'orders', '--date', today)).code).toBe(0);
    const r = await validate('-e', 'orders', '--date', '2001-02-03');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`prefix:    ${join(dir, 'lake', 'orders', '2001-02-03')}`);
    expect(r.stdout).toContain('no dataset at this prefix: the prefix is empty or does not exist');
  });

  it('--run-id resolves {run_id}; without it such a destination is an error', async () => {
    expect((await validate('-e', 'byrun', '--run-id', runId)).code).toBe(0);
    const r = await validate('-e', 'byrun');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('── errors ──');
    expect(r.stdout).toContain('contains {run_id}: pass --run-id <id>');
  });

  it('--format json -o writes the report (exports[].verification, errors) to a file', async () => {
    const p = await copyOfGood('json');
    await rm(join(p, 'part-000001.parquet'));
    const file = join(dir, 'verdict.json');
    const r = await validate('-e', 'orders', '--prefix', p, '--format', 'json', '-o', file);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const report = JSON.parse(await readFile(file, 'utf8'));
    expect(report.errors).toEqual([]);
    expect(report.exports).toHaveLength(1);
    expect(report.exports[0]).toMatchObject({ export_name: 'orders', resolved_prefix: p });
    expect(report.exports[0].verification).toMatchObject({
      manifest_found: true,
      legacy_run: false,
      parts_verified: 0,
      parts_failed: 1,
      success_marker_consistent: true,
      manifest_self_consistent: true,
      passed: false,
      failures: [{ kind: 'part_missing', part_id: 1, path: 'part-000001.parquet' }],
    });
    const ok = await validate('-e', 'orders', '--format', 'json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).exports[0].verification.passed).toBe(true);
  });

  it.each([
    [['--prefix', '/x', '--date', '2026-01-01', '-e', 'orders'], '--prefix cannot be combined with --date or --run-id'],
    [['--prefix', '/x', '--run-id', 'r1', '-e', 'orders'], '--prefix cannot be combined with --date or --run-id'],
    [['--prefix', '/x'], '--prefix needs --export <name>: one prefix cannot apply to 3 exports'],
    [['-o', 'out.json'], '-o/--output writes the JSON report and needs --format json'],
    [['--date', '2026-02-30'], "--date '2026-02-30' is not a date: YYYY-MM-DD is expected"],
    [['--date', '26-1-1'], "--date '26-1-1' is not a date"],
    [['-e', 'nope'], "export 'nope' is not found in"],
    [['--format', 'xml'], "argument 'xml' is invalid"],
  ])('usage error %j exits 2', async (args, message) => {
    const r = await validate(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

describe('rivet run --validate / --reconcile (built CLI)', () => {
  it('verifies the prefix and reconciles the row count after the export', async () => {
    const summary = join(dir, 'agg.json');
    const r = await runCli(['run', '-c', cfg, '-e', 'orders', '--validate', '--reconcile', '--summary-output', summary]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/validate:\s+PASSED \(1 parts verified by content, 0 failed, _SUCCESS consistent\)/);
    expect(r.stderr).toMatch(/reconcile:\s+MATCH \(source 300, exported 300\)/);
    const agg = JSON.parse(await readFile(summary, 'utf8'));
    expect(agg.per_export[0].validation.passed).toBe(true);
    expect(agg.per_export[0].validation.manifest.parts_content_verified).toBe(1);
    expect(agg.per_export[0].reconciliation).toEqual({ source_count: 300, exported_rows: 300, matched: true });
  });

  it('a reconcile mismatch fails the export (exit 1) and says both counts', async () => {
    const r = await runCli(['run', '-c', cfg, '-e', 'growing', '--reconcile', '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/reconcile:\s+MISMATCH \(source \d+, exported \d+\)/);
    expect(r.stderr).toMatch(/--reconcile: the source query now yields \d+ rows but \d+ were exported/);
    const agg = JSON.parse(r.stdout);
    expect(agg.failed_count).toBe(1);
    expect(agg.per_export[0].reconciliation.matched).toBe(false);
    expect(agg.per_export[0]).not.toHaveProperty('validation');
  });
});
