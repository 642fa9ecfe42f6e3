import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { testPgUrl } from '../helpers/pg.js';

async function config(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rivet-err-'));
  const path = join(dir, 'rivet.yaml');
  await writeFile(path, text);
  return path;
}

/** A loopback port with nothing listening. */
async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const exportBlock = (extra = '') =>
  `exports:\n  - name: orders\n    query: SELECT 1 AS x\n    format: parquet\n    destination: { type: local, path: /tmp/rivet-err-out }\n${extra}`;

/** One clear error line (plus an optional hint line), no stack trace. */
function expectCleanError(stderr: string, pattern: RegExp) {
  const lines = stderr.trim().split('\n').filter((l) => !/^\s*hint:/.test(l) && !/^\[.* WARN /.test(l));
  expect(lines.length, stderr).toBe(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('bad input ends in one clear line and the documented exit code', () => {
  it('malformed YAML → 2', async () => {
    const cfg = await config('source:\n  type: postgres\n  url: "x\nexports: [\n');
    const r = await runCli(['run', '-c', cfg]);
    expect(r.code).toBe(2);
    expectCleanError(r.stderr, /rivet\.yaml/);
  });

  it('unknown key → 2 with a did-you-mean', async () => {
    const cfg = await config(`source:\n  type: postgres\n  url: ${testPgUrl()}\n${exportBlock('    compresion: zstd\n')}`);
    const r = await runCli(['run', '-c', cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/compresion/);
    expect(r.stderr).toMatch(/compression/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('missing environment variable → 2, naming it', async () => {
    const cfg = await config(`source:\n  type: postgres\n  url: \${RIVET_TEST_SURELY_UNSET_VAR}\n${exportBlock()}`);
    const r = await runCli(['run', '-c', cfg]);
    expect(r.code).toBe(2);
    expectCleanError(r.stderr, /RIVET_TEST_SURELY_UNSET_VAR/);
  });

  it('missing config file → 2', async () => {
    const r = await runCli(['run', '-c', '/tmp/definitely/not/here/rivet.yaml']);
    expect(r.code).toBe(2);
    expectCleanError(r.stderr, /not\/here\/rivet\.yaml/);
  });

  it('unreachable database → 1, without the password', async () => {
    const port = await deadPort();
    const cfg = await config(`source:\n  type: postgres\n  url: postgresql://rivet:topsecret@127.0.0.1:${port}/db\n${exportBlock()}`);
    const r = await runCli(['run', '-c', cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/connect/i);
    expect(r.stderr).toMatch(String(port));
    expect(r.stderr).not.toContain('topsecret');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('missing table → 1, naming the table', async () => {
    const cfg = await config(
      `source:\n  type: postgres\n  url: ${testPgUrl()}\nexports:\n  - name: ghost\n    table: public.no_such_table_here\n    format: csv\n    destination: { type: local, path: /tmp/rivet-err-out }\n`,
    );
    const r = await runCli(['run', '-c', cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no_such_table_here/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--json-errors prints {"error": …} in any position', async () => {
    const r = await runCli(['run', '--json-errors', '-c', '/tmp/definitely/not/here/rivet.yaml']);
    expect(r.code).toBe(2);
    const parsed = JSON.parse(r.stderr.trim().split('\n').pop()!);
    expect(parsed.error).toMatch(/not\/here/);
  });

  it('usage errors → 2; --version and --help → 0', async () => {
    expect((await runCli(['run'])).code).toBe(2);
    expect((await runCli(['run', '-c', 'x', '--no-such-flag'])).code).toBe(2);
    expect((await runCli(['frobnicate'])).code).toBe(2);
    const v = await runCli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^rivet \d+\.\d+\.\d+/);
    const h = await runCli(['run', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/--config/);
  });

  it('no key of the 0.9.4 grammar is refused as not built: verify: content runs (it used to exit 2 "not supported yet")', async () => {
    const out = await mkdtemp(join(tmpdir(), 'rivet-err-verify-'));
    const cfg = await config(
      `source:\n  type: postgres\n  url: ${testPgUrl()}\nexports:\n  - name: orders\n    query: SELECT 1 AS x\n    format: parquet\n    verify: content\n    destination: { type: local, path: ${out} }\n`,
    );
    const r = await runCli(['run', '-c', cfg]);
    expect(r.stderr).not.toMatch(/not supported yet/);
    expect(r.code).toBe(0);
  });
});
