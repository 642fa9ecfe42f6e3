#!/usr/bin/env node
// Peak memory of one `rivet run` and where it goes (issue 18): the whole process under
// /usr/bin/time (wall, user+sys CPU, peak RSS), and from inside it (bench/memory-sampler.mjs)
// each isolate's V8 heap, ArrayBuffer memory and wasm memory, plus the process's anonymous
// and file-backed RSS, at the moment RSS peaked.
//
//   node bench/memory-breakdown.mjs --table bench.narrow_5000000 --format parquet --compression zstd
//   node bench/memory-breakdown.mjs --table bench.wide_300000 --format csv --runs 3 [--env K=V ...] [--node-flag --max-semi-space-size=1]
//
// Tables come from bench/harness.mjs (narrow, wide) or bench/memory.sh; build first
// (`npm run build`): it runs dist/cli/main.js with the `fast` profile, as the harness does.
// Prints one Markdown row per run and the breakdown of the median-RSS run; appends nothing.
// --samples FILE keeps the raw samples (JSON lines, of the last run).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pgUrl = process.env.RIVET_BENCH_PG_URL ?? `postgresql://rivet:rivet@127.0.0.1:${process.env.RIVET_TEST_PG_PORT ?? 54329}/rivet_test`;
const MB = 1024 * 1024;

const args = { table: null, format: 'parquet', compression: 'zstd', runs: 1, env: {}, nodeFlags: [], samples: null };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const v = () => process.argv[++i];
  if (a === '--table') args.table = v();
  else if (a === '--format') args.format = v();
  else if (a === '--compression') args.compression = v();
  else if (a === '--runs') args.runs = Number(v());
  else if (a === '--env') {
    const [k, ...rest] = v().split('=');
    args.env[k] = rest.join('=');
  } else if (a === '--node-flag') args.nodeFlags.push(v());
  else if (a === '--samples') args.samples = v();
  else {
    console.error(`unknown argument ${a}`);
    process.exit(2);
  }
}
if (!args.table) {
  console.error('usage: node bench/memory-breakdown.mjs --table bench.narrow_5000000 [--format parquet|csv] [--compression zstd] [--runs N] [--env K=V] [--node-flag F] [--samples FILE]');
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'rivet-mem-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const cfg = join(work, 'rivet.yaml');
writeFileSync(
  cfg,
  [
    'source:',
    '  type: postgres',
    `  url: ${pgUrl}`,
    '  tuning: { profile: fast }',
    'exports:',
    '  - name: mem',
    `    table: ${args.table}`,
    `    format: ${args.format}`,
    ...(args.format === 'parquet' ? [`    compression: ${args.compression}`] : []),
    '    destination:',
    '      type: local',
    `      path: ${join(work, 'out')}`,
    '',
  ].join('\n'),
);

function runOnce() {
  rmSync(join(work, 'out'), { recursive: true, force: true });
  rmSync(join(work, 'state'), { recursive: true, force: true });
  const samples = args.samples ?? join(work, 'samples.jsonl');
  rmSync(samples, { force: true });
  const timeOut = join(work, 'time.txt');
  const load = loadavg()[0];
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', '%e %U %S %M', '-o', timeOut, process.execPath, ...args.nodeFlags, '--import', join(root, 'bench/memory-sampler.mjs'), join(root, 'dist/cli/main.js'), 'run', '-c', cfg],
    { env: { ...process.env, RIVET_STATE_PATH: join(work, 'state', 'rivet.db'), RIVET_MEMORY_SAMPLES: samples, ...args.env }, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`rivet run failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const [wall, user, sys, rssKb] = readFileSync(timeOut, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  const lines = readFileSync(samples, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  return { wall, cpu: user + sys, peakMb: rssKb / 1024, load, ...breakdown(lines) };
}

/** Each isolate's figures at the main thread's highest-RSS sample, and their maxima over the run. */
function breakdown(lines) {
  const main = lines.filter((l) => l.thread === 0 && l.rss);
  const peak = main.reduce((a, b) => (b.rss > a.rss ? b : a));
  const threads = new Map();
  for (const l of lines) {
    const t = threads.get(l.thread) ?? { role: l.role, atPeak: null, max: { heapCommitted: 0, arrayBuffers: 0, wasm: 0 } };
    t.role = l.role !== 'worker' ? l.role : t.role;
    if (l.t <= peak.t + 60) t.atPeak = l;
    for (const k of Object.keys(t.max)) t.max[k] = Math.max(t.max[k], l[k]);
    threads.set(l.thread, t);
  }
  const isolates = [...threads.entries()].sort((a, b) => a[0] - b[0]).map(([id, t]) => ({ id, role: t.role, at: t.atPeak, max: t.max }));
  const counted = isolates.reduce((n, i) => n + (i.at ? i.at.heapCommitted + i.at.arrayBuffers + i.at.wasm + i.at.malloced : 0), 0);
  return { peak, isolates, uncounted: peak.rssAnon - counted, maxThreads: Math.max(...main.map((l) => l.threads)) };
}

const mb = (b) => (b / MB).toFixed(0);
const results = [];
for (let i = 0; i < args.runs; i++) results.push(runOnce());
const what = `${args.table} ${args.format}${args.format === 'parquet' ? ' ' + args.compression : ''}${Object.keys(args.env).length ? ' ' + JSON.stringify(args.env) : ''}${args.nodeFlags.length ? ' ' + args.nodeFlags.join(' ') : ''}`;
console.log(`| run | wall | CPU (user+sys) | peak RSS | load (1 min) |\n|---|---|---|---|---|`);
for (const r of results) console.log(`| ${what} | ${r.wall.toFixed(2)} s | ${r.cpu.toFixed(2)} s | ${r.peakMb.toFixed(0)} MB | ${r.load.toFixed(2)} |`);
const med = [...results].sort((a, b) => a.peakMb - b.peakMb)[Math.floor(results.length / 2)];
console.log(`\nAt the sampled RSS peak (${mb(med.peak.rss)} MB at ${(med.peak.t / 1000).toFixed(1)} s; ${med.maxThreads} OS threads):`);
console.log(`  file-backed RSS (node binary, add-ons)  ${mb(med.peak.rssFile)} MB`);
console.log(`  anonymous RSS                           ${mb(med.peak.rssAnon)} MB, of which:`);
for (const i of med.isolates) {
  const a = i.at;
  if (!a) continue;
  console.log(
    `    ${(i.role + ' #' + i.id).padEnd(22)} V8 heap ${mb(a.heapCommitted)} MB committed (${mb(a.heapUsed)} used), ArrayBuffers ${mb(a.arrayBuffers)} MB, wasm ${mb(a.wasm)} MB` +
      ` | run max: heap ${mb(i.max.heapCommitted)}, ArrayBuffers ${mb(i.max.arrayBuffers)}, wasm ${mb(i.max.wasm)}`,
  );
  if (a.spaces) {
    const s = Object.entries(a.spaces).filter(([, b]) => b >= MB / 2);
    console.log(`      heap spaces: ${s.map(([n, b]) => `${n} ${mb(b)}`).join(', ')}`);
  }
}
console.log(`    not in any isolate's figures (malloc of add-ons and V8 internals, thread stacks, allocator slack): ${mb(med.uncounted)} MB`);
