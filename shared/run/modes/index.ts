import { RivetError } from '../../errors/rivet-error.js';
import type { Mode } from '../run-plan.js';
import { planFull } from './full.js';
import { planChunked } from './chunked.js';
import { planIncremental } from './incremental.js';
import { planTimeWindow } from './time-window.js';
import type { ModePlanner } from './mode-planner.js';

/** The one place that maps `mode:` to its planner. */
const PLANNERS: Partial<Record<Mode, ModePlanner>> = {
  full: planFull,
  chunked: planChunked,
  incremental: planIncremental,
  time_window: planTimeWindow,
};

export function modePlanner(mode: Mode, exportName: string): ModePlanner {
  const p = PLANNERS[mode];
  if (!p) throw new RivetError('NOT_SUPPORTED_YET', `export '${exportName}': mode '${mode}' is not supported yet`);
  return p;
}
