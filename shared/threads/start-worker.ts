import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

interface EsbuildLike {
  buildSync(options: Record<string, unknown>): { outputFiles: { text: string }[] };
}

/**
 * Where a worker thread's script can be found: the built `.js` next to the calling module
 * (dist/, and the Lambda asset, where each script is an entry point of the bundle), or — under
 * the test runner, which runs the TypeScript sources — the `.ts` beside it, compiled in memory
 * with esbuild (a dev dependency, never needed from dist/). Where neither is found: null, and
 * the caller does the work in-thread.
 */
export function workerAvailable(script: URL): boolean {
  if (script.protocol !== 'file:') return false;
  return existsSync(fileURLToPath(script)) || existsSync(sourceOf(script));
}

/** Start the thread for `script` (a `.js` URL beside the caller), or null where `workerAvailable` says no. */
export function startWorker(script: URL): Worker | null {
  if (script.protocol !== 'file:') return null;
  if (existsSync(fileURLToPath(script))) return new Worker(script);
  const source = sourceOf(script);
  if (!existsSync(source)) return null;
  return new Worker(compileSource(source), { eval: true });
}

function sourceOf(script: URL): string {
  return fileURLToPath(script).replace(/\.js$/, '.ts');
}

const compiled = new Map<string, string>();

function compileSource(file: string): string {
  let code = compiled.get(file);
  if (code === undefined) {
    // Through createRequire, so bundlers do not follow this dev-only dependency into a production bundle.
    const esbuild = createRequire(import.meta.url)('esbuild') as EsbuildLike;
    const out = esbuild.buildSync({
      entryPoints: [file],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      write: false,
      logLevel: 'silent',
      // Native modules are loaded with createRequire(import.meta.url): resolve them from the source tree.
      define: { 'import.meta.url': JSON.stringify(pathToFileURL(file).href) },
    });
    code = out.outputFiles[0].text;
    compiled.set(file, code);
  }
  return code;
}
