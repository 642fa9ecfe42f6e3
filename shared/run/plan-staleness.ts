/**
 * How old a plan may be when applied (docs/commands/plan.md): chunk ranges and cursor snapshots
 * describe the source as it was, so an old plan is refused unless the operator insists.
 */
export const PLAN_WARN_AFTER_MS = 3_600_000;
export const PLAN_REFUSE_AFTER_MS = 24 * PLAN_WARN_AFTER_MS;

export type Staleness =
  | { verdict: 'fresh'; ageMs: number }
  | { verdict: 'warn'; ageMs: number; message: string }
  | { verdict: 'refuse'; ageMs: number; message: string };

/** Pure: the verdict for a plan created at `createdAt` and applied at `now`. */
export function planStaleness(exportName: string, createdAt: string, now: Date): Staleness {
  const ageMs = Math.max(0, now.getTime() - Date.parse(createdAt));
  if (ageMs < PLAN_WARN_AFTER_MS) return { verdict: 'fresh', ageMs };
  if (ageMs < PLAN_REFUSE_AFTER_MS) {
    return {
      verdict: 'warn',
      ageMs,
      message: `the plan for export '${exportName}' is ${Math.floor(ageMs / 60_000)} minutes old; its chunk ranges and cursor snapshot may no longer match the source — regenerate it with \`rivet plan\` if in doubt`,
    };
  }
  const hours = Math.floor(ageMs / 3_600_000);
  const age = ageMs >= 2 * PLAN_REFUSE_AFTER_MS ? `${Math.floor(hours / 24)} days (created ${createdAt.slice(0, 10)})` : `${hours} hours`;
  return {
    verdict: 'refuse',
    ageMs,
    message: `the plan for export '${exportName}' is ${age} old, past the 24 h limit for applying a plan`,
  };
}
