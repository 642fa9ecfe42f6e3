import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { RivetError } from '../../shared/errors/rivet-error.js';
import type { LoadedConfig } from '../../shared/config/load.js';

/** Where the config travels inside the code asset (RIVET_CONFIG points there). */
export const CONFIG_DIR_IN_BUNDLE = 'config';

/**
 * The code of the three functions: one asset, built once per synth by
 * infra/bin/bundle-functions.mjs (esbuild, ESM with code splitting, Node 22; ADR 0011), so the
 * planner, the worker and the finalizer are always the same build. Beside the chunks:
 * parquet-wasm's .wasm (its loader reads it from the chunk's directory), the snappy add-on
 * with its platform binaries, and the config. Bundling is local only (no Docker): a failure
 * fails the synth.
 */
export function functionsCode(repoRoot: string, rivet: LoadedConfig): Code {
  const files = configFiles(rivet);
  const script = path.join(repoRoot, 'infra/bin/bundle-functions.mjs');
  const wasm = path.join(repoRoot, 'node_modules/parquet-wasm/node/parquet_wasm_bg.wasm');
  return Code.fromAsset(path.join(repoRoot, 'functions'), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never pulled: local bundling always answers (it throws rather than fall back to Docker).
      image: DockerImage.fromRegistry('rivet-bundles-locally'),
      local: {
        tryBundle(outputDir: string): boolean {
          execFileSync(process.execPath, [script, repoRoot, outputDir], { stdio: ['ignore', 'inherit', 'inherit'] });
          cpSync(wasm, path.join(outputDir, 'parquet_wasm_bg.wasm'));
          for (const { from, to } of nativeAddOns(repoRoot)) cpSync(from, path.join(outputDir, to), { recursive: true, dereference: true });
          for (const rel of files) {
            const to = path.join(outputDir, CONFIG_DIR_IN_BUNDLE, rel);
            mkdirSync(path.dirname(to), { recursive: true });
            cpSync(path.join(rivet.dir, rel), to);
          }
          return true;
        },
      },
    },
  });
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
