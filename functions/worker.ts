import { exportChunk } from '../shared/run/export-chunk.js';
import type { RunDeps } from '../shared/run/run-deps.js';
import { WorkerEventSchema } from './events.js';
import { makeHandler } from './handler-kit.js';
import { depsFromEnvironment } from './environment-deps.js';

/** Worker Lambda: export one task, return its receipt. */
export function makeWorkerHandler(deps: () => Promise<RunDeps>, signal?: AbortSignal) {
  return makeHandler(WorkerEventSchema, deps, (event, d) => exportChunk(event.task, d, signal));
}

export const handler = makeWorkerHandler(depsFromEnvironment);
