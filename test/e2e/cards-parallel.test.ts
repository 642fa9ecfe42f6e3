import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { countWithDuckDB } from '../helpers/readers.js';
import { BIN, cardsConfig, cardsEnv, cardsSchema } from './cards-fixture.js';

/** The parallel modes outside a terminal: plain lines, the IPC protocol, failures and exit statuses. */
let schema: string;
beforeAll(async () => {
  schema = await cardsSchema('e2e_cards_par');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pids of the running `rivet run` children of this config (their command line names it). */
function childPids(cfg: string, exportName: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes(cfg) && argv.includes('--export') && argv.includes(exportName)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

describe('rivet run --parallel-* without a terminal', () => {
  it('--parallel-exports prints plain lines (no escape codes), one summary, and the JSON aggregate', async () => {
    const { cfg, out } = await cardsConfig(schema);
    const r = await runCli(['run', '-c', cfg, '--parallel-exports', '--json'], { env: cardsEnv() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.includes('\x1b')).toBe(false);
    for (const name of ['customers', 'orders', 'events']) {
      expect(r.stderr).toMatch(new RegExp(`^rivet: ${name} \\((full|chunked)\\) started$`, 'm'));
      expect(r.stderr.match(new RegExp(`^✓ ${name} `, 'gm'))).toHaveLength(1);
    }
    expect(r.stderr).toMatch(/^✓ orders\s+chunked\s+3,000 rows {2}6 files/m);
    expect(r.stderr.match(/Run summary — 3 exports/g)).toHaveLength(1);
    const agg = JSON.parse(r.stdout);
    expect(agg).toMatchObject({ parallel_mode: 'parallel-threads', total_exports: 3, success_count: 3, failed_count: 0, total_rows: 4700 });
    expect(await countWithDuckDB(`${out('orders')}/*.parquet`)).toBe(3000);
  }, 60_000);

  it('a child speaks NDJSON events on stdout with RIVET_IPC_EVENTS=1: started, progress_init, progress, finished', async () => {
    const { cfg } = await cardsConfig(schema);
    const r = await runCli(['run', '-c', cfg, '-e', 'orders'], { env: { ...cardsEnv(), RIVET_IPC_EVENTS: '1' } });
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({ type: 'started', export_name: 'orders', mode: 'chunked', batch_size: 100 });
    expect(events[0].run_id).toMatch(/^orders_/);
    expect(events[1]).toEqual({ type: 'progress_init', export_name: 'orders', total_chunks: 6 });
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toMatchObject({ chunks_done: 6, rows: 3000 });
    expect(events.at(-1)).toMatchObject({ type: 'finished', run_id: events[0].run_id, status: 'success', total_rows: 3000, files_produced: 6, error_message: null });
    // No detailed block on stderr: the parent owns the screen.
    expect(r.stderr).not.toMatch(/run_id:/);
  }, 60_000);

  it('--parallel-export-processes: a failing export fails alone; exit 1 and the summary names it', async () => {
    const { cfg, out } = await cardsConfig(schema, `  - name: broken\n    query: SELECT * FROM ${schema}.no_such_table\n    format: parquet\n    destination: { type: local, path: /tmp/never-written }\n`);
    const r = await runCli(['run', '-c', cfg, '--parallel-export-processes', '--json'], { env: cardsEnv() });
    expect(r.code, r.stderr).toBe(1);
    // Outside a terminal a card is clamped to 80 columns; the summary carries the whole cause.
    expect(r.stderr).toMatch(/^✗ broken\s+full\s+PostgreSQL .{20,}…$/m);
    expect(r.stderr).toMatch(/^✓ orders\s+chunked\s+3,000 rows/m);
    expect(r.stderr).toMatch(/status: +3 success · 1 failed/);
    expect(r.stderr).toMatch(/failed exports:\n\s+- broken: .*no_such_table/);
    const agg = JSON.parse(r.stdout);
    expect(agg).toMatchObject({ parallel_mode: 'parallel-processes', success_count: 3, failed_count: 1 });
    expect(await countWithDuckDB(`${out('customers')}/*.parquet`)).toBe(500);
  }, 60_000);

  it('a child killed mid-run (no finished event) is marked failed with ⚠, the others finish, exit 1', async () => {
    const { cfg } = await cardsConfig(schema);
    const parent = spawn(process.execPath, [BIN, 'run', '-c', cfg, '--parallel-export-processes'], { env: { ...process.env, ...cardsEnv() }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    parent.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => parent.on('close', (code) => resolve(code)));
    let victims: number[] = [];
    for (let i = 0; i < 200 && victims.length === 0; i++) {
      await sleep(50);
      if (stderr.includes('orders (chunked) started')) victims = childPids(cfg, 'orders');
    }
    expect(victims).toHaveLength(1);
    process.kill(victims[0], 'SIGKILL');
    expect(await exited).toBe(1);
    expect(stderr).toMatch(/^⚠ orders\s+chunked\s+the child process ended before reporting/m);
    expect(stderr).toMatch(/- orders: the child process ended before reporting its final summary \(killed by SIGKILL\)/);
    expect(stderr).toMatch(/^✓ customers /m);
    expect(stderr).toMatch(/^✓ events /m);
    expect(stderr).toMatch(/status: +2 success · 1 failed/);
  }, 60_000);

  it('Ctrl-C is forwarded to every child: exit 130, the interrupted export is reported as such', async () => {
    const { cfg } = await cardsConfig(schema);
    const parent = spawn(process.execPath, [BIN, 'run', '-c', cfg, '--parallel-export-processes'], { env: { ...process.env, ...cardsEnv() }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    parent.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => parent.on('close', (code) => resolve(code)));
    for (let i = 0; i < 200 && !stderr.includes('orders (chunked) started'); i++) await sleep(50);
    await sleep(500);
    parent.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/^✗ orders\s+chunked\s+interrupted \(SIGINT\)/m);
    expect(childPids(cfg, 'orders')).toEqual([]);
  }, 60_000);

  it('the root key parallel_export_processes: true picks the processes mode without a flag', async () => {
    const { cfg } = await cardsConfig(schema);
    await writeFile(cfg, (await readFile(cfg, 'utf8')).replace('exports:\n', 'parallel_export_processes: true\nexports:\n'));
    const r = await runCli(['run', '-c', cfg, '--json'], { env: cardsEnv() });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ parallel_mode: 'parallel-processes', success_count: 3 });
    expect(r.stderr).toMatch(/mode: +parallel-processes/);
  }, 60_000);

  it('both parallel flags at once: exit 2 with a message; -e runs one export sequentially', async () => {
    const { cfg } = await cardsConfig(schema);
    const both = await runCli(['run', '-c', cfg, '--parallel-exports', '--parallel-export-processes'], { env: cardsEnv() });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/choose only one of --parallel-exports and --parallel-export-processes/);

    const one = await runCli(['run', '-c', cfg, '-e', 'customers', '--parallel-export-processes'], { env: cardsEnv() });
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr).toMatch(/── customers ─/);
    expect(one.stderr).not.toMatch(/Run summary/);
  }, 60_000);
});
