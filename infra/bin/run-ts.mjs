// Runs a TypeScript entry point (the CDK app) without a build step: esbuild bundles it with
// its packages left external, into node_modules/.cache so they still resolve, then imports it.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const entry = process.argv[2];
if (!entry) {
  process.stderr.write('usage: node infra/bin/run-ts.mjs <entry.ts>\n');
  process.exit(2);
}
const outDir = path.resolve('node_modules/.cache/rivet-infra');
mkdirSync(outDir, { recursive: true });
const outfile = path.join(outDir, `${path.basename(entry, '.ts')}.mjs`);
await build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', sourcemap: 'inline', logLevel: 'warning' });
await import(pathToFileURL(outfile).href);
