import { access, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { runCli } from '../helpers/cli.js';
import { queryWithDuckDB } from '../helpers/readers.js';

let schema: string;
const exists = (p: string) => access(p).then(() => true, () => false);

beforeAll(async () => {
  schema = await freshSchema('e2e_resume');
  // `boom` divides by zero on id 350 while ctl.fail is set: only the chunk 301..400 fails.
  // Planning never evaluates it (its probes select only the key).
  await pgExec(`
    CREATE TABLE ${schema}.t (id bigint PRIMARY KEY, val text);
    INSERT INTO ${schema}.t SELECT g, 'v' || g FROM generate_series(1, 600) g;
    CREATE TABLE ${schema}.ctl (fail boolean);
    INSERT INTO ${schema}.ctl VALUES (true);`);
});

const setFail = (on: boolean) => pgExec(`UPDATE ${schema}.ctl SET fail = ${on}`);

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'rivet-resume-'));
  const out = join(dir, 'out');
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(
    cfg,
    `source:
  type: postgres
  url: ${testPgUrl()}
  tuning: { batch_size: 1000, throttle_ms: 0, retry_backoff_ms: 10 }
exports:
  - name: t
    query: SELECT id, val, CASE WHEN (SELECT fail FROM ${schema}.ctl) THEN 1 / (id - 350) ELSE 0 END AS boom FROM ${schema}.t
    mode: chunked
    chunk_column: id
    chunk_size: 100
    chunk_checkpoint: true
    chunk_max_attempts: 2
    format: parquet
    destination: { type: local, path: ${out} }
`,
  );
  return { dir, out, cfg };
}

function chunkRows(dir: string) {
  const db = new Database(join(dir, '.rivet_state.db'), { readonly: true });
  try {
    return {
      runs: db.prepare(`SELECT run_id, status FROM chunk_run ORDER BY created_at`).all() as { run_id: string; status: string }[],
      tasks: db.prepare(`SELECT run_id, chunk_index, status, attempts FROM chunk_task ORDER BY run_id, chunk_index`).all() as { run_id: string; chunk_index: number; status: string; attempts: number }[],
    };
  } finally {
    db.close();
  }
}

async function exportedIds(out: string): Promise<number[]> {
  const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { parts: { path: string }[] };
  const rows = await queryWithDuckDB(`SELECT CAST(id AS INTEGER) AS id FROM read_parquet([${m.parts.map((p) => `'${join(out, p.path)}'`).join(', ')}]) ORDER BY id`);
  return rows.map((r) => Number(r.id));
}

const ALL = Array.from({ length: 600 }, (_, i) => i + 1);

describe('rivet run --resume (chunk_checkpoint)', () => {
  it('a run that failed on one chunk resumes under the same run id: done chunks skipped, the rest rewritten, a stray part quarantined', async () => {
    const { dir, out, cfg } = await setup();
    await setFail(true);
    const first = await runCli(['run', '-c', cfg]);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/--resume/);
    let state = chunkRows(dir);
    expect(state.runs).toHaveLength(1);
    const runId = state.runs[0].run_id;
    expect(state.runs[0].status).toBe('in_progress');
    // Sequential: chunks 0-2 done; chunk 3 failed (division by zero is permanent, so it is not retried); 4-5 never started.
    expect(state.tasks.map((t) => [t.status, t.attempts])).toEqual([
      ['completed', 1], ['completed', 1], ['completed', 1], ['failed', 1], ['pending', 0], ['pending', 0],
    ]);
    // An interrupted checkpointed run is only archived: no manifest.json, no _SUCCESS yet.
    expect(await exists(join(out, 'manifest.json'))).toBe(false);
    expect(JSON.parse(await readFile(join(out, '_rivet/runs', runId, 'manifest.json'), 'utf8')).status).toBe('interrupted');

    // A fresh run beside the unfinished one is refused.
    const fresh = await runCli(['run', '-c', cfg]);
    expect(fresh.code).toBe(2);
    expect(fresh.stderr).toMatch(/still in progress/);

    // Something left an object at chunk 4's part path.
    await writeFile(join(out, 'part-000005.parquet'), 'not a part');
    const shown = await runCli(['state', 'chunks', '-c', cfg, '-e', 't']);
    expect(shown.stdout).toMatch(/\n3 +failed +301 +400 +1 +- -\n {7}error: .*division by zero/);

    await setFail(false);
    const resumed = await runCli(['run', '-c', cfg, '--resume', '--json'], { env: { RIVET_LOG: 'info' } });
    expect(resumed.stderr).not.toMatch(/\n\s+at /);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/3 chunk\(s\) skipped, 3 to rewrite, 1 object\(s\) quarantined/);
    expect(JSON.parse(resumed.stdout).per_export[0].run_id).toBe(runId);

    const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(m.run_id).toBe(runId);
    expect(m.status).toBe('success');
    expect(m.parts.map((p: { path: string }) => p.path)).toEqual([1, 2, 3, 4, 5, 6].map((n) => `part-00000${n}.parquet`));
    expect(await readFile(join(out, '_quarantine', runId, 'part-000005.parquet'), 'utf8')).toBe('not a part');
    expect(await exportedIds(out)).toEqual(ALL);
    state = chunkRows(dir);
    expect(state.runs[0].status).toBe('completed');
    expect(state.tasks.map((t) => [t.status, t.attempts])).toEqual([
      ['completed', 1], ['completed', 1], ['completed', 1], ['completed', 2], ['completed', 1], ['completed', 1],
    ]);

    // Nothing left to resume.
    const again = await runCli(['run', '-c', cfg, '--resume']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/--resume was given but there is no unfinished chunk checkpoint to pick up/);
    expect(again.stderr).toMatch(/run without --resume/);
  });

  it('over a prefix with _SUCCESS, --resume is refused without --force; a failed run leaves the prior dataset and its _SUCCESS untouched', async () => {
    const { dir, out, cfg } = await setup();
    await setFail(false);
    expect((await runCli(['run', '-c', cfg])).code).toBe(0);
    const before = await readFile(join(out, 'manifest.json'), 'utf8');
    const marker = await readFile(join(out, '_SUCCESS'), 'utf8');

    await setFail(true);
    expect((await runCli(['run', '-c', cfg])).code).toBe(1);
    expect(await readFile(join(out, 'manifest.json'), 'utf8')).toBe(before);
    expect(await readFile(join(out, '_SUCCESS'), 'utf8')).toBe(marker);

    await setFail(false);
    const refused = await runCli(['run', '-c', cfg, '--resume']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--resume refused: .* already holds a complete dataset \(_SUCCESS of run t_/);
    expect(refused.stderr).toMatch(/--force/);

    const forced = await runCli(['run', '-c', cfg, '--resume', '--force']);
    expect(forced.code).toBe(0);
    const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    const { runs } = chunkRows(dir);
    expect(m.run_id).toBe(runs[1].run_id);
    expect(runs.map((r) => r.status)).toEqual(['completed', 'completed']);
    // The first dataset's parts were moved aside after the new _SUCCESS, never quarantined.
    expect(await exists(join(out, '_superseded', runs[1].run_id, 'part-000001.parquet'))).toBe(true);
    expect(await exists(join(out, '_quarantine'))).toBe(false);
    expect(await exportedIds(out)).toEqual(ALL);
  });

  it('a worker killed after publishing a part (no receipt) leaves a chunk running; the resume quarantines that part and rewrites it', async () => {
    const { dir, out, cfg } = await setup();
    await setFail(false);
    const killed = await runCli(['run', '-c', cfg], { env: { RIVET_FAULT: 'after_part', RIVET_FAULT_ACTION: 'kill' } });
    expect(killed.code).not.toBe(0);
    const { runs, tasks } = chunkRows(dir);
    expect(tasks[0].status).toBe('running');
    const resumed = await runCli(['run', '-c', cfg, '--resume']);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/were left running by a process that stopped/);
    expect(await exists(join(out, '_quarantine', runs[0].run_id, 'part-000001.parquet'))).toBe(true);
    expect(await exportedIds(out)).toEqual(ALL);
  });

  it('state reset-chunks clears a stuck checkpoint so a fresh run may start', async () => {
    const { cfg } = await setup();
    await setFail(true);
    expect((await runCli(['run', '-c', cfg])).code).toBe(1);
    const stuck = await runCli(['state', 'reset-chunks', '-c', cfg, '--stuck-checkpoints']);
    expect(stuck.code).toBe(0);
    expect(stuck.stdout).toMatch(/Resetting chunk checkpoints for 1 export\(s\) with in-progress runs: t\nRemoved 1 chunk run record\(s\) for export 't'\./);
    const none = await runCli(['state', 'reset-chunks', '-c', cfg, '--failed']);
    expect(none.stdout).toMatch(/Nothing is stuck in progress/);
    await setFail(false);
    expect((await runCli(['run', '-c', cfg])).code).toBe(0);
  });
});
