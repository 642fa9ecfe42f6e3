import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile, access } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';

/**
 * Two runs of one export at once (issue 15): the run lease lets exactly one of them commit;
 * the other is refused before it writes anything, says who holds the export and exits 1.
 * Real processes of the built CLI, a PostgreSQL source, the default SQLite state. Each run
 * is slowed down (throttle_ms between batches) so the two really overlap.
 */
const ROWS = 12_000;
let schema: string;

beforeAll(async () => {
  schema = await freshSchema('e2e_lease');
  await pgExec(`CREATE TABLE ${schema}.orders (id bigint PRIMARY KEY, note text);
    INSERT INTO ${schema}.orders SELECT g, 'n' || g FROM generate_series(1, ${ROWS}) g;`);
});

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'rivet-lease-'));
  const out = join(dir, 'out');
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(
    cfg,
    `source:\n  type: postgres\n  url: ${testPgUrl()}\nexports:\n  - name: orders\n    table: ${schema}.orders\n    format: parquet\n` +
      `    tuning: { batch_size: 1000, throttle_ms: 150 }\n    destination: { type: local, path: "${out}" }\n`,
  );
  return { dir, out, cfg };
}

const exists = (p: string) => access(p).then(() => true, () => false);

async function manifestOf(out: string): Promise<{ run_id: string; status: string; row_count: number; parts: { path: string }[] }> {
  return JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
}

/** No lease is left behind once every run has ended. */
function leases(dir: string): unknown[] {
  const db = new Database(join(dir, '.rivet_state.db'), { readonly: true });
  try {
    return db.prepare(`SELECT * FROM run_lease`).all();
  } finally {
    db.close();
  }
}

/** validate as JSON: passed, and no object at the prefix that the manifest does not account for. */
async function validated(cfg: string): Promise<void> {
  const v = await runCli(['validate', '-c', cfg, '--format', 'json']);
  expect(v.code, v.stdout + v.stderr).toBe(0);
  const report = JSON.parse(v.stdout) as { exports: { verification: { passed: boolean; failures: { kind: string }[] } }[] };
  expect(report.exports[0].verification.passed).toBe(true);
  expect(report.exports[0].verification.failures).toEqual([]);
}

describe('two runs of one export started together', () => {
  it('three times in a row: exactly one commits, the other is refused naming the holder, the prefix verifies, nothing is orphaned', async () => {
    const { dir, out, cfg } = await setup();
    const winners: string[] = [];
    for (let round = 1; round <= 3; round++) {
      const [a, b] = await Promise.all([runCli(['run', '-c', cfg]), runCli(['run', '-c', cfg])]);
      const codes = [a.code, b.code].sort();
      expect(codes, `${a.stderr}\n---\n${b.stderr}`).toEqual([0, 1]);
      const loser = a.code === 1 ? a : b;
      const manifest = await manifestOf(out);
      expect(manifest).toMatchObject({ status: 'success', row_count: ROWS });
      winners.push(manifest.run_id);

      // The loser says why, names the winner (run id, host, pid, since) and was refused before writing anything.
      expect(loser.stderr).toMatch(/RUN_IN_PROGRESS|another run of this export is in progress/);
      expect(loser.stderr).toContain(`another run of this export is in progress: run ${manifest.run_id} on ${hostname()} (pid `);
      expect(loser.stderr).toMatch(/ since \d{4}-\d{2}-\d{2}T/);
      expect(loser.stderr).toMatch(/hint:\s+wait for that run to finish/);
      expect(loser.stderr).not.toMatch(/\n\s+at /);

      // Only committed runs left a record under _rivet/runs/, and every part at the root is the dataset's.
      expect((await readdir(join(out, '_rivet/runs'))).sort()).toEqual([...winners].sort());
      const atRoot = (await readdir(out)).filter((f) => f.startsWith('part-')).sort();
      expect(atRoot).toEqual(manifest.parts.map((p) => p.path).sort());
      expect(await exists(join(out, '_SUCCESS'))).toBe(true);
      await validated(cfg);
      expect(leases(dir)).toEqual([]);
    }
    expect(new Set(winners).size).toBe(3);
  }, 180_000);

  it('a holder killed with SIGKILL mid-run is taken over at once by the next run on this host', async () => {
    const { dir, out, cfg } = await setup();
    expect((await runCli(['run', '-c', cfg])).code).toBe(0);
    const before = await manifestOf(out);

    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/cli/main.js'), 'run', '-c', cfg], { stdio: 'ignore', env: { ...process.env, RIVET_LOG: 'warn' } });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    // Wait until it holds the lease and is exporting (its plan is stored), then kill it.
    let holder: { run_id: string; pid: number } | undefined;
    for (let i = 0; i < 200 && !holder; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const rows = (await exists(join(dir, '.rivet_state.db'))) ? (leases(dir) as { run_id: string; pid: number }[]) : [];
      if (rows[0] && rows[0].run_id !== before.run_id && (await exists(join(out, '_rivet/runs', rows[0].run_id, 'plan.json')))) holder = rows[0];
    }
    expect(holder?.pid).toBe(child.pid);
    child.kill('SIGKILL');
    await exited;
    // The killed run's lease is still there, unexpired (60 s by default).
    expect(leases(dir)).toHaveLength(1);

    // A reader still sees the previous dataset.
    expect((await manifestOf(out)).run_id).toBe(before.run_id);
    await validated(cfg);

    const next = await runCli(['run', '-c', cfg]);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toContain(`took over the run lease of run ${holder!.run_id} on ${hostname()} (pid ${holder!.pid})`);
    expect(next.stderr).toContain(`process ${holder!.pid} on ${hostname()} no longer exists`);
    const after = await manifestOf(out);
    expect(after).toMatchObject({ status: 'success', row_count: ROWS });
    expect(after.run_id).not.toBe(holder!.run_id);
    await validated(cfg);
    expect(leases(dir)).toEqual([]);
  }, 120_000);
});
