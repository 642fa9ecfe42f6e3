import type { Logger } from '../../log/logger.js';
import type { Source } from '../../source/source.js';
import type { StateStore } from '../../state/state-store.js';
import type { ResolvedExport } from '../run-deps.js';

/** What a mode decides at plan time: the task queries (one per part-producing task). */
export interface ModePlan {
  queries: { sql: string; label?: string }[];
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
