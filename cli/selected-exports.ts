import type { RivetConfig } from '../shared/config/schema.js';
import { RivetError } from '../shared/errors/rivet-error.js';
import { findPartitionChild } from '../shared/run/partitions.js';

/**
 * The exports a command runs: the one `-e/--export` names (a usage error if the config lacks it), else all of them.
 * With `partitionChildren`, `-e` may also name one child of a partitioned export (`orders__2026-05-21`).
 */
export function selectedExports(config: RivetConfig, exportName: string | undefined, configPath: string, options: { partitionChildren?: boolean } = {}): string[] {
  const all = config.exports.map((e) => e.name);
  if (!exportName) return all;
  if (options.partitionChildren && !all.includes(exportName) && findPartitionChild(config.exports, exportName)) return [exportName];
  if (!all.includes(exportName)) {
    throw new RivetError('USAGE', `export '${exportName}' is not in ${configPath}`, { hint: `exports in this config: ${all.join(', ')}` });
  }
  return [exportName];
}
