import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { openSource } from '../source/registry.js';
import { openDestination } from '../destination/registry.js';
import type { StateStore } from '../state/state-store.js';
import { resolveExport } from './resolve-export.js';
import type { ProgressEvent, ResolvedExport, RunDeps } from './run-deps.js';

export interface ConfigDepsOptions {
  configPath: string;
  state: StateStore;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  onProgress?: (e: ProgressEvent) => void;
  /** Already loaded with these params (the CLI loads once to validate before running). */
  preloaded?: { params: Record<string, string>; config: LoadedConfig };
}

/**
 * RunDeps backed by a config file: used by the CLI driver and by the Lambda handlers alike.
 * The config is loaded once per distinct params map (params substitute `${…}` in the YAML).
 */
export function configRunDeps(options: ConfigDepsOptions): RunDeps {
  const env = options.env ?? process.env;
  const cache = new Map<string, Promise<LoadedConfig>>();
  if (options.preloaded) cache.set(key(options.preloaded.params), Promise.resolve(options.preloaded.config));
  const resolved = new Map<string, ResolvedExport>();
  return {
    async resolveExport(exportName, params) {
      const k = key(params);
      const loading = cache.get(k) ?? loadConfig(options.configPath, { params, env, log: options.log });
      cache.set(k, loading);
      const rk = `${k}\u0000${exportName}`;
      let r = resolved.get(rk);
      if (!r) {
        r = resolveExport(await loading, exportName, params, options.log, env);
        resolved.set(rk, r);
      }
      return r;
    },
    openSource,
    openDestination: (target) => openDestination(target, { logger: options.log }),
    state: options.state,
    log: options.log,
    now: () => new Date(),
    onProgress: options.onProgress,
  };
}

function key(params: Record<string, string>): string {
  return JSON.stringify(Object.keys(params).sort().map((k) => [k, params[k]]));
}
