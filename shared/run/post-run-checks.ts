import { redact } from '../log/redact.js';
import { describeVerificationFailure } from './describe-verification-failure.js';
import { MANIFEST_KEY } from './layout.js';
import { parseManifest } from './manifest.js';
import { targetFromRoot } from './plan.js';
import type { ResolvedExport, RunDeps } from './run-deps.js';
import type { RunResult } from './run-plan.js';
import { sourceRowCount } from './source-row-count.js';
import { isFatal, verificationFailed, verifyPrefix, type PrefixVerification } from './verify-prefix.js';

/**
 * `--validate` and `--reconcile` (`rivet run`, `rivet cloud run`): checks that run after an
 * export's finalize, in whichever process finalized it (the CLI, the finalizer Lambda).
 *
 * Unlike the reference (whose verdicts never change the exit status), a check that does not
 * hold makes the export count as failed: the operator asked for the check, so a run whose
 * prefix does not verify, or whose row count differs from the source's, must not exit 0.
 * The committed dataset is left as it is (its `_SUCCESS` still vouches for a manifest that
 * matches its parts); the verdicts are added to the run's journal and metrics.
 */
export interface RunChecksWanted {
  validate: boolean;
  reconcile: boolean;
}

export interface ValidationVerdict {
  passed: boolean;
  /** Null when the destination cannot be read back (stdout). */
  manifest: PrefixVerification | null;
  skipped?: string;
}

export interface ReconciliationVerdict {
  source_count: number | null;
  exported_rows: number;
  matched: boolean;
  skipped?: string;
  error?: string;
}

export interface RunChecks {
  validation: ValidationVerdict | null;
  reconciliation: ReconciliationVerdict | null;
}

export async function runPostRunChecks(
  r: RunResult,
  exp: ResolvedExport,
  want: RunChecksWanted,
  deps: RunDeps,
): Promise<{ result: RunResult; checks: RunChecks }> {
  const checks: RunChecks = { validation: null, reconciliation: null };
  // Only a committed run has something to check; failed and skipped runs keep their own verdict.
  if (r.status !== 'success' || (!want.validate && !want.reconcile)) return { result: r, checks };
  const dest = r.prefix === undefined ? null : await deps.openDestination(targetFromRoot(exp, r.prefix));
  const readable = dest !== null && !dest.capabilities.streaming;
  const problems: { message: string; hint: string }[] = [];

  if (want.validate) {
    if (!readable) {
      checks.validation = { passed: true, manifest: null, skipped: 'the destination cannot be read back (stdout)' };
    } else {
      const v = await verifyPrefix(dest);
      checks.validation = { passed: !verificationFailed(v), manifest: v };
      if (verificationFailed(v)) {
        const fatal = v.failures.filter(isFatal);
        const more = fatal.length > 1 ? ` (and ${fatal.length - 1} more)` : '';
        problems.push({
          message: `export '${r.exportName}': --validate: the written prefix does not verify: ${fatal[0] ? describeVerificationFailure(fatal[0]) : 'not passed'}${more}`,
          hint: `see every failure with \`rivet validate -c <config> -e ${r.exportName} --prefix ${r.prefix}\``,
        });
      }
    }
  }

  if (want.reconcile) {
    checks.reconciliation = await reconcile(r, exp, readable ? dest : null, deps);
    const c = checks.reconciliation;
    if (c.error) {
      problems.push({ message: `export '${r.exportName}': --reconcile could not count the source rows: ${c.error}`, hint: 'check the source connection, or rerun without --reconcile' });
    } else if (!c.skipped && !c.matched) {
      problems.push({
        message: `export '${r.exportName}': --reconcile: the source query now yields ${c.source_count} rows but ${c.exported_rows} were exported`,
        hint: 'rows changed at the source during or after the export, or rows were lost; rerun the export and reconcile again',
      });
    }
  }

  await recordVerdicts(r, checks, deps);
  if (problems.length === 0) return { result: r, checks };
  return {
    result: {
      ...r,
      status: 'failed',
      error: { code: 'EXPORT_FAILED', message: redact(problems.map((p) => p.message).join('; ')), hint: problems[0].hint },
    },
    checks,
  };
}

/** Modes whose run covers the whole base query; incremental and time_window runs export a slice of it. */
const WHOLE_QUERY_MODES = new Set(['full', 'chunked']);

async function reconcile(
  r: RunResult,
  exp: ResolvedExport,
  dest: Awaited<ReturnType<RunDeps['openDestination']>> | null,
  deps: RunDeps,
): Promise<ReconciliationVerdict> {
  // The manifest's count covers every committed part (also parts adopted on resume); fall back to the run's rows.
  let exported = r.rows;
  const bytes = dest ? await dest.get(MANIFEST_KEY).catch(() => null) : null;
  const manifest = bytes ? parseManifest(bytes).manifest : null;
  if (manifest && manifest.run_id === r.runId) exported = manifest.row_count;
  if (!WHOLE_QUERY_MODES.has(exp.mode)) {
    return { source_count: null, exported_rows: exported, matched: false, skipped: `not applicable to ${exp.mode} mode (a run exports a slice of the query)` };
  }
  try {
    const count = await sourceRowCount(exp, deps);
    return { source_count: count, exported_rows: exported, matched: count === exported };
  } catch (e) {
    return { source_count: null, exported_rows: exported, matched: false, error: redact(e instanceof Error ? e.message : String(e)) };
  }
}

/** Journal events (docs/reference/state.md shapes) before RunCompleted, and the metrics row's `validated` flag. Never fatal. */
async function recordVerdicts(r: RunResult, checks: RunChecks, deps: RunDeps): Promise<void> {
  try {
    if (checks.validation && !checks.validation.skipped) await deps.state.markValidated(r.runId, checks.validation.passed);
    const journal = await deps.state.getJournal(r.runId);
    if (!journal) return;
    const events: Record<string, unknown>[] = [];
    if (checks.reconciliation && !checks.reconciliation.skipped && !checks.reconciliation.error) {
      const c = checks.reconciliation;
      events.push({ ReconciliationResult: { source_count: c.source_count, exported_rows: c.exported_rows, matched: c.matched } });
    }
    if (checks.validation && !checks.validation.skipped) events.push({ ValidationResult: { passed: checks.validation.passed } });
    const at = new Date().toISOString();
    const last = journal.entries.findLastIndex((e) => 'RunCompleted' in e.event);
    const insertAt = last < 0 ? journal.entries.length : last;
    journal.entries.splice(insertAt, 0, ...events.map((event) => ({ recorded_at: at, event })));
    for (const e of journal.entries) {
      const plan = e.event.PlanResolved as Record<string, unknown> | undefined;
      if (plan) Object.assign(plan, { validate: checks.validation !== null, reconcile: checks.reconciliation !== null });
    }
    await deps.state.saveJournal(journal);
  } catch (e) {
    deps.log.warn(`export '${r.exportName}': could not store the check verdicts in the state database: ${(e as Error).message}`);
  }
}
