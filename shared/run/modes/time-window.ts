import { RivetError } from '../../errors/rivet-error.js';
import type { ModePlanner } from './mode-planner.js';

const DAY_MS = 86_400_000;

/**
 * The window's lower bound: UTC midnight of the day `daysWindow` days before `now`
 * (docs/modes.md). Computed once at plan time, so every task of a run and a run spanning
 * midnight use the same cutoff.
 */
export function timeWindowCutoff(now: Date, daysWindow: number): Date {
  const day = Math.floor((now.getTime() - daysWindow * DAY_MS) / DAY_MS);
  return new Date(day * DAY_MS);
}

/**
 * `time_window`: the rows of the last `days_window` days, as a snapshot like `full` (each
 * run's manifest lists only its own parts). No upper bound and no state. The predicate
 * comes from the source's dialect: zoned columns are cut at UTC midnight, zone-less ones
 * by wall clock, as the reference does.
 */
export const planTimeWindow: ModePlanner = async ({ exp, source, now, log }) => {
  const tw = exp.timeWindow;
  if (!tw) throw new RivetError('INTERNAL', `export '${exp.name}': mode time_window without a resolved time column`);
  const cutoff = timeWindowCutoff(now, tw.daysWindow);
  log.info(`export '${exp.name}': time window ${tw.column} >= ${tw.columnType === 'unix' ? String(cutoff.getTime() / 1000) : cutoff.toISOString()}`);
  return {
    queries: [{ sql: source.dialect.timeWindowSql(exp.sql, tw.column, cutoff, tw.columnType), label: `${tw.column} >= ${cutoff.toISOString().slice(0, 10)}` }],
  };
};
