import { readdir, readFile, mkdtemp, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { countWithDuckDB } from '../helpers/readers.js';

/**
 * "Readable before committed": a part whose bytes do not read back as what was written is
 * never published, so no _SUCCESS can vouch for it. The encoder's mistake is injected with
 * RIVET_FAULT=inconsistent_footer (its footer claims one row more than the file holds).
 */
let schema: string;
let dir: string;

beforeAll(async () => {
  schema = await freshSchema('e2e_read_back');
  await pgExec(`CREATE TABLE ${schema}.notes (id int PRIMARY KEY, body text, tags int[]);
    INSERT INTO ${schema}.notes SELECT g, CASE WHEN g % 3 = 0 THEN 'line one' || chr(10) || 'say "hi", then leave' ELSE 'n' || g END, ARRAY[g, g + 1]
    FROM generate_series(1, 500) g;`);
  dir = await mkdtemp(join(tmpdir(), 'rivet-read-back-'));
});

async function config(name: string, format: 'parquet' | 'csv', columns = 'id, body'): Promise<{ cfg: string; prefix: string }> {
  const prefix = join(dir, name);
  const cfg = join(dir, `${name}.yaml`);
  await writeFile(
    cfg,
    `source:\n  type: postgres\n  url: ${testPgUrl()}\nexports:\n` +
      `  - name: ${name}\n    query: "SELECT ${columns} FROM ${schema}.notes ORDER BY id"\n    format: ${format}\n    destination: { type: local, path: "${prefix}" }\n`,
  );
  return { cfg, prefix };
}

describe('parts are read back before they are published (built CLI)', () => {
  for (const encoder of ['native', 'wasm']) {
    it(`${encoder} encoder: a footer that disagrees with the rows written fails the run, and no part or _SUCCESS appears`, async () => {
      const { cfg, prefix } = await config(`fault_${encoder}`, 'parquet');
      const r = await runCli(['run', '-c', cfg], { env: { RIVET_FAULT: 'inconsistent_footer', RIVET_PARQUET_ENCODER: encoder } });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('part part-000001.parquet does not read back as written, so it was not published: the footer says 501 rows, the writer was given 500');
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(prefix, '_SUCCESS'))).toBe(false);
      const files = existsSync(prefix) ? await readdir(prefix) : [];
      expect(files.filter((f) => f.startsWith('part-'))).toEqual([]);
      if (files.includes('manifest.json')) expect(JSON.parse(await readFile(join(prefix, 'manifest.json'), 'utf8')).status).toBe('failed');

      // Without the fault the same export commits and validates, footer and row count included.
      const ok = await runCli(['run', '-c', cfg, '--validate'], { env: { RIVET_PARQUET_ENCODER: encoder } });
      expect(ok.code, ok.stderr).toBe(0);
      expect(existsSync(join(prefix, '_SUCCESS'))).toBe(true);
      expect(await countWithDuckDB(join(prefix, 'part-*.parquet'))).toBe(500);
    });
  }

  it('the wasm fallback (an array column) is read back too, and validate parses its footer', async () => {
    const { cfg, prefix } = await config('lists', 'parquet', 'id, tags');
    const bad = await runCli(['run', '-c', cfg], { env: { RIVET_FAULT: 'inconsistent_footer' } });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('does not read back as written');
    const ok = await runCli(['run', '-c', cfg]);
    expect(ok.code, ok.stderr).toBe(0);
    const v = await runCli(['validate', '-c', cfg]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toMatch(/parts:\s+1 verified .*0 failed; 1 parsed back with the manifest's row count/);
    expect(await countWithDuckDB(join(prefix, 'part-*.parquet'))).toBe(500);
  });

  it('CSV with line feeds and quotes inside fields commits: records are counted quote-aware', async () => {
    const { cfg, prefix } = await config('csv_notes', 'csv');
    const r = await runCli(['run', '-c', cfg, '--validate']);
    expect(r.code, r.stderr).toBe(0);
    const text = await readFile(join(prefix, 'part-000001.csv'), 'utf8');
    // More lines than rows: a line counter would have disagreed.
    expect(text.split('\n').length - 2).toBeGreaterThan(500);
    expect(await countWithDuckDB(join(prefix, 'part-*.csv'))).toBe(500);
  });
});
