import type { Logger } from '../../log/logger.js';
import type { Source } from '../../source/source.js';
import type { StateStore } from '../../state/state-store.js';
import type { ResolvedExport } from '../run-deps.js';
import type { RunHeader } from '../run-plan.js';
import type { BoundaryTask } from '../cursor-window.js';

/** What a mode decides at plan time: the task queries (one per part-producing task). */
export interface ModePlan {
  queries: { sql: string; label?: string; boundary?: BoundaryTask }[];
  /** Fields the mode adds to the run header, for the finalizer (e.g. the incremental cursor window). */
  header?: Partial<Pick<RunHeader, 'cursor'>>;
  /** `chunk_checkpoint: true`: the plan fingerprint and each query's chunk bounds, stored once the plan is. */
  checkpoint?: { planHash: string; chunks: { startKey: string; endKey: string }[] };
}

export interface ModePlanContext {
  exp: ResolvedExport;
  /** An open connection to the source, for bounds and counts. Closed by the caller. */
  source: Source;
  state: StateStore;
  log: Logger;
  runId: string;
  now: Date;
}

/** One function per mode, in its own file under shared/run/modes/. */
export type ModePlanner = (ctx: ModePlanContext) => Promise<ModePlan>;
