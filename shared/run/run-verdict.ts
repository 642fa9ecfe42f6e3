import type { Logger } from '../log/logger.js';
import { rowCountIssues, type QualityIssue } from '../quality/quality-tracker.js';
import { describeSchemaDiff, diffSchemas, driftColumns, mergedMax, shapeDrift, type SchemaColumn } from '../quality/schema-drift.js';
import type { HistoryStore, JournalEntry } from '../state/state-store.js';
import type { ResolvedExport } from './run-deps.js';
import type { Failure, Receipt } from './run-plan.js';

/** What the run-level checks decided, before anything is committed. */
export interface RunVerdict {
  /** Set when a check fails the run: nothing is committed and the cursor stays. */
  failure?: Failure;
  qualityIssues: QualityIssue[];
  /** Undefined when drift was not judged (no rows, or the run failed before). */
  schemaChanged?: boolean;
  /** Journal events of the checks, recorded with the run. */
  events: JournalEntry['event'][];
}

/**
 * Journals searched for the export's last schema snapshot: the latest few first (where it
 * almost always is), the longer stretch only when those hold none — a state store on
 * DynamoDB pays per journal read, on every run.
 */
const SNAPSHOT_LOOKBACKS = [10, 200];

/**
 * The run-level checks of one export, on the receipts of its tasks: `quality:` (a single
 * task's verdicts, or for a chunked run the row-count bounds on its total) and schema and
 * shape drift against the snapshot the export's last successful run journaled. Both
 * drivers call this from `finalize`, so a deployed run and `rivet run` judge alike.
 *
 * Unlike the reference, a drift `fail` is decided before the commit: the run fails with the
 * previous dataset and cursor in place, instead of failing after both moved on.
 */
export async function judgeRun(exp: ResolvedExport, receipts: readonly Receipt[], rows: number, taskCount: number, history: HistoryStore, log: Logger): Promise<RunVerdict> {
  const events: JournalEntry['event'][] = [];
  const qualityIssues = qualityOf(exp, receipts, rows, taskCount);
  for (const q of qualityIssues) {
    if (q.severity === 'fail') log.error(`quality FAIL: ${q.message}`);
    else log.warn(`quality WARN: ${q.message}`);
    events.push({ QualityIssue: { severity: q.severity, message: q.message } });
  }
  const fails = qualityIssues.filter((q) => q.severity === 'fail');
  if (fails.length > 0) {
    const what = exp.mode === 'chunked' || taskCount > 1 ? 'quality checks failed on the chunked aggregate' : 'quality checks failed';
    return {
      failure: { code: 'QUALITY', message: `export '${exp.name}': ${what}: ${fails.map((f) => f.message).join('; ')}`, hint: 'nothing was committed; fix the data at the source or the bounds in `quality:`' },
      qualityIssues,
      events,
    };
  }

  const current = receipts.find((r) => r.columns.length > 0)?.columns ?? [];
  if (rows === 0 || current.length === 0) return { qualityIssues, events };
  const textMax: Record<string, number> = {};
  for (const r of receipts) for (const [c, v] of Object.entries(r.textMax ?? {})) textMax[c] = Math.max(textMax[c] ?? 0, v);

  const stored = await lastSnapshot(history, exp.name);
  const drift = exp.schemaDrift ?? { policy: 'warn' as const, shapeFactor: 2 };
  const diff = stored ? diffSchemas(stored.columns, current) : null;
  if (diff) {
    events.push({
      SchemaChanged: { added: diff.added.map((c) => `${c.name} (${c.type})`), removed: diff.removed, type_changed: diff.retyped.map((c) => [c.name, c.from, c.to]) },
    });
    const lines = describeSchemaDiff(diff);
    if (drift.policy === 'fail') {
      log.error(`export '${exp.name}': the schema changed since the last run`);
      for (const l of lines) log.error(`  ${l}`);
      return {
        failure: {
          code: 'SCHEMA_DRIFT',
          message: `export '${exp.name}': schema drift detected: ${diff.added.length} added, ${diff.removed.length} removed, ${diff.retyped.length} retyped column(s)`,
          hint: 'nothing was committed; set `on_schema_drift: warn` to accept the new schema, or fix the mismatch at the source',
        },
        qualityIssues,
        schemaChanged: true,
        events,
      };
    }
    if (drift.policy === 'warn') {
      log.warn(`export '${exp.name}': the schema changed since the last run`);
      for (const l of lines) log.warn(`  ${l}`);
    }
  }
  for (const s of shapeDrift(stored?.textMax ?? {}, textMax, drift.shapeFactor)) {
    const message = `export '${exp.name}': column ${s.column} grew ${s.growth.toFixed(1)}× (longest value ${s.from} → ${s.to} bytes); raise shape_drift_warn_factor to silence this`;
    log.warn(message);
    events.push({ Warning: { context: `shape_drift:${s.column}`, message } });
  }
  // The snapshot the next run compares with; journaled only if this run commits.
  events.push({ SchemaSnapshot: { columns: driftColumns(current), text_max: mergedMax(stored?.textMax ?? {}, textMax) } });
  return { qualityIssues, schemaChanged: diff !== null, events };
}

function qualityOf(exp: ResolvedExport, receipts: readonly Receipt[], rows: number, taskCount: number): QualityIssue[] {
  const q = exp.quality;
  if (!q) return [];
  if (exp.mode === 'chunked' || taskCount > 1) {
    const issues = rowCountIssues(q, rows);
    if (q.null_ratio_max !== undefined || q.unique_columns !== undefined) {
      issues.push({ severity: 'warn', message: `export '${exp.name}': a chunked run checks only row_count_min/row_count_max on its total; null_ratio_max and unique_columns were not checked` });
    }
    return issues;
  }
  return receipts[0]?.qualityIssues ?? rowCountIssues(q, rows);
}

async function lastSnapshot(history: HistoryStore, exportName: string): Promise<{ columns: SchemaColumn[]; textMax: Record<string, number> } | null> {
  for (const limit of SNAPSHOT_LOOKBACKS) {
    // Newest first, so the first snapshot found within the shorter stretch is the one the longer would find.
    const journals = await history.recentJournals(exportName, limit);
    for (const j of journals) {
      const completed = j.entries.find((e) => 'RunCompleted' in e.event)?.event.RunCompleted as { status?: string } | undefined;
      if (completed?.status !== 'success') continue;
      const snap = j.entries.find((e) => 'SchemaSnapshot' in e.event)?.event.SchemaSnapshot as { columns?: SchemaColumn[]; text_max?: Record<string, number> } | undefined;
      if (snap?.columns) return { columns: snap.columns, textMax: snap.text_max ?? {} };
    }
    if (journals.length < limit) return null;
  }
  return null;
}
