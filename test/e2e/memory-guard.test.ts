import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { runCli } from '../helpers/cli.js';
import { countWithDuckDB } from '../helpers/readers.js';

let schema: string;

beforeAll(async () => {
  schema = await freshSchema('e2e_memguard');
  await pgExec(`CREATE TABLE ${schema}.t (id bigint PRIMARY KEY, v text); INSERT INTO ${schema}.t SELECT g, 'v' || g FROM generate_series(1, 300) g;`);
});

async function runWith(threshold: number) {
  const dir = await mkdtemp(join(tmpdir(), 'rivet-memguard-'));
  const out = join(dir, 'out');
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(
    cfg,
    `source:\n  type: postgres\n  url: ${testPgUrl()}\n  tuning: { profile: fast, memory_threshold_mb: ${threshold} }\n` +
      `exports:\n  - name: t\n    table: ${schema}.t\n    mode: chunked\n    chunk_column: id\n    chunk_size: 1000\n    format: parquet\n    destination: { type: local, path: ${out} }\n`,
  );
  return { r: await runCli(['run', '-c', cfg], { env: { RIVET_STATE_PATH: join(dir, 'state.db') } }), out };
}

describe('memory_threshold_mb (the RSS guard of chunked exports)', () => {
  it('warns and pauses before a chunk when the process is above the threshold, then exports it', async () => {
    const { r, out } = await runWith(1);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/export 't' task \d+: process RSS \d+ MB is above tuning\.memory_threshold_mb \(1 MB\); pausing 5 s/);
    expect(await countWithDuckDB(`${out}/part-*.parquet`)).toBe(300);
  });

  it('stays silent below the threshold', async () => {
    const { r } = await runWith(100_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/memory_threshold_mb/);
  });
});
