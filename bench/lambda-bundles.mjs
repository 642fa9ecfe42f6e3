#!/usr/bin/env node
// The functions' code asset as `cdk synth` builds it (infra/example; ADR 0011): per handler the
// entry file, the JS a cold start evaluates (the entry and its static imports, transitively) and
// the cold import time (a fresh `node` importing the handler: module evaluation, no call; median,
// min and max of 7, wall clock and CPU); for the asset, all JS chunks, the .wasm and the whole.
// Written to bench/results/lambda-bundles.md with the machine, its load and the commit.
//   node bench/lambda-bundles.mjs [--node=<node binary>]...   (from the repository root; no AWS account needed)
// Each --node adds the import times with that binary (e.g. Node 22, the Lambda runtime's major).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const out = mkdtempSync(path.join(tmpdir(), 'rivet-bundles-'));
execFileSync('npx', ['cdk', 'synth', '--quiet', '-o', out], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
const template = JSON.parse(readFileSync(path.join(out, 'Rivet.template.json'), 'utf8'));
const MB = (n) => `${(n / 1e6).toFixed(2)} MB (${(n / 1024 / 1024).toFixed(2)} MiB)`;
const importScript =
  'const c=process.cpuUsage();const t=performance.now();const m=await import(process.argv[1]);' +
  "if(typeof m.handler!=='function')throw new Error('no handler');const u=process.cpuUsage(c);" +
  'console.log(JSON.stringify({wall:performance.now()-t,cpu:(u.user+u.system)/1000}));';

const fns = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
const assets = new Set(fns.map(([, r]) => r.Properties.Code.S3Key));
if (assets.size !== 1) throw new Error(`expected one code asset for the three functions, found ${assets.size}`);
const dir = path.join(out, `asset.${[...assets][0].replace(/\.zip$/, '')}`);
const files = readdirSync(dir, { recursive: true }).filter((f) => statSync(path.join(dir, f)).isFile());
const size = (f) => statSync(path.join(dir, f)).size;
const sum = (list) => list.reduce((n, f) => n + size(f), 0);
const chunks = files.filter((f) => f.endsWith('.js') && !f.startsWith('node_modules'));

/** The file and everything it imports statically, transitively: what Node evaluates when it is imported. */
function staticClosure(file, seen = new Set()) {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const m of readFileSync(path.join(dir, file), 'utf8').matchAll(/(?:^|[;}\s])(?:import|export)\s*(?:[\w$*{][^"']*?from\s*)?["']\.\/([^"']+\.js)["']/g)) staticClosure(m[1], seen);
  return seen;
}

const nodes = [process.execPath, ...process.argv.slice(2).filter((a) => a.startsWith('--node=')).map((a) => a.slice('--node='.length))];
const load = loadavg().map((n) => n.toFixed(1)).join(' / ');
const rows = [];
for (const node of nodes) {
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  for (const role of ['planner', 'worker', 'finalizer']) {
    const entry = `${role}.js`;
    const closure = staticClosure(entry);
    const runs = Array.from({ length: 7 }, () => JSON.parse(execFileSync(node, ['--input-type=module', '-e', importScript, path.join(dir, entry)], { encoding: 'utf8' })));
    const wall = runs.map((r) => r.wall).sort((a, b) => a - b);
    const cpu = runs.map((r) => r.cpu).sort((a, b) => a - b);
    rows.push({ role, version, entry: size(entry), evaluated: sum([...closure]), files: closure.size, wall, cpu });
  }
}
const loadAfter = loadavg().map((n) => n.toFixed(1)).join(' / ');

const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
const dirty = execFileSync('git', ['status', '--porcelain', '--', 'functions', 'shared', 'infra'], { cwd: root, encoding: 'utf8' }).trim() ? ' (with uncommitted changes)' : '';
const machine = `${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${process.platform}-${process.arch}`;
const ms = (n) => n.toFixed(0);
const lines = [
  '# Lambda functions: code asset and cold import',
  '',
  `Measured by \`node bench/lambda-bundles.mjs\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${commit}${dirty}; ${machine}.`,
  `Load average (1 / 5 / 15 min) ${load} before the imports, ${loadAfter} after: the machine is shared with other engineers' test runs, so wall-clock`,
  'times are inflated by however busy it was; the CPU column (user + system time of the importing process) moves less with load.',
  '',
  'One asset for the three functions, as `cdk synth` builds it for infra/example: ESM chunks from infra/bin/bundle-functions.mjs (ADR 0011).',
  '"Evaluated at import" = the handler file and the chunks it imports statically, transitively; everything else (engines, destinations,',
  'cloud SDKs, parquet-wasm) is a chunk loaded by `import()` on first use. Import = a fresh `node` importing the handler file',
  '(module evaluation, no handler call), 7 runs. Issue 14 goals: worker bundle ≤ 5 MB, cold import ≤ 250 ms.',
  '',
  '| function | Node | handler file | JS evaluated at import | import wall, median (min–max) | import CPU, median (min–max) |',
  '|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.role} | ${r.version} | ${(r.entry / 1e3).toFixed(0)} kB | ${MB(r.evaluated)}, ${r.files} files | ${ms(r.wall[3])} ms (${ms(r.wall[0])}–${ms(r.wall[6])}) | ${ms(r.cpu[3])} ms (${ms(r.cpu[0])}–${ms(r.cpu[6])}) |`,
  ),
  '',
  '| the asset | size |',
  '|---|---|',
  `| all JS chunks (${chunks.length} files, the three handlers and the thread scripts included) | ${MB(sum(chunks))} |`,
  `| .wasm (parquet-wasm) | ${MB(sum(files.filter((f) => f.endsWith('.wasm'))))} |`,
  `| snappy add-on (node_modules/) | ${MB(sum(files.filter((f) => f.startsWith('node_modules'))))} |`,
  `| whole asset (unzipped, config included) | ${MB(sum(files))} |`,
  '',
];
writeFileSync(path.join(root, 'bench/results/lambda-bundles.md'), lines.join('\n'));
process.stdout.write(lines.join('\n'));
