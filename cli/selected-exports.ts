import type { RivetConfig } from '../shared/config/schema.js';
import { RivetError } from '../shared/errors/rivet-error.js';

/** The exports a command runs: the one `-e/--export` names (a usage error if the config lacks it), else all of them. */
export function selectedExports(config: RivetConfig, exportName: string | undefined, configPath: string): string[] {
  const all = config.exports.map((e) => e.name);
  if (!exportName) return all;
  if (!all.includes(exportName)) {
    throw new RivetError('USAGE', `export '${exportName}' is not in ${configPath}`, { hint: `exports in this config: ${all.join(', ')}` });
  }
  return [exportName];
}
