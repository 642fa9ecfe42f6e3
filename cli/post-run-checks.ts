import type { RunAggregate } from './summary.js';
import type { ReconciliationVerdict, RunChecks, RunChecksWanted, ValidationVerdict } from '../shared/run/post-run-checks.js';

export type { ReconciliationVerdict, RunChecks, RunChecksWanted, ValidationVerdict } from '../shared/run/post-run-checks.js';

/** How the CLI shows the post-run checks' verdicts (shared/run/post-run-checks.ts decides them). */

/** Summary-block rows for one export (`validate:`, `reconcile:`). */
export function checkRows(checks: RunChecks): [string, string][] {
  const rows: [string, string][] = [];
  const v = checks.validation;
  if (v) {
    if (v.skipped) rows.push(['validate', `skipped (${v.skipped})`]);
    else if (v.manifest) {
      const m = v.manifest;
      rows.push(['validate', `${v.passed ? 'PASSED' : 'FAILED'} (${m.parts_verified} parts verified by content, ${m.parts_failed} failed, _SUCCESS ${m.success_marker_consistent ? 'consistent' : 'not consistent'})`]);
    }
  }
  const c = checks.reconciliation;
  if (c) {
    if (c.skipped) rows.push(['reconcile', `skipped (${c.skipped})`]);
    else if (c.error) rows.push(['reconcile', `ERROR (${c.error})`]);
    else rows.push(['reconcile', `${c.matched ? 'MATCH' : 'MISMATCH'} (source ${c.source_count}, exported ${c.exported_rows})`]);
  }
  return rows;
}

/** Lines under the multi-export aggregate block: how many exports passed each requested check. */
export function checksSummary(all: RunChecks[]): string {
  const lines: string[] = [];
  const v = all.map((c) => c.validation).filter((x): x is ValidationVerdict => x !== null && !x.skipped);
  if (v.length) lines.push(`  validate:    ${v.filter((x) => x.passed).length} PASSED · ${v.filter((x) => !x.passed).length} FAILED`);
  const r = all.map((c) => c.reconciliation).filter((x): x is ReconciliationVerdict => x !== null && !x.skipped);
  if (r.length) lines.push(`  reconcile:   ${r.filter((x) => x.matched).length} MATCH · ${r.filter((x) => !x.matched).length} MISMATCH/ERROR`);
  return lines.length ? lines.join('\n') + '\n' : '';
}

/**
 * The aggregate's per-export entries gain `validation` and `reconciliation` (the run
 * report's shapes, docs/reference/cli.md) when a check was requested; without the flags the
 * aggregate keeps the reference's exact fields.
 */
export function withChecks(a: RunAggregate, checks: RunChecks[], want: RunChecksWanted): RunAggregate {
  if (!want.validate && !want.reconcile) return a;
  return {
    ...a,
    per_export: a.per_export.map((e, i) => ({
      ...e,
      ...(want.validate ? { validation: checks[i]?.validation ?? null } : {}),
      ...(want.reconcile ? { reconciliation: checks[i]?.reconciliation ?? null } : {}),
    })),
  };
}
