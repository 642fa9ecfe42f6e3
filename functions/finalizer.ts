import { finalize } from '../shared/run/finalize.js';
import type { RunDeps } from '../shared/run/run-deps.js';
import { FinalizerEventSchema } from './events.js';
import { makeHandler } from './handler-kit.js';
import { depsFromEnvironment } from './environment-deps.js';

/** Finalizer Lambda: manifest.json then _SUCCESS (or a failed manifest), then state. */
export function makeFinalizerHandler(deps: () => Promise<RunDeps>) {
  return makeHandler(FinalizerEventSchema, deps, (event, d) => finalize(event, d));
}

export const handler = makeFinalizerHandler(depsFromEnvironment);
