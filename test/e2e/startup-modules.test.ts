import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';

/**
 * What the built CLI loads (docs/adr/0005-lazy-command-loading.md). A `--import` preload
 * records every ESM module the loader reads (module hooks) and every CommonJS module in
 * `require.cache`, in the main thread and in worker threads, into a file per test.
 */
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rivet-startup-'));
  const hooks = join(dir, 'hooks.mjs');
  await writeFile(
    hooks,
    "import { appendFileSync } from 'node:fs';\n" +
      'export async function load(url, context, next) {\n' +
      "  if (process.env.TRACE_OUT && url.startsWith('file:')) appendFileSync(process.env.TRACE_OUT, url + '\\n');\n" +
      '  return next(url, context);\n' +
      '}\n',
  );
  await writeFile(
    join(dir, 'trace.mjs'),
    "import { register, createRequire } from 'node:module';\n" +
      "import { appendFileSync } from 'node:fs';\n" +
      `register(${JSON.stringify(pathToFileURL(hooks).href)});\n` +
      'const cache = createRequire(import.meta.url).cache;\n' +
      "process.on('exit', () => appendFileSync(process.env.TRACE_OUT, Object.keys(cache).join('\\n') + '\\n'));\n",
  );
});

/** Run the CLI with the tracer; returns its exit code and the npm packages it loaded. */
async function loadedPackages(args: string[], name: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; packages: Set<string>; output: string }> {
  const out = join(dir, `${name}.trace`);
  await writeFile(out, '');
  const r = await runCli(args, { cwd: dir, env: { ...env, TRACE_OUT: out, NODE_OPTIONS: `--import ${pathToFileURL(join(dir, 'trace.mjs')).href}` } });
  const packages = new Set<string>();
  for (const line of (await readFile(out, 'utf8')).split('\n')) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line);
    if (m) packages.add(m[1]);
  }
  return { code: r.code, packages, output: r.stdout + r.stderr };
}

describe('rivet loads only what a command uses', () => {
  it('--version, --help and a command help load commander and nothing else from node_modules', async () => {
    for (const args of [['--version'], ['--help'], ['run', '--help'], ['state', 'files', '--help']]) {
      const r = await loadedPackages(args, args.join('_'));
      expect(r.code, r.output).toBe(0);
      expect([...r.packages], args.join(' ')).toEqual(['commander']);
    }
  });

  it('a PostgreSQL → local Parquet run loads no cloud SDK, no other engine driver, no DuckDB and no CDK', async () => {
    const schema = await freshSchema('startup');
    await pgExec(`CREATE TABLE ${schema}.t AS SELECT g AS id, md5(g::text) AS s FROM generate_series(1, 100) g`);
    const cfg = join(dir, 'rivet.yaml');
    await writeFile(
      cfg,
      `source:\n  type: postgres\n  url_env: STARTUP_PG\nexports:\n  - name: t\n    table: ${schema}.t\n    format: parquet\n    destination: { type: local, path: ${join(dir, 'out')} }\n`,
    );
    const r = await loadedPackages(['run', '-c', cfg], 'run', { STARTUP_PG: testPgUrl() });
    expect(r.code, r.output).toBe(0);
    expect(r.packages.has('pg')).toBe(true); // the tracer sees the modules a run does need
    const unwanted = [...r.packages].filter((p) => /^@aws-sdk\/|^@smithy\/|^@google-cloud\/|^@azure\/|^mysql2$|^tedious$|^@duckdb\/|^aws-cdk-lib$|^constructs$|^@electric-sql\//.test(p));
    expect(unwanted).toEqual([]);
    // rivet's own encoder writes this schema: the wasm encoder and reader (parquet-wasm compiles a
    // 4.9 MB module when imported) are left unloaded unless a file or `verify: content` needs them.
    expect(r.packages.has('parquet-wasm')).toBe(false);
  });

  it('a state command loads the driver of the state backend in use and not the other one', async () => {
    const cfg = join(dir, 'state-only', 'rivet.yaml');
    await mkdir(dirname(cfg), { recursive: true });
    await writeFile(cfg, `source:\n  type: postgres\n  url_env: STARTUP_PG\nexports:\n  - name: t\n    table: t\n    destination: { type: local, path: ${join(dir, 'out')} }\n`);
    await writeFile(join(dirname(cfg), '.rivet_state.db'), ''); // an empty file is an empty SQLite database

    const sqlite = await loadedPackages(['state', 'show', '-c', cfg], 'state_sqlite');
    expect(sqlite.code, sqlite.output).toBe(0);
    expect(sqlite.packages.has('better-sqlite3')).toBe(true);
    expect(sqlite.packages.has('pg')).toBe(false);

    const url = new URL(testPgUrl());
    url.searchParams.set('schema', `startup_state_${process.pid}`);
    try {
      const postgres = await loadedPackages(['state', 'show', '-c', cfg], 'state_pg', { RIVET_STATE_URL: url.toString() });
      expect(postgres.code, postgres.output).toBe(0);
      expect(postgres.packages.has('pg')).toBe(true);
      expect(postgres.packages.has('better-sqlite3')).toBe(false);
    } finally {
      await pgExec(`DROP SCHEMA IF EXISTS startup_state_${process.pid} CASCADE`);
    }
  });
});
