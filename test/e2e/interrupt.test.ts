import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { testPgUrl } from '../helpers/pg.js';

const BIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

describe('Ctrl-C', () => {
  it('the first SIGINT stops the export cleanly: exit 130, no temp files, the previous dataset and _SUCCESS untouched', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rivet-int-'));
    const out = join(dir, 'out');
    const cfg = join(dir, 'rivet.yaml');
    await writeFile(
      cfg,
      `source:\n  type: postgres\n  url: ${testPgUrl()}\nexports:\n  - name: slow\n    query: SELECT g, pg_sleep(\${pause})::text AS z FROM generate_series(1, \${rows}) g\n    format: parquet\n    tuning: { batch_size: 500 }\n    destination: { type: local, path: ${out} }\n`,
    );
    expect((await runCli(['run', '-c', cfg, '-p', 'pause=0', '-p', 'rows=10'])).code).toBe(0);
    const manifestBefore = await readFile(join(out, 'manifest.json'));
    const successBefore = await readFile(join(out, '_SUCCESS'));

    const child = spawn(process.execPath, [BIN, 'run', '-c', cfg, '-p', 'pause=0.001', '-p', 'rows=200000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Wait until rows flow (the part file exists), then press Ctrl-C once.
    for (let i = 0; i < 300; i++) {
      await new Promise((r) => setTimeout(r, 50));
      if ((await readdir(out)).some((f) => f.endsWith('.tmp'))) break;
    }
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));

    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/stopping after Ctrl-C/);
    expect(stderr).toMatch(/interrupted \(SIGINT\)/);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect((await readdir(out)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(await readFile(join(out, 'manifest.json'))).toEqual(manifestBefore);
    expect(await readFile(join(out, '_SUCCESS'))).toEqual(successBefore);
    expect((await readdir(out)).filter((f) => f.startsWith('part-'))).toEqual(['part-000001.parquet']);

    const db = new Database(join(dir, '.rivet_state.db'), { readonly: true });
    const last = db.prepare('SELECT status, error_message, run_id FROM export_metrics ORDER BY id DESC LIMIT 1').get() as { status: string; error_message: string; run_id: string };
    db.close();
    expect(last.status).toBe('failed');
    expect(last.error_message).toMatch(/interrupted/);
    const archived = JSON.parse(await readFile(join(out, '_rivet/runs', last.run_id, 'manifest.json'), 'utf8'));
    expect(archived.status).toBe('interrupted');
  });
});
