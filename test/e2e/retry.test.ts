import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { pgExec, testPgUrl } from '../helpers/pg.js';

describe('retries', () => {
  it('a transient source error (query cancelled mid-stream) is retried from a clean part and the run succeeds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rivet-retry-'));
    const cfg = join(dir, 'rivet.yaml');
    const tag = `retry_${process.pid}_${Date.now()}`;
    await writeFile(
      cfg,
      `source:
  type: postgres
  url: ${testPgUrl()}
  tuning: { batch_size: 200, max_retries: 2, retry_backoff_ms: 10, throttle_ms: 0 }
exports:
  - name: slow
    query: SELECT g AS id, '${tag}' AS tag, pg_sleep(0.0005)::text AS pause FROM generate_series(1, 3000) g
    format: csv
    destination: { type: local, path: ${join(dir, 'out')} }
`,
    );
    const run = runCli(['run', '-c', cfg]);
    // Cancel the first FETCH we see for this query; the worker must retry, not fail.
    let cancelled = false;
    for (let i = 0; i < 200 && !cancelled; i++) {
      const rows = await pgExec<{ c: boolean }>(
        `SELECT pg_cancel_backend(pid) AS c FROM pg_stat_activity
         WHERE state = 'active' AND query ILIKE 'FETCH%' AND pid <> pg_backend_pid()
           AND application_name = 'rivet'`,
      );
      cancelled = rows.some((r) => r.c);
      if (!cancelled) await new Promise((r) => setTimeout(r, 25));
    }
    const r = await run;
    expect(cancelled).toBe(true);
    expect(r.stderr).toMatch(/attempt 1\/3 failed .*retrying/);
    expect(r.code).toBe(0);
    const manifest = JSON.parse(await readFile(join(dir, 'out', 'manifest.json'), 'utf8'));
    expect(manifest.row_count).toBe(3000);
    expect(manifest.parts.map((p: { path: string }) => p.path)).toEqual(['part-000001.csv']);
    const csv = await readFile(join(dir, 'out', 'part-000001.csv'), 'utf8');
    expect(csv.trim().split('\n').length).toBe(3001);
    const db = new Database(join(dir, '.rivet_state.db'), { readonly: true });
    expect(db.prepare('SELECT retries, status FROM export_metrics').get()).toEqual({ retries: 1, status: 'success' });
    db.close();
  });
});
