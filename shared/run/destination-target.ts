import type { DestinationConfig } from '../config/schema.js';
import type { DestinationTarget } from '../destination/registry.js';

/**
 * A config `destination:` block as a target, placeholders still in it. `run` and
 * `validate` both go through here, so they always look at the same prefix.
 */
export function destinationTarget(d: DestinationConfig): DestinationTarget {
  return {
    kind: d.type,
    path: d.type === 'local' ? (d.path ?? d.prefix ?? '.') : undefined,
    bucket: d.bucket ?? undefined,
    prefix: d.type === 'local' ? undefined : (d.prefix ?? ''),
  };
}
