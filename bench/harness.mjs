#!/usr/bin/env node
// The extraction benchmark (issue 6): rivet against the physical limit (the source's own
// COPY) and a peer pipeline (psql CSV → DuckDB Parquet), on generated tables.
//
//   npm run bench                      # full scale: narrow 5M, wide 300k, content_items 300k
//   npm run bench -- --scale small     # a quick smoke run (minutes, numbers not meaningful)
//   npm run bench -- --only 'narrow' --runs 3
//
// Every scenario runs as a whole process under /usr/bin/time (wall, user+sys CPU, peak RSS):
// one warm-up, then the median of --runs (default 3). While it runs, a sampler polls
// pg_stat_activity for the longest running statement and the number of client backends.
// Figures are reported as ratios to `COPY … TO STDOUT (FORMAT binary)` into /dev/null
// measured in the same invocation. Results are appended to bench/results/bench-<scale>.md.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync, existsSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = parseArgs(process.argv.slice(2));
const pgUrl = process.env.RIVET_BENCH_PG_URL ?? `postgresql://rivet:rivet@127.0.0.1:${process.env.RIVET_TEST_PG_PORT ?? 54329}/rivet_test`;
const scales = {
  full: { narrow: 5_000_000, wide: 300_000, content_items: 300_000 },
  small: { narrow: 200_000, wide: 10_000, content_items: 10_000 },
};
const rowsOf = scales[args.scale];
if (!rowsOf) usage(`unknown --scale ${args.scale} (full or small)`);

const work = mkdtempSync(join(tmpdir(), 'rivet-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

function usage(msg) {
  console.error(`bench: ${msg}\nusage: node bench/harness.mjs [--scale full|small] [--runs N] [--only REGEX] [--datasets narrow,wide,content_items]`);
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

async function ensureDataset(client, name, rows) {
  const table = `${name}_${rows}`;
  const { rows: found } = await client.query(`SELECT 1 FROM pg_tables WHERE schemaname = 'bench' AND tablename = $1`, [table]);
  if (found.length === 0) {
    const file = join(root, 'bench', 'datasets', `${name.replace('_', '-')}.sql`);
    console.error(`bench: generating bench.${table} (${rows} rows)…`);
    execFileSync('psql', [pgUrl, '-q', '--single-transaction', '-v', 'ON_ERROR_STOP=1', '-c', 'SET client_min_messages = warning', '-v', `rows=${rows}`, '-v', `tbl=bench.${table}`, '-f', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const { rows: size } = await client.query(`SELECT pg_total_relation_size($1::regclass) AS b`, [`bench.${table}`]);
  return { name, rows, table: `bench.${table}`, bytes: Number(size[0].b) };
}

// ---------------------------------------------------------------- scenarios

function rivetConfig(ds, { format = 'parquet', compression, chunked = false }) {
  const lines = [
    'source:',
    '  type: postgres',
    `  url: ${pgUrl}`,
    // The `fast` profile (what `environment: local` selects): no pause between batches. The
    // default `balanced` profile sleeps 50 ms per 10,000-row batch to spare a production
    // source, which would measure the sleep, not the tool.
    '  tuning: { profile: fast }',
    'exports:',
    `  - name: ${ds.name}`,
    `    table: ${ds.table}`,
    `    format: ${format}`,
  ];
  if (compression) lines.push(`    compression: ${compression}`);
  if (chunked) {
    lines.push('    mode: chunked', '    chunk_column: id', `    chunk_size: ${Math.ceil(ds.rows / 8)}`, '    parallel: 2');
  }
  lines.push('    destination:', '      type: local', `      path: ${join(work, 'out')}`);
  return lines.join('\n') + '\n';
}

function scenarios(ds) {
  const copy = (fmt) => ({
    id: `${ds.name}/copy-${fmt}`,
    what: `COPY … TO STDOUT (FORMAT ${fmt}) → /dev/null (psql)`,
    steps: [{ cmd: 'sh', args: ['-c', `psql "$BENCH_PG_URL" -qAt -c "COPY (SELECT * FROM ${ds.table}) TO STDOUT (FORMAT ${fmt})" > /dev/null`] }],
  });
  const rivet = (label, opts, env = {}) => ({
    id: `${ds.name}/rivet-${label}`,
    what: `rivet run, ${label}`,
    config: rivetConfig(ds, opts),
    env,
    steps: [{ cmd: process.execPath, args: [join(root, 'dist/cli/main.js'), 'run', '-c', '{config}'] }],
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
    rivet('chunked-p2-zstd', { compression: 'zstd', chunked: true }),
  ];
}

// ---------------------------------------------------------------- measuring

/** Polls pg_stat_activity: the longest-running statement seen and the most client backends at once. */
function startSampler() {
  const client = new pg.Client({ connectionString: pgUrl, application_name: 'rivet-bench-sampler' });
  const seen = { longestMs: 0, maxBackends: 0 };
  let stop = false;
  const done = (async () => {
    await client.connect();
    while (!stop) {
      const { rows } = await client.query(
        `SELECT count(*)::int AS backends,
                coalesce(max(extract(epoch FROM clock_timestamp() - query_start) * 1000) FILTER (WHERE state = 'active'), 0)::float8 AS longest
           FROM pg_stat_activity
          WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND datname = current_database()`,
      );
      seen.maxBackends = Math.max(seen.maxBackends, rows[0].backends);
      seen.longestMs = Math.max(seen.longestMs, rows[0].longest);
      await new Promise((r) => setTimeout(r, 100));
    }
    await client.end();
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

async function runOnce(s) {
  rmSync(join(work, 'out'), { recursive: true, force: true });
  rmSync(join(work, 'state'), { recursive: true, force: true });
  const cfg = join(work, 'rivet.yaml');
  if (s.config) writeFileSync(cfg, s.config);
  const stopSampler = startSampler();
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
  total.outBytes = outputBytes(join(work, 'out')) || (existsSync(join(work, 'peer.parquet')) ? statSync(join(work, 'peer.parquet')).size : 0);
  rmSync(join(work, 'peer.csv'), { force: true });
  rmSync(join(work, 'peer.parquet'), { force: true });
  return total;
}

function outputBytes(dir) {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && /^part-\d+\./.test(e.name)) n += statSync(join(e.parentPath ?? e.path, e.name)).size;
  }
  return n;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ---------------------------------------------------------------- main

function machine() {
  const cpu = cpus();
  let pgv = '';
  try {
    pgv = execFileSync('psql', [pgUrl, '-qAt', '-c', 'SHOW server_version'], { encoding: 'utf8' }).trim();
  } catch {
    pgv = '?';
  }
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    } catch {
      return '?';
    }
  })();
  const pkg = (name) => JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
  return `${cpu.length} × ${cpu[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; PostgreSQL ${pgv} on the same machine; parquet-wasm ${pkg('parquet-wasm')}, zstd-napi ${pkg('zstd-napi')}, snappy ${pkg('snappy')}, apache-arrow ${pkg('apache-arrow')}, @duckdb/node-api ${pkg('@duckdb/node-api')}; rivet commit ${commit}`;
}

async function main() {
  execFileSync('bash', [join(root, 'test/services/up.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (!existsSync(join(root, 'dist/cli/main.js'))) execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  const names = args.datasets ?? Object.keys(rowsOf);
  const datasets = [];
  for (const n of names) {
    if (!(n in rowsOf)) usage(`unknown dataset ${n}`);
    datasets.push(await ensureDataset(client, n, rowsOf[n]));
  }
  await client.end();

  const results = [];
  for (const ds of datasets) {
    let baseline = null;
    for (const s of scenarios(ds)) {
      const isBaseline = s.id.endsWith('/copy-binary');
      if (args.only && !args.only.test(s.id) && !isBaseline) continue;
      console.error(`bench: ${s.id} — warm-up + ${args.runs} run(s)`);
      await runOnce(s);
      const runs = [];
      for (let i = 0; i < args.runs; i++) runs.push(await runOnce(s));
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
      };
      if (isBaseline) baseline = r.wall;
      r.ratio = baseline ? r.wall / baseline : NaN;
      results.push(r);
      console.error(`bench:   wall ${r.wall.toFixed(2)} s (${r.walls.join(', ')}), cpu ${r.cpu.toFixed(1)} s, rss ${r.rssMb.toFixed(0)} MB, ×${r.ratio.toFixed(2)} COPY binary`);
    }
  }

  const file = join(root, 'bench', 'results', `bench-${args.scale}.md`);
  if (!existsSync(file)) {
    writeFileSync(
      file,
      `# rivet vs the source's COPY and a peer pipeline (${args.scale} scale)\n\n` +
        'Produced by `npm run bench' + (args.scale === 'full' ? '' : ` -- --scale ${args.scale}`) + '` (bench/harness.mjs). Each row: one warm-up, then the\n' +
        'median wall and CPU (user+sys) of the runs, the highest peak RSS, the longest single statement\n' +
        'and the most client backends seen in pg_stat_activity (sampled every 100 ms), the size of the\n' +
        'data written, and the wall time as a multiple of `COPY … (FORMAT binary)` → /dev/null measured\n' +
        'in the same invocation. Datasets: bench/datasets/*.sql. rivet runs use `tuning: {profile: fast}`;\n' +
        '`-copy` reads with binary COPY (RIVET_PG_READ_METHOD=copy), `-wasm` uses the wasm (arrow-rs)\n' +
        'Parquet encoder instead of rivet\'s own (RIVET_PARQUET_ENCODER=wasm).\n',
    );
  }
  const lines = [
    '',
    `## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Machine: ${machine()}. Runs per scenario: ${args.runs} (+1 warm-up).`,
    '',
    '| scenario | rows | wall (median) | × COPY binary | CPU user+sys | peak RSS | longest query | backends | output |',
    '|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.id} | ${r.rows.toLocaleString('en-US')} | ${r.wall.toFixed(2)} s | ${r.ratio.toFixed(2)}× | ${r.cpu.toFixed(1)} s | ${r.rssMb.toFixed(0)} MB | ${(r.longestMs / 1000).toFixed(1)} s | ${r.maxBackends} | ${r.outMb.toFixed(0)} MiB |`,
    ),
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
