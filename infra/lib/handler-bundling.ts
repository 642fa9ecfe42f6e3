import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { RivetError } from '../../shared/errors/rivet-error.js';
import type { LoadedConfig } from '../../shared/config/load.js';

/**
 * How each handler is bundled (esbuild, ESM, Node 22). The bundle is ESM because the code
 * uses `import.meta.url`; a banner gives the CommonJS dependencies (parquet-wasm's loader,
 * pg) the `require`/`__dirname` they expect. parquet-wasm reads its .wasm next to the
 * bundle, and the config travels with the code under config/ (RIVET_CONFIG points there).
 */
export const CONFIG_DIR_IN_BUNDLE = 'config';

export function handlerBundling(repoRoot: string, rivet: LoadedConfig): BundlingOptions {
  const wasm = path.join(repoRoot, 'node_modules/parquet-wasm/node/parquet_wasm_bg.wasm');
  const files = configFiles(rivet);
  return {
    format: OutputFormat.ESM,
    target: 'node22',
    mainFields: ['module', 'main'],
    minify: true,
    sourceMap: false,
    banner:
      "import{createRequire as __rq}from'node:module';import{fileURLToPath as __fu}from'node:url';import{dirname as __dn}from'node:path';" +
      'const require=__rq(import.meta.url);const __filename=__fu(import.meta.url);const __dirname=__dn(__filename);',
    // pg-native: optional add-on of pg, never loaded (rivet uses the pure-JS driver).
    // snappy: a native add-on, shipped beside the bundle (below) rather than inside it.
    externalModules: ['pg-native', 'snappy'],
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (_inputDir: string, outputDir: string) => [
        `cp ${q(wasm)} ${q(path.join(outputDir, 'parquet_wasm_bg.wasm'))}`,
        ...nativeAddOns(repoRoot).map(({ from, to }) => `mkdir -p ${q(path.dirname(path.join(outputDir, to)))} && cp -R ${q(from)} ${q(path.join(outputDir, to))}`),
        ...files.map((rel) => {
          const to = path.join(outputDir, CONFIG_DIR_IN_BUNDLE, rel);
          return `mkdir -p ${q(path.dirname(to))} && cp ${q(path.join(rivet.dir, rel))} ${q(to)}`;
        }),
      ],
    },
  };
}

/**
 * The snappy add-on and every platform binary of it that is installed, for node_modules/ of the
 * asset: with it a deployed worker compresses snappy pages with rivet's own encoder, as
 * `rivet run` does, instead of falling back to the wasm encoder (other bytes). Each binary
 * loads only on its own platform; npm installs the build machine's, so for arm64 functions
 * built on x86_64, add `npm install --no-save --force @napi-rs/snappy-linux-arm64-gnu@<snappy's
 * version>` before deploying (without it, snappy Parquet falls back to the wasm encoder there).
 */
export function nativeAddOns(repoRoot: string): { from: string; to: string }[] {
  const modules = path.join(repoRoot, 'node_modules');
  if (!existsSync(path.join(modules, 'snappy'))) return [];
  const scope = path.join(modules, '@napi-rs');
  const binaries = existsSync(scope) ? readdirSync(scope).filter((d) => /^snappy-linux-/.test(d)).sort() : [];
  return [
    { from: path.join(modules, 'snappy'), to: 'node_modules/snappy' },
    ...binaries.map((d) => ({ from: path.join(scope, d), to: `node_modules/@napi-rs/${d}` })),
  ];
}

/** rivet.yaml and the files it references by relative path (query files, CA bundles), relative to its directory. */
export function configFiles(rivet: LoadedConfig): string[] {
  const rels = new Set<string>([path.basename(rivet.path)]);
  const add = (p: string | undefined, what: string) => {
    if (!p) return;
    const abs = path.resolve(rivet.dir, p);
    const rel = path.relative(rivet.dir, abs);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new RivetError('CONFIG_INVALID', `${what} '${p}' is outside the config directory, so it cannot travel with the functions`, {
        hint: 'move it next to rivet.yaml (or below) and reference it relatively',
      });
    }
    if (!existsSync(abs)) throw new RivetError('CONFIG_INVALID', `${what} '${p}' does not exist (${abs})`);
    rels.add(rel);
  };
  for (const e of rivet.config.exports) add(e.query_file, `export '${e.name}': query_file`);
  add(rivet.config.source.tls?.ca_file, 'source.tls.ca_file');
  if (rivet.config.source.url_file) {
    throw new RivetError('CONFIG_INVALID', 'source.url_file cannot be deployed: the URL would be bundled into the function code', {
      hint: 'use url_env and map it to a Secrets Manager secret under `secrets:` in rivet.deploy.yaml',
    });
  }
  return [...rels].sort();
}

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
