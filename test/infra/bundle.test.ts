import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { synthRivet } from './synth.js';
import { REPO_ROOT } from '../helpers/cli.js';

/**
 * The three handler bundles exactly as `cdk synth` builds them (NodejsFunction → local
 * esbuild), then each one imported by a fresh `node` process, as a Lambda cold start would.
 * Sizes and import times are printed for docs/aws.md.
 */
describe('handler bundles', () => {
  it('builds planner, worker and finalizer bundles that import cleanly in a fresh Node process', async () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'rivet-cdk-out-'));
    const { template } = await synthRivet(path.join(REPO_ROOT, 'infra/example/rivet.deploy.yaml'), { bundle: true, outdir });
    const fns = template.findResources('AWS::Lambda::Function') as Record<string, { Properties: { Code: { S3Key: string } } }>;
    const report: string[] = [];
    for (const [id, fn] of Object.entries(fns)) {
      // The code asset `<hash>.zip` is staged in the assembly as `asset.<hash>/`.
      const assetDir = path.join(outdir, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
      const files = readdirSync(assetDir, { recursive: true }) as string[];
      expect(files).toEqual(expect.arrayContaining(['index.mjs', 'parquet_wasm_bg.wasm', path.join('config', 'rivet.yaml')]));
      const size = (f: string) => statSync(path.join(assetDir, f)).size;
      const total = files.filter((f) => statSync(path.join(assetDir, f)).isFile()).reduce((n, f) => n + size(f), 0);
      expect(readFileSync(path.join(assetDir, 'config', 'rivet.yaml'), 'utf8')).toBe(readFileSync(path.join(REPO_ROOT, 'infra/example/rivet.yaml'), 'utf8'));
      // Cold start: the time to import the bundle (module evaluation, wasm compile) in a new process.
      const script =
        "const t=performance.now();const m=await import(process.argv[1]);" +
        "if(typeof m.handler!=='function')throw new Error('no handler export');console.log(Math.round(performance.now()-t));";
      const times = [0, 1, 2].map(() => Number(execFileSync(process.execPath, ['--input-type=module', '-e', script, path.join(assetDir, 'index.mjs')], { encoding: 'utf8' }).trim()));
      const median = times.sort((a, b) => a - b)[1];
      report.push(`${id.replace(/[0-9A-F]{8}$/, '').padEnd(10)} index.mjs ${(size('index.mjs') / 1024 / 1024).toFixed(2)} MiB, asset ${(total / 1024 / 1024).toFixed(2)} MiB, import ${median} ms`);
      expect(size('index.mjs')).toBeLessThan(20 * 1024 * 1024);
      // Everything is in the bundle but the snappy add-on (infra/lib/handler-bundling.ts), which
      // loads from beside it as the bundle's require() finds it.
      expect(readdirSync(path.join(assetDir, 'node_modules')).sort()).toEqual(['@napi-rs', 'snappy']);
      expect(readdirSync(path.join(assetDir, 'node_modules', '@napi-rs')).filter((d) => !d.startsWith('snappy-linux-'))).toEqual([]);
      const roundTrip = "const s=require('snappy');const b=Buffer.from('rivet '.repeat(100));process.stdout.write(String(s.uncompressSync(s.compressSync(b)).equals(b)))";
      expect(execFileSync(process.execPath, ['-e', roundTrip], { cwd: assetDir, encoding: 'utf8' })).toBe('true');
    }
    expect(report).toHaveLength(3);
    process.stdout.write(`handler bundles (Node ${process.version}):\n${report.map((l) => `  ${l}`).join('\n')}\n`);
  }, 180_000);
});
