import { mkdtemp, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { testPgUrl } from '../helpers/pg.js';

/** `rivet metrics`, `rivet journal`, `rivet state files` over the history of three real runs. */
let cfg: string;
let okRuns: string[];
let failedRun: string;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rivet-history-'));
  cfg = join(dir, 'rivet.yaml');
  await writeFile(
    cfg,
    `source:\n  type: postgres\n  url: ${testPgUrl()}\nexports:\n` +
      `  - name: small\n    query: "SELECT g AS id FROM generate_series(1, 120) g"\n    format: csv\n    destination: { type: local, path: "${dir}/small" }\n` +
      // Fails while rows stream (division by zero at row 50): finalize records a failed run.
      `  - name: broken\n    query: "SELECT 1 / (g - 50) AS x FROM generate_series(1, 100) g"\n    format: csv\n    destination: { type: local, path: "${dir}/broken" }\n`,
  );
  okRuns = [];
  for (let i = 0; i < 2; i++) {
    const r = await runCli(['run', '-c', cfg, '-e', 'small', ...(i === 1 ? ['--validate'] : [])]);
    expect(r.code, r.stderr).toBe(0);
    okRuns.push(/run_id:\s+(\S+)/.exec(r.stderr)![1]);
  }
  const b = await runCli(['run', '-c', cfg, '-e', 'broken']);
  expect(b.code).toBe(1);
  failedRun = /run_id:\s+(\S+)/.exec(b.stderr)![1];
});

describe('rivet metrics', () => {
  it('lists runs newest first with the reference columns, errors and flags', async () => {
    const r = await runCli(['metrics', '-c', cfg]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    // docs/reference/state.md widths: EXPORT 20 left, STATUS 10 left, ROWS 10, DURATION 10, RSS 8, FILES 6, BYTES 10 right; one space apart.
    expect(lines[0]).toBe(['EXPORT'.padEnd(20), 'STATUS'.padEnd(10), 'ROWS'.padStart(10), 'DURATION'.padStart(10), 'RSS'.padStart(8), 'FILES'.padStart(6), 'BYTES'.padStart(10), 'RUN ID'].join(' '));
    expect(lines[1]).toBe('-'.repeat(110));
    expect(lines[2]).toMatch(new RegExp(`^broken +failed .* ${failedRun}$`));
    expect(lines[3]).toMatch(/^ {2}Error: .*division by zero/);
    expect(r.stdout).toMatch(new RegExp(`small +success +120 +\\S+ +\\S+ +1 +\\S+ B ${okRuns[1]}\\n  validated=pass  schema=ok\\n`));
    expect(r.stdout).toMatch(new RegExp(`small +success +120 .* ${okRuns[0]}\\n`));
  });

  it('-e filters and --last limits', async () => {
    const r = await runCli(['metrics', '-c', cfg, '-e', 'small', '--last', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(okRuns[1]);
    expect(r.stdout).not.toContain(okRuns[0]);
    expect(r.stdout).not.toContain('broken');
  });

  it('says so when nothing is recorded, without creating a state database', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rivet-history-empty-'));
    const empty = join(dir, 'rivet.yaml');
    await writeFile(empty, 'exports: []\n');
    const r = await runCli(['metrics', '-c', empty]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('No metrics recorded yet.\n');
    expect(existsSync(join(dir, '.rivet_state.db'))).toBe(false);
  });

  it('refuses a bad --last and a missing config', async () => {
    expect((await runCli(['metrics', '-c', cfg, '--last', '0'])).code).toBe(2);
    const r = await runCli(['metrics', '-c', '/nonexistent/rivet.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('config file not found');
  });
});

describe('rivet journal', () => {
  it('shows the latest runs of an export, newest first, with files, rows and verdicts', async () => {
    const r = await runCli(['journal', '-c', cfg, '-e', 'small']);
    expect(r.code, r.stderr).toBe(0);
    const blocks = r.stdout.trim().split('\n\n');
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toMatch(/^✓ small {2}success {2}\d+(ms|\.\ds)\n {2}run_id: /);
    expect(blocks[0]).toContain(`run_id: ${okRuns[1]}`);
    expect(blocks[0]).toMatch(/files: {2}1 {2}rows: 120 {2}size: \d+ B/);
    expect(blocks[0]).toContain('validate: PASSED');
    expect(blocks[1]).toContain(`run_id: ${okRuns[0]}`);
    expect(blocks[1]).not.toContain('validate:');
  });

  it('shows a failed run with its first error line; --run-id picks one run', async () => {
    const r = await runCli(['journal', '-c', cfg, '-e', 'broken', '--run-id', failedRun]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✗ broken {2}failed/);
    expect(r.stdout).toMatch(/ {2}error: {2}.*division by zero/);
  });

  it('--last limits; unknown run id and unknown export say so and exit 0', async () => {
    expect((await runCli(['journal', '-c', cfg, '-e', 'small', '-l', '1'])).stdout.trim().split('\n\n')).toHaveLength(1);
    const unknownRun = await runCli(['journal', '-c', cfg, '-e', 'small', '--run-id', 'nope']);
    expect(unknownRun.code).toBe(0);
    expect(unknownRun.stdout).toBe("Run 'nope' has no journal.\n");
    const unknownExport = await runCli(['journal', '-c', cfg, '-e', 'other']);
    expect(unknownExport.code).toBe(0);
    expect(unknownExport.stdout).toContain("Export 'other' has no journal yet.");
  });

  it('needs -e', async () => {
    expect((await runCli(['journal', '-c', cfg])).code).toBe(2);
  });
});

describe('rivet state files', () => {
  it('lists the files written, newest first', async () => {
    const r = await runCli(['state', 'files', '-c', cfg]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    // docs/reference/state.md widths: RUN ID 35 left, FILE 40 left, ROWS 8, BYTES 10 right.
    expect(lines[0]).toBe(['RUN ID'.padEnd(35), 'FILE'.padEnd(40), 'ROWS'.padStart(8), 'BYTES'.padStart(10), 'CREATED'].join(' '));
    expect(lines[1]).toBe('-'.repeat(110));
    expect(lines[2]).toMatch(new RegExp(`^${okRuns[1]} +part-000002\\.csv +120 +\\d+ B \\d{4}-\\d{2}-\\d{2}T`));
    expect(lines[3]).toMatch(new RegExp(`^${okRuns[0]} +part-000001\\.csv +120 `));
  });

  it('-e filters, --last limits, nothing recorded says so', async () => {
    const r = await runCli(['state', 'files', '-c', cfg, '-e', 'small', '--last', '1']);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(3);
    const none = await runCli(['state', 'files', '-c', cfg, '-e', 'other']);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe("No files recorded yet for export 'other'.\n");
  });
});
