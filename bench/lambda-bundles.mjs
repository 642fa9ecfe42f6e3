#!/usr/bin/env node
// Lambda handler bundles as `cdk synth` builds them (infra/example): size of index.mjs and of
// the whole asset, and the cold import time (a fresh `node` importing the bundle, median of 7),
// written to bench/results/lambda-bundles.md with the machine and the commit.
//   node bench/lambda-bundles.mjs            (from the repository root; no AWS account needed)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const out = mkdtempSync(path.join(tmpdir(), 'rivet-bundles-'));
execFileSync('npx', ['cdk', 'synth', '--quiet', '-o', out], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
const template = JSON.parse(readFileSync(path.join(out, 'Rivet.template.json'), 'utf8'));
const mib = (n) => (n / 1024 / 1024).toFixed(2);
const importScript =
  "const t=performance.now();const m=await import(process.argv[1]);if(typeof m.handler!=='function')throw new Error('no handler');console.log((performance.now()-t).toFixed(0));";

const rows = [];
for (const [id, r] of Object.entries(template.Resources)) {
  if (r.Type !== 'AWS::Lambda::Function') continue;
  const role = id.replace(/[0-9A-F]{8}$/, '').toLowerCase();
  const dir = path.join(out, `asset.${r.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
  const files = readdirSync(dir, { recursive: true }).filter((f) => statSync(path.join(dir, f)).isFile());
  const size = (f) => statSync(path.join(dir, f)).size;
  const wasm = files.filter((f) => f.endsWith('.wasm')).reduce((n, f) => n + size(f), 0);
  const times = Array.from({ length: 7 }, () => Number(execFileSync(process.execPath, ['--input-type=module', '-e', importScript, path.join(dir, 'index.mjs')], { encoding: 'utf8' }).trim()));
  times.sort((a, b) => a - b);
  rows.push({ role, js: size('index.mjs'), wasm, asset: files.reduce((n, f) => n + size(f), 0), median: times[3], min: times[0], max: times[6] });
}
rows.sort((a, b) => ['planner', 'worker', 'finalizer'].indexOf(a.role) - ['planner', 'worker', 'finalizer'].indexOf(b.role));

const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
const dirty = execFileSync('git', ['status', '--porcelain', '--', 'functions', 'shared', 'infra'], { cwd: root, encoding: 'utf8' }).trim() ? ' (with uncommitted changes)' : '';
const machine = `${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, ${process.platform}-${process.arch}`;
const lines = [
  '# Lambda handler bundles',
  '',
  `Measured by \`node bench/lambda-bundles.mjs\` on ${new Date().toISOString().slice(0, 10)}, commit ${commit}${dirty}; ${machine}.`,
  'Bundles as `cdk synth` builds them for infra/example; import = a fresh `node` importing index.mjs (module evaluation, no handler call), 7 runs.',
  'Issue 14 goals: worker bundle ≤ 5 MB, cold import ≤ 250 ms.',
  '',
  '| function | index.mjs | .wasm in the asset | whole asset | import median (min–max) |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.role} | ${mib(r.js)} MiB | ${mib(r.wasm)} MiB | ${mib(r.asset)} MiB | ${r.median} ms (${r.min}–${r.max}) |`),
  '',
];
writeFileSync(path.join(root, 'bench/results/lambda-bundles.md'), lines.join('\n'));
process.stdout.write(lines.join('\n'));
