import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';

/**
 * The JSON convention of the history commands (docs/commands/README.md): `--format json`
 * prints exactly one JSON document on stdout, snake_case keys, whatever the state holds,
 * and nothing else; `pretty` stays the default. Three real runs feed it: an incremental
 * export, a chunked one and a failing one whose error carries a password-bearing URL.
 */
let cfg: string;
let incRun: string;
let chunkRun: string;

const json = async (args: string[]) => {
  const r = await runCli(args);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};

beforeAll(async () => {
  const schema = await freshSchema('e2e_histjson');
  await pgExec(`CREATE TABLE ${schema}.items (id int primary key, v text); INSERT INTO ${schema}.items SELECT g, 'v' || g FROM generate_series(1, 40) g;`);
  const dir = await mkdtemp(join(tmpdir(), 'rivet-histjson-'));
  cfg = join(dir, 'rivet.yaml');
  await writeFile(
    cfg,
    `source:\n  type: postgres\n  url: ${testPgUrl()}\nexports:\n` +
      `  - name: inc\n    table: ${schema}.items\n    mode: incremental\n    cursor_column: id\n    format: csv\n    destination: { type: local, path: ${join(dir, 'inc')} }\n` +
      `  - name: chunks\n    table: ${schema}.items\n    mode: chunked\n    chunk_column: id\n    chunk_size: 15\n    chunk_checkpoint: true\n    format: parquet\n    destination: { type: local, path: ${join(dir, 'chunks')} }\n` +
      `  - name: broken\n    query: "SELECT 1 / (g - 5) AS x FROM generate_series(1, 10) g"\n    format: csv\n    destination: { type: local, path: ${join(dir, 'broken')} }\n`,
  );
  const inc = await runCli(['run', '-c', cfg, '-e', 'inc']);
  expect(inc.code, inc.stderr).toBe(0);
  incRun = /run_id:\s+(\S+)/.exec(inc.stderr)![1];
  const ch = await runCli(['run', '-c', cfg, '-e', 'chunks']);
  expect(ch.code, ch.stderr).toBe(0);
  chunkRun = /run_id:\s+(\S+)/.exec(ch.stderr)![1];
  expect((await runCli(['run', '-c', cfg, '-e', 'broken'])).code).toBe(1);
});

describe('--format json on the history commands', () => {
  it('metrics: one document, a run per row, newest first, with the failure message', async () => {
    const doc = await json(['metrics', '-c', cfg, '--format', 'json']);
    const runs = doc.runs as Record<string, unknown>[];
    expect(runs.map((r) => r.export_name)).toEqual(['broken', 'chunks', 'inc']);
    expect(runs[2]).toMatchObject({ run_id: incRun, status: 'success', mode: 'incremental', format: 'csv', total_rows: 40, files_produced: 1, error_message: null });
    expect(runs[1]).toMatchObject({ run_id: chunkRun, status: 'success', mode: 'chunked', total_rows: 40 });
    expect(runs[0]).toMatchObject({ status: 'failed' });
    expect(String(runs[0].error_message)).toContain('division by zero');
    expect(Object.keys(runs[0]).every((k) => /^[a-z_]+$/.test(k))).toBe(true);
  });

  it('journal: the stored journal, events as recorded', async () => {
    const doc = await json(['journal', '-c', cfg, '-e', 'inc', '--format', 'json']);
    const journals = doc.journals as { run_id: string; export_name: string; entries: { event: Record<string, unknown> }[] }[];
    expect(journals).toHaveLength(1);
    expect(journals[0].run_id).toBe(incRun);
    const names = journals[0].entries.map((e) => Object.keys(e.event)[0]);
    expect(names).toContain('FileWritten');
    expect(names.at(-1)).toBe('RunCompleted');
  });

  it('state show / progression / chunks / files', async () => {
    expect(await json(['state', 'show', '-c', cfg, '--format', 'json'])).toEqual({
      cursors: [{ export_name: 'inc', cursor: '40', last_run_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }],
    });
    const prog = (await json(['state', 'progression', '-c', cfg, '-e', 'inc', '--format', 'json'])).exports as Record<string, unknown>[];
    expect(prog).toEqual([{ export_name: 'inc', committed: expect.objectContaining({ strategy: 'incremental', cursor: '40', run_id: incRun }), verified: null }]);

    const chunks = await json(['state', 'chunks', '-c', cfg, '-e', 'chunks', '--format', 'json']);
    const run = chunks.run as { run_id: string; status: string; chunks: { chunk_index: number; status: string; rows_written: number }[] };
    expect(chunks.export_name).toBe('chunks');
    expect(run.run_id).toBe(chunkRun);
    expect(run.chunks.map((c) => c.status)).toEqual(['completed', 'completed', 'completed']);
    expect(run.chunks.reduce((n, c) => n + c.rows_written, 0)).toBe(40);
    expect(await json(['state', 'chunks', '-c', cfg, '-e', 'inc', '--format', 'json'])).toEqual({ export_name: 'inc', run: null });

    const files = (await json(['state', 'files', '-c', cfg, '-e', 'inc', '--format', 'json'])).files as Record<string, unknown>[];
    expect(files).toEqual([expect.objectContaining({ export_name: 'inc', run_id: incRun, file_name: 'part-000001.csv', row_count: 40, format: 'csv' })]);
  });

  it('an empty history is an empty document, not a sentence', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rivet-histjson-empty-'));
    const empty = join(dir, 'rivet.yaml');
    await writeFile(empty, 'exports: []\n');
    expect(await json(['metrics', '-c', empty, '--format', 'json'])).toEqual({ runs: [] });
    expect(await json(['state', 'show', '-c', empty, '--format', 'json'])).toEqual({ cursors: [] });
    expect(await json(['state', 'files', '-c', empty, '--format', 'json'])).toEqual({ files: [] });
  });

  it('an unknown format is a usage error (exit 2)', async () => {
    const r = await runCli(['metrics', '-c', cfg, '--format', 'yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/json|pretty/);
  });
});
