import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openLocalDestination } from '../../shared/destination/local-destination.js';
import { verifyPrefix, isFatal } from '../../shared/run/verify-prefix.js';
import { runCli, REPO_ROOT } from '../helpers/cli.js';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { queryWithDuckDB } from '../helpers/readers.js';

/**
 * The crash matrix: for every fault point of shared/run/commit.ts, a real `rivet run` is
 * killed with SIGKILL at that point (RIVET_FAULT_ACTION=kill), over a prefix that already
 * holds a good dataset. Then:
 *   1. the prefix still verifies, and its manifest describes complete data — the prior
 *      dataset or the new one, nothing in between;
 *   2. a normal rerun produces exactly the source's rows (no loss, no duplicates) and
 *      `rivet validate` passes.
 *
 * A fault point added to commit.ts is one line in FAULT_POINTS (the guard test below fails
 * until it is there). `config` lets a point that only fires in another mode bring its own
 * export block (`TABLE` and `OUT` are substituted).
 */
interface FaultCase {
  point: string;
  /** Export block; default: full mode over TABLE into OUT. */
  config?: string;
  /** How the source changes between the good run and the killed one; default inserts rows and updates one. */
  mutate?: string;
}

const FULL_EXPORT = `  - name: t\n    table: TABLE\n    format: parquet\n    destination: { type: local, path: "OUT" }\n`;
const INCREMENTAL_EXPORT = `  - name: t\n    table: TABLE\n    mode: incremental\n    cursor_column: id\n    format: parquet\n    destination: { type: local, path: "OUT" }\n`;
// An incremental window only sees rows past the cursor: an update to an old row is not its business.
const INSERT_ONLY = `INSERT INTO TABLE SELECT g, 'v' || g FROM generate_series(201, 250) g`;

const FAULT_POINTS: FaultCase[] = [
  { point: 'before_part' },
  { point: 'after_part' },
  { point: 'after_receipt' },
  { point: 'after_manifest' },
  { point: 'after_success' },
  { point: 'after_supersede' },
  { point: 'before_cursor', config: INCREMENTAL_EXPORT, mutate: INSERT_ONLY },
  { point: 'after_cursor', config: INCREMENTAL_EXPORT, mutate: INSERT_ONLY },
];

let schema: string;
beforeAll(async () => {
  schema = await freshSchema('e2e_crash');
});

/** Fault points declared in commit.ts (the `FaultPoint` union), read from the source so new ones cannot be forgotten. */
async function declaredFaultPoints(): Promise<string[]> {
  const text = await readFile(join(REPO_ROOT, 'shared/run/commit.ts'), 'utf8');
  const m = /export type FaultPoint\s*=([^;]+);/.exec(text);
  if (!m) throw new Error('FaultPoint type not found in shared/run/commit.ts');
  return [...m[1].matchAll(/'([a-z_]+)'/g)].map((x) => x[1]);
}

async function manifestRows(out: string): Promise<{ manifest: { run_id: string; row_count: number; parts: { path: string }[] }; rows: { id: number; name: string }[] }> {
  const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
  const files = manifest.parts.map((p: { path: string }) => `'${join(out, p.path).replace(/'/g, "''")}'`);
  const rows = files.length
    ? ((await queryWithDuckDB(`SELECT id::INTEGER AS id, name FROM read_parquet([${files.join(', ')}]) ORDER BY id`)) as { id: number; name: string }[])
    : [];
  return { manifest, rows };
}

async function sourceRows(table: string): Promise<{ id: number; name: string }[]> {
  return (await pgExec<{ id: number; name: string }>(`SELECT id, name FROM ${table} ORDER BY id`)).map((r) => ({ id: Number(r.id), name: r.name }));
}

describe('crash matrix (SIGKILL at every commit fault point, built CLI, real PostgreSQL)', () => {
  it('covers every fault point declared in shared/run/commit.ts', async () => {
    expect(FAULT_POINTS.map((c) => c.point).sort()).toEqual((await declaredFaultPoints()).sort());
  });

  it.each(FAULT_POINTS)('$point: the prefix stays valid after the kill, and a rerun yields exactly the source rows', async ({ point, config, mutate }) => {
    const table = `${schema}.t_${point}`;
    await pgExec(`CREATE TABLE ${table} (id int PRIMARY KEY, name text);
      INSERT INTO ${table} SELECT g, 'v' || g FROM generate_series(1, 200) g;`);
    const dir = await mkdtemp(join(tmpdir(), 'rivet-crash-'));
    const out = join(dir, 'out');
    const cfg = join(dir, 'rivet.yaml');
    const exportYaml = (config ?? FULL_EXPORT).replaceAll('TABLE', table).replaceAll('OUT', out);
    await writeFile(cfg, `source:\n  type: postgres\n  url: ${testPgUrl()}\nexports:\n${exportYaml}`);

    // A prior good dataset: 200 rows.
    const first = await runCli(['run', '-c', cfg]);
    expect(first.code, first.stderr).toBe(0);
    const prior = await manifestRows(out);
    expect(prior.rows).toHaveLength(200);

    // The source moves on, then a run dies at the fault point.
    await pgExec(
      (mutate ?? `INSERT INTO TABLE SELECT g, 'v' || g FROM generate_series(201, 250) g; UPDATE TABLE SET name = 'changed' WHERE id = 1`).replaceAll('TABLE', table),
    );
    const killed = await runCli(['run', '-c', cfg], { env: { RIVET_FAULT: point, RIVET_FAULT_ACTION: 'kill' } });
    expect(killed.signal, `${point}: the run was expected to die by SIGKILL\n${killed.stderr}`).toBe('SIGKILL');

    // 1. Still valid: the manifest at the prefix describes complete data, old or new.
    const verdict = await verifyPrefix(openLocalDestination(out));
    expect(verdict.failures.filter(isFatal), `${point}: ${JSON.stringify(verdict.failures)}`).toEqual([]);
    expect(verdict.passed).toBe(true);
    const after = await manifestRows(out);
    expect(after.rows).toHaveLength(after.manifest.row_count);
    if (after.manifest.run_id === prior.manifest.run_id) {
      expect(after.rows).toEqual(prior.rows);
      expect(verdict.success_marker_consistent).toBe(true);
    } else {
      expect(after.rows).toEqual(await sourceRows(table));
    }

    // 2. A normal rerun converges on the source: same rows, no duplicates, no loss.
    const rerun = await runCli(['run', '-c', cfg]);
    expect(rerun.code, rerun.stderr).toBe(0);
    const final = await manifestRows(out);
    expect(final.rows).toEqual(await sourceRows(table));
    expect(new Set(final.rows.map((r) => r.id)).size).toBe(final.rows.length);
    const validate = await runCli(['validate', '-c', cfg, '-e', 't']);
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
    expect(validate.stdout).toMatch(/status:\s+PASSED/);
    expect(validate.stdout).toMatch(/_SUCCESS:\s+consistent/);
  });
});
