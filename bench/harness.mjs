#!/usr/bin/env node
// The extraction benchmark (issues 6 and 18): rivet against the physical limit of each source
// (PostgreSQL's COPY, `mariadb --batch --quick`), a peer pipeline (psql CSV → DuckDB Parquet)
// and the reference Rivet 0.9.4, on generated tables.
//
//   npm run bench                      # full scale: PostgreSQL narrow 5M, wide 300k, content_items 300k;
//                                      #   MariaDB my_narrow 2M, my_wide 100k
//   npm run bench -- --scale small     # a quick smoke run (minutes, numbers not meaningful)
//   npm run bench -- --datasets my_narrow --only 'zstd' --runs 3
//   RIVET_BENCH_ROWS=my_narrow=500000,narrow=1000000 npm run bench   # other table sizes
//   RIVET_REF_BIN=/path/to/rivet npm run bench                         # the reference's binary
//
// Every scenario runs as a whole process under /usr/bin/time (wall, user+sys CPU, peak RSS):
// one warm-up, then the median of --runs (default 3). While it runs, a sampler polls the
// server (pg_stat_activity, or MariaDB's PROCESSLIST) for the longest running statement and
// the number of client connections. Figures are reported as ratios to the source's limit
// measured in the same invocation: `COPY … TO STDOUT (FORMAT binary)` into /dev/null on
// PostgreSQL, `mariadb --batch --quick` into /dev/null on MariaDB. The output of rivet and of
// the reference is read back with DuckDB (row count and one column's sum, against the
// source's). Results are appended to bench/results/bench-<scale>.md.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync, existsSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir, cpus, totalmem, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { DuckDBInstance } from '@duckdb/node-api';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = parseArgs(process.argv.slice(2));
const pgUrl = process.env.RIVET_BENCH_PG_URL ?? `postgresql://rivet:rivet@127.0.0.1:${process.env.RIVET_TEST_PG_PORT ?? 54329}/rivet_test`;
const myUrl = process.env.RIVET_BENCH_MYSQL_URL ?? `mysql://rivet:rivet@127.0.0.1:${process.env.RIVET_TEST_MYSQL_PORT ?? 54330}/bench`;
const refBin = process.env.RIVET_REF_BIN ?? '/opt/rivet-ref/bin/rivet';
// Every dataset: its engine, generator, row counts per scale and the column whose sum is checked on read-back.
const DATASETS = {
  narrow: { engine: 'pg', file: 'narrow.sql', rows: { full: 5_000_000, small: 200_000 }, sum: 'account_id' },
  wide: { engine: 'pg', file: 'wide.sql', rows: { full: 300_000, small: 10_000 }, sum: 'tenant_id' },
  content_items: { engine: 'pg', file: 'content-items.sql', rows: { full: 300_000, small: 10_000 }, sum: 'site_id' },
  my_narrow: { engine: 'mysql', file: 'mysql-narrow.sql', rows: { full: 2_000_000, small: 100_000 }, sum: 'account_id' },
  my_wide: { engine: 'mysql', file: 'mysql-wide.sql', rows: { full: 100_000, small: 5_000 }, sum: 'tenant_id' },
};
if (!['full', 'small'].includes(args.scale)) usage(`unknown --scale ${args.scale} (full or small)`);
const rowsOverride = Object.fromEntries(
  (process.env.RIVET_BENCH_ROWS ?? '')
    .split(',')
    .filter(Boolean)
    .map((kv) => kv.split('='))
    .map(([k, v]) => (k in DATASETS && Number(v) > 0 ? [k, Number(v)] : usage(`RIVET_BENCH_ROWS: bad entry ${k}=${v}`))),
);

const work = mkdtempSync(join(tmpdir(), 'rivet-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

function usage(msg) {
  console.error(`bench: ${msg}\nusage: node bench/harness.mjs [--scale full|small] [--runs N] [--only REGEX] [--datasets ${Object.keys(DATASETS).join(',')}]`);
  process.exit(2);
}

function parseArgs(argv) {
  const out = { scale: 'full', runs: 3, only: null, datasets: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i] ?? usage(`${a} needs a value`);
    if (a === '--scale') out.scale = v();
    else if (a === '--runs') out.runs = Math.max(1, Number(v()));
    else if (a === '--only') out.only = new RegExp(v());
    else if (a === '--datasets') out.datasets = v().split(',');
    else usage(`unknown argument ${a}`);
  }
  return out;
}

// ---------------------------------------------------------------- datasets

/** Connection options for mysql2 and the `mariadb` client from the bench URL. */
function myConn() {
  const u = new URL(myUrl);
  return { host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: u.pathname.slice(1) || undefined };
}

function mariadbArgs() {
  const c = myConn();
  return ['-h', c.host, '-P', String(c.port), '-u', c.user, ...(c.database ? [c.database] : [])];
}

/** The source's own row count and sum of one column, for the read-back check. */
async function sourceTruth(engine, table, column) {
  if (engine === 'pg') {
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT COUNT(*)::text AS n, SUM(${column})::text AS s FROM ${table}`);
      return { rows: BigInt(rows[0].n), sum: BigInt(rows[0].s) };
    } finally {
      await client.end();
    }
  }
  const conn = await mysql.createConnection({ ...myConn(), supportBigNumbers: true, bigNumberStrings: true });
  try {
    const [rows] = await conn.query(`SELECT COUNT(*) AS n, SUM(${column}) AS s FROM ${table}`);
    return { rows: BigInt(rows[0].n), sum: BigInt(rows[0].s) };
  } finally {
    await conn.end();
  }
}

async function ensureDataset(name, rows) {
  const spec = DATASETS[name];
  const base = name.replace(/^my_/, '');
  const table = `bench.${spec.engine === 'mysql' ? 'my_' : ''}${base}_${rows}`;
  const file = join(root, 'bench', 'datasets', spec.file);
  let bytes;
  if (spec.engine === 'pg') {
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      const { rows: found } = await client.query(`SELECT 1 FROM pg_tables WHERE schemaname = 'bench' AND tablename = $1`, [table.slice(6)]);
      if (found.length === 0) {
        console.error(`bench: generating ${table} (${rows} rows)…`);
        execFileSync('psql', [pgUrl, '-q', '--single-transaction', '-v', 'ON_ERROR_STOP=1', '-c', 'SET client_min_messages = warning', '-v', `rows=${rows}`, '-v', `tbl=${table}`, '-f', file], { stdio: ['ignore', 'ignore', 'inherit'] });
      }
      const { rows: size } = await client.query(`SELECT pg_total_relation_size($1::regclass) AS b`, [table]);
      bytes = Number(size[0].b);
    } finally {
      await client.end();
    }
  } else {
    const conn = await mysql.createConnection({ ...myConn(), database: undefined });
    try {
      const [found] = await conn.query(`SELECT DATA_LENGTH + INDEX_LENGTH AS b FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'bench' AND TABLE_NAME = ?`, [table.slice(6)]);
      if (found.length === 0) {
        console.error(`bench: generating ${table} (${rows} rows)…`);
        const sql = readFileSync(file, 'utf8').replaceAll('{tbl}', table).replaceAll('{rows}', String(rows));
        execFileSync('mariadb', [...mariadbArgs().filter((a) => a !== myConn().database)], { input: sql, env: { ...process.env, MYSQL_PWD: myConn().password }, stdio: ['pipe', 'ignore', 'inherit'] });
      }
      const [size] = await conn.query(`SELECT DATA_LENGTH + INDEX_LENGTH AS b FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'bench' AND TABLE_NAME = ?`, [table.slice(6)]);
      bytes = Number(size[0]?.b ?? 0);
    } finally {
      await conn.end();
    }
  }
  return { name, engine: spec.engine, rows, table, bytes, sumColumn: spec.sum, truth: await sourceTruth(spec.engine, table, spec.sum) };
}

// ---------------------------------------------------------------- scenarios

/**
 * The same config for rivet and the reference (rivet reads the reference's grammar). Both use
 * the `fast` profile (what `environment: local` selects): no pause between batches. The
 * default `balanced` profile sleeps 50 ms per 10,000-row batch to spare a production source,
 * which would measure the sleep, not the tool.
 */
function exportConfig(ds, { format = 'parquet', compression, parallel = 0 }) {
  const lines = [
    'source:',
    `  type: ${ds.engine === 'pg' ? 'postgres' : 'mysql'}`,
    `  url: ${ds.engine === 'pg' ? pgUrl : myUrl}`,
    '  tuning: { profile: fast }',
    'exports:',
    `  - name: ${ds.name}`,
    `    query: SELECT * FROM ${ds.table}`,
    `    format: ${format}`,
  ];
  if (compression) lines.push(`    compression: ${compression}`);
  if (parallel) {
    lines.push('    mode: chunked', '    chunk_column: id', `    chunk_size: ${Math.ceil(ds.rows / 8)}`, `    parallel: ${parallel}`);
  }
  lines.push('    destination:', '      type: local', `      path: ${join(work, 'out')}`);
  return lines.join('\n') + '\n';
}

/** The reference's version, or null when its binary is not there. */
function referenceVersion() {
  if (!existsSync(refBin)) return null;
  try {
    return execFileSync(refBin, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

function scenarios(ds, refAvailable) {
  const rivet = (label, opts, env = {}) => ({
    id: `${ds.name}/rivet-${label}`,
    what: `rivet run, ${label}`,
    config: exportConfig(ds, opts),
    env,
    check: true,
    steps: [{ cmd: process.execPath, args: [join(root, 'dist/cli/main.js'), 'run', '-c', '{config}'] }],
  });
  const ref = (label, opts) => ({
    id: `${ds.name}/ref-${label}`,
    what: `Rivet 0.9.4 run, ${label}`,
    config: exportConfig(ds, opts),
    check: true,
    skip: refAvailable ? null : `the reference Rivet 0.9.4 is not installed at ${refBin} (cargo install rivet-cli --version 0.9.4 --locked --root /opt/rivet-ref, or set RIVET_REF_BIN)`,
    steps: [{ cmd: refBin, args: ['run', '-c', '{config}'] }],
  });
  // chunked: 8 chunks on id, one task at a time against two and four.
  const chunked = [1, 2, 4].map((p) => rivet(`chunked-p${p}-zstd`, { compression: 'zstd', parallel: p }));
  if (ds.engine === 'mysql') {
    return [
      {
        id: `${ds.name}/mariadb-batch`,
        baseline: true,
        what: '`mariadb --batch --quick -e "SELECT * FROM t"` → /dev/null',
        steps: [{ cmd: 'sh', args: ['-c', `mariadb ${mariadbArgs().join(' ')} --batch --quick -e "SELECT * FROM ${ds.table}" > /dev/null`] }],
        env: { MYSQL_PWD: myConn().password },
      },
      rivet('parquet-zstd', { compression: 'zstd' }),
      // mysql2 splitting each row into one Buffer per value before rivet decodes them (the earlier path).
      rivet('parquet-zstd-driver', { compression: 'zstd' }, { RIVET_MYSQL_ROW_DECODE: 'driver' }),
      rivet('parquet-snappy', { compression: 'snappy' }),
      rivet('csv', { format: 'csv' }),
      ...chunked,
      ref('parquet-zstd', { compression: 'zstd' }),
      ref('parquet-snappy', { compression: 'snappy' }),
      ref('csv', { format: 'csv' }),
    ];
  }
  const copy = (fmt) => ({
    id: `${ds.name}/copy-${fmt}`,
    baseline: fmt === 'binary',
    what: `COPY … TO STDOUT (FORMAT ${fmt}) → /dev/null (psql)`,
    steps: [{ cmd: 'sh', args: ['-c', `psql "$BENCH_PG_URL" -qAt -c "COPY (SELECT * FROM ${ds.table}) TO STDOUT (FORMAT ${fmt})" > /dev/null`] }],
  });
  return [
    copy('binary'),
    copy('text'),
    {
      id: `${ds.name}/psql-csv+duckdb`,
      what: 'psql COPY CSV to a file, then DuckDB → Parquet zstd',
      steps: [
        { cmd: 'sh', args: ['-c', `psql "$BENCH_PG_URL" -qAt -c "COPY (SELECT * FROM ${ds.table}) TO STDOUT (FORMAT csv, HEADER)" > "${join(work, 'peer.csv')}"`] },
        { cmd: process.execPath, args: [join(root, 'bench', 'duckdb-csv-to-parquet.mjs'), join(work, 'peer.csv'), join(work, 'peer.parquet')] },
      ],
    },
    // The default read method under the `fast` profile is binary COPY; the cursor and the
    // wasm encoder rows are the A/B references.
    rivet('parquet-zstd', { compression: 'zstd' }),
    rivet('parquet-zstd-cursor', { compression: 'zstd' }, { RIVET_PG_READ_METHOD: 'cursor' }),
    rivet('parquet-zstd-wasm', { compression: 'zstd' }, { RIVET_PARQUET_ENCODER: 'wasm' }),
    rivet('parquet-snappy', { compression: 'snappy' }),
    rivet('csv', { format: 'csv' }),
    // The same export rendered from Arrow batches (the path taken when the server's text cannot be used, ADR 0009).
    rivet('csv-arrow', { format: 'csv' }, { RIVET_CSV_RENDER: 'arrow' }),
    ...chunked,
    ref('parquet-zstd', { compression: 'zstd' }),
    ref('parquet-snappy', { compression: 'snappy' }),
    ref('csv', { format: 'csv' }),
  ];
}

// ---------------------------------------------------------------- measuring

/** Polls the server: the longest-running statement seen and the most client connections at once. */
function startSampler(engine) {
  const seen = { longestMs: 0, maxBackends: 0 };
  let stop = false;
  let sample;
  let close;
  const ready = (async () => {
    if (engine === 'pg') {
      const client = new pg.Client({ connectionString: pgUrl, application_name: 'rivet-bench-sampler' });
      await client.connect();
      close = () => client.end();
      sample = async () =>
        (
          await client.query(
            `SELECT count(*)::int AS backends,
                    coalesce(max(extract(epoch FROM clock_timestamp() - query_start) * 1000) FILTER (WHERE state = 'active'), 0)::float8 AS longest
               FROM pg_stat_activity
              WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND datname = current_database()`,
          )
        ).rows[0];
    } else {
      // Other sessions use this server too: count only connections to the bench database.
      const conn = await mysql.createConnection(myConn());
      close = () => conn.end();
      sample = async () =>
        (
          await conn.query(
            `SELECT COUNT(*) AS backends, COALESCE(MAX(CASE WHEN COMMAND IN ('Query', 'Execute') THEN TIME_MS END), 0) AS longest
               FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()`,
          )
        )[0][0];
    }
  })();
  const done = (async () => {
    await ready;
    while (!stop) {
      const r = await sample();
      seen.maxBackends = Math.max(seen.maxBackends, Number(r.backends));
      seen.longestMs = Math.max(seen.longestMs, Number(r.longest));
      await new Promise((res) => setTimeout(res, 100));
    }
    await close();
  })();
  return async () => {
    stop = true;
    await done;
    return seen;
  };
}

function timed(step, env) {
  return new Promise((resolve, reject) => {
    const out = join(work, 'time.txt');
    const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', out, step.cmd, ...step.args], {
      env: { ...process.env, BENCH_PG_URL: pgUrl, ...env },
      cwd: work,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${step.cmd} exited ${code}: ${stderr.slice(-2000)}`));
      const [wall, user, sys, rssKb] = readFileSync(out, 'utf8').trim().split('\n').pop().split(' ').map(Number);
      resolve({ wall, cpu: user + sys, rssMb: rssKb / 1024 });
    });
  });
}

async function runOnce(ds, s) {
  rmSync(join(work, 'out'), { recursive: true, force: true });
  rmSync(join(work, 'state'), { recursive: true, force: true });
  // The reference keeps its state beside the config.
  rmSync(join(work, '.rivet_state.db'), { force: true });
  const cfg = join(work, 'rivet.yaml');
  if (s.config) writeFileSync(cfg, s.config);
  const stopSampler = startSampler(ds.engine);
  const total = { wall: 0, cpu: 0, rssMb: 0 };
  try {
    for (const step of s.steps) {
      const r = await timed({ ...step, args: step.args.map((a) => a.replace('{config}', cfg)) }, { RIVET_STATE_PATH: join(work, 'state', 'rivet.db'), ...s.env });
      total.wall += r.wall;
      total.cpu += r.cpu;
      total.rssMb = Math.max(total.rssMb, r.rssMb);
    }
  } finally {
    Object.assign(total, await stopSampler());
  }
  total.outBytes = dataFiles(join(work, 'out')).reduce((n, f) => n + statSync(f).size, 0) || (existsSync(join(work, 'peer.parquet')) ? statSync(join(work, 'peer.parquet')).size : 0);
  rmSync(join(work, 'peer.csv'), { force: true });
  rmSync(join(work, 'peer.parquet'), { force: true });
  return total;
}

/** The Parquet and CSV files an export wrote (rivet's parts, the reference's files), not manifests or state. */
function dataFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const at = join(e.parentPath ?? e.path, e.name);
    if (e.isFile() && /\.(parquet|csv)$/.test(e.name) && !at.includes('/_rivet/')) out.push(at);
  }
  return out;
}

/**
 * Reads what the last run wrote back with DuckDB: row count and the sum of one column must be
 * the source's. '✓', or what differs.
 */
async function readBack(ds) {
  const files = dataFiles(join(work, 'out'));
  if (files.length === 0) return '✗ no output files';
  const list = `[${files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ')}]`;
  const from = files[0].endsWith('.parquet') ? `read_parquet(${list})` : `read_csv(${list}, header = true)`;
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const reader = await conn.runAndReadAll(`SELECT COUNT(*)::VARCHAR AS n, SUM(${ds.sumColumn})::VARCHAR AS s FROM ${from}`);
    const [n, sum] = reader.getRows()[0];
    const bad = [];
    if (BigInt(n) !== ds.truth.rows) bad.push(`rows ${n} ≠ ${ds.truth.rows}`);
    if (BigInt(sum ?? -1) !== ds.truth.sum) bad.push(`sum(${ds.sumColumn}) ${sum} ≠ ${ds.truth.sum}`);
    return bad.length ? `✗ ${bad.join(', ')}` : '✓';
  } catch (e) {
    return `✗ ${e.message.split('\n')[0].slice(0, 80)}`;
  } finally {
    conn.closeSync?.();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ---------------------------------------------------------------- main

function version(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n')[0];
  } catch {
    return '?';
  }
}

function machine(engines, refVersion) {
  const cpu = cpus();
  const commit = version('git', ['-C', root, 'rev-parse', '--short', 'HEAD']);
  const pkg = (name) => JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
  const servers = [];
  if (engines.has('pg')) servers.push(`PostgreSQL ${version('psql', [pgUrl, '-qAt', '-c', 'SHOW server_version'])}`);
  if (engines.has('mysql')) {
    const c = myConn();
    servers.push(`MariaDB ${version('mariadb', [...mariadbArgs(), `--password=${c.password}`, '-N', '-e', 'SELECT VERSION()'])} (client: ${version('mariadb', ['--version'])})`);
  }
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  return (
    `${cpu.length} × ${cpu[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, load average at the end ${load}; Node ${process.version}; ${servers.join(', ')} on the same machine; ` +
    `reference: ${refVersion ?? 'not installed'}; parquet-wasm ${pkg('parquet-wasm')}, zstd-napi ${pkg('zstd-napi')}, snappy ${pkg('snappy')}, apache-arrow ${pkg('apache-arrow')}, mysql2 ${pkg('mysql2')}, @duckdb/node-api ${pkg('@duckdb/node-api')}; rivet commit ${commit}`
  );
}

/** One line per dataset: the chunked speed-ups over one task, and rivet against the reference. */
function summary(results) {
  const by = new Map(results.map((r) => [r.id, r]));
  const lines = [];
  for (const ds of new Set(results.map((r) => r.id.split('/')[0]))) {
    const w = (k) => by.get(`${ds}/${k}`)?.wall;
    const parts = [];
    const p1 = w('rivet-chunked-p1-zstd');
    for (const p of [2, 4]) if (p1 && w(`rivet-chunked-p${p}-zstd`)) parts.push(`chunked parallel ${p}: ${(p1 / w(`rivet-chunked-p${p}-zstd`)).toFixed(2)}× the speed of parallel 1`);
    for (const f of ['parquet-zstd', 'parquet-snappy', 'csv']) {
      if (w(`rivet-${f}`) && w(`ref-${f}`)) parts.push(`${f}: reference / rivet wall ${(w(`ref-${f}`) / w(`rivet-${f}`)).toFixed(2)}×`);
    }
    if (parts.length) lines.push(`- ${ds}: ${parts.join('; ')}`);
  }
  return lines;
}

async function main() {
  execFileSync('bash', [join(root, 'test/services/up.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (!existsSync(join(root, 'dist/cli/main.js'))) execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  const names = args.datasets ?? Object.keys(DATASETS);
  const datasets = [];
  for (const n of names) {
    if (!(n in DATASETS)) usage(`unknown dataset ${n}`);
    datasets.push(await ensureDataset(n, rowsOverride[n] ?? DATASETS[n].rows[args.scale]));
  }
  const refVersion = referenceVersion();
  if (!refVersion) console.error(`bench: the reference Rivet 0.9.4 is not installed at ${refBin}: its scenarios are skipped (cargo install rivet-cli --version 0.9.4 --locked --root /opt/rivet-ref, or set RIVET_REF_BIN)`);

  const results = [];
  for (const ds of datasets) {
    let baseline = null;
    for (const s of scenarios(ds, Boolean(refVersion))) {
      if (args.only && !args.only.test(s.id) && !s.baseline) continue;
      if (s.skip) continue;
      console.error(`bench: ${s.id} — warm-up + ${args.runs} run(s)`);
      await runOnce(ds, s);
      const runs = [];
      for (let i = 0; i < args.runs; i++) runs.push(await runOnce(ds, s));
      const r = {
        id: s.id,
        what: s.what,
        rows: ds.rows,
        wall: median(runs.map((x) => x.wall)),
        cpu: median(runs.map((x) => x.cpu)),
        rssMb: Math.max(...runs.map((x) => x.rssMb)),
        longestMs: Math.max(...runs.map((x) => x.longestMs)),
        maxBackends: Math.max(...runs.map((x) => x.maxBackends)),
        outMb: runs[0].outBytes / 2 ** 20,
        walls: runs.map((x) => x.wall),
        check: s.check ? await readBack(ds) : '—',
      };
      if (s.baseline) baseline = { wall: r.wall, name: s.id.split('/')[1] };
      r.ratio = baseline ? r.wall / baseline.wall : NaN;
      r.limit = baseline?.name ?? '?';
      results.push(r);
      console.error(`bench:   wall ${r.wall.toFixed(2)} s (${r.walls.join(', ')}), cpu ${r.cpu.toFixed(1)} s, rss ${r.rssMb.toFixed(0)} MB, ×${r.ratio.toFixed(2)} ${r.limit}, read back ${r.check}`);
    }
  }

  const file = join(root, 'bench', 'results', `bench-${args.scale}.md`);
  if (!existsSync(file)) {
    writeFileSync(
      file,
      `# rivet vs the source's limit, a peer pipeline and the reference (${args.scale} scale)\n\n` +
        'Produced by `npm run bench' + (args.scale === 'full' ? '' : ` -- --scale ${args.scale}`) + '` (bench/harness.mjs). Each row: one warm-up, then the\n' +
        'median wall and CPU (user+sys) of the runs, the highest peak RSS, the longest single statement\n' +
        'and the most client connections seen on the server (sampled every 100 ms), the size of the\n' +
        'data written, the wall time as a multiple of the source\'s limit measured in the same invocation\n' +
        '(`COPY … (FORMAT binary)` → /dev/null on PostgreSQL, `mariadb --batch --quick` → /dev/null on MariaDB)\n' +
        'and the read-back check (DuckDB: row count and one column\'s sum equal the source\'s). Datasets:\n' +
        'bench/datasets/*.sql. rivet and the reference (`ref-`) run with `tuning: {profile: fast}`.\n',
    );
  }
  const engines = new Set(datasets.map((d) => d.engine));
  const lines = [
    '',
    `## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Machine: ${machine(engines, refVersion)}. Runs per scenario: ${args.runs} (+1 warm-up).`,
    '',
    '| scenario | rows | wall (median) | × source limit | CPU user+sys | peak RSS | longest query | connections | output | read back |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.id} | ${r.rows.toLocaleString('en-US')} | ${r.wall.toFixed(2)} s | ${r.ratio.toFixed(2)}× ${r.limit} | ${r.cpu.toFixed(1)} s | ${r.rssMb.toFixed(0)} MB | ${(r.longestMs / 1000).toFixed(1)} s | ${r.maxBackends} | ${r.outMb.toFixed(0)} MiB | ${r.check} |`,
    ),
    '',
    ...summary(results),
    ...(refVersion ? [] : [`- the reference was not installed at ${refBin}: its scenarios were skipped`]),
    '',
  ];
  appendFileSync(file, lines.join('\n'));
  console.log(lines.join('\n'));
  console.error(`bench: appended to ${file}`);
}

main().catch((err) => {
  console.error(`bench: ${err.message}`);
  process.exit(1);
});
