import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** This build's version (package.json), stamped into plan artifacts and reconcile/repair reports. */
export function rivetVersion(): string {
  if (cached === undefined) {
    // Same relative location from shared/run/ in the sources and in dist/shared/run/.
    for (const rel of ['../../package.json', '../../../package.json']) {
      try {
        const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
        if (pkg.version && pkg.name === 'rivet-export') {
          cached = pkg.version;
          break;
        }
      } catch {
        // try the next candidate
      }
    }
    cached ??= '0.0.0';
  }
  return cached;
}
