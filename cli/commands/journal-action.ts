import { EXIT_OK } from '../../shared/errors/rivet-error.js';
import type { RunJournal } from '../../shared/state/state-store.js';
import { formatBytes, formatShortDuration, thousands } from '../format-helpers.js';
import { openHistoryStore } from '../open-history-store.js';
import { writeJson, type OutputFormat } from '../output-format.js';
import { parseCount } from '../parse-count.js';

export interface JournalCommandOptions {
  config: string;
  export: string;
  last?: string;
  runId?: string;
  format?: OutputFormat;
}

/** `rivet journal` (docs/reference/state.md layout). Nothing found is not an error: exit 0. */
export async function journalCommand(opts: JournalCommandOptions, out: NodeJS.WritableStream): Promise<number> {
  const limit = parseCount(opts.last ?? '5', '--last');
  const store = openHistoryStore(opts.config);
  let journals: RunJournal[] = [];
  try {
    if (store && opts.runId !== undefined) {
      const one = await store.getJournal(opts.runId);
      journals = one ? [one] : [];
    } else if (store) {
      journals = await store.recentJournals(opts.export, limit);
    }
  } finally {
    await store?.close();
  }
  if (opts.format === 'json') {
    // The journal as stored: its events are already snake_case, one object per entry.
    writeJson(out, { journals });
    return EXIT_OK;
  }
  if (journals.length === 0) {
    out.write(
      opts.runId !== undefined
        ? `Run '${opts.runId}' has no journal.\n`
        : `Export '${opts.export}' has no journal yet.\nEvery \`rivet run\` stores one; run the export first.\n`,
    );
    return EXIT_OK;
  }
  out.write(journals.map(journalBlock).join('') + '\n');
  return EXIT_OK;
}

type Events = Record<string, Record<string, unknown>>;

function journalBlock(j: RunJournal): string {
  const events = j.entries.map((e) => e.event as Events);
  const of = (name: string) => events.filter((e) => name in e).map((e) => e[name]);
  const completed = of('RunCompleted').at(-1);
  const status = completed ? String(completed.status) : '(incomplete)';
  const icon = status === 'success' ? '✓' : status === 'failed' ? '✗' : '•';
  const duration = completed && typeof completed.duration_ms === 'number' ? `  ${formatShortDuration(completed.duration_ms)}` : '';
  const lines = ['', `${icon} ${j.export_name}  ${status}${duration}`, `  run_id: ${j.run_id}`];

  const files = of('FileWritten');
  if (files.length) {
    const rows = files.reduce((n, f) => n + Number(f.rows ?? 0), 0);
    const bytes = files.reduce((n, f) => n + Number(f.bytes ?? 0), 0);
    lines.push(`  files:  ${files.length}  rows: ${thousands(rows)}  size: ${formatBytes(bytes)}`);
  }
  const retries = of('RetryAttempted').length;
  if (retries) lines.push(`  retries: ${retries}`);
  for (const q of of('QualityIssue')) lines.push(`  quality [${String(q.severity)}]: ${String(q.message)}`);
  for (const s of of('SchemaChanged')) {
    const added = (s.added as string[] | undefined) ?? [];
    const removed = (s.removed as string[] | undefined) ?? [];
    const changed = (s.type_changed as [string, string, string][] | undefined) ?? [];
    if (added.length) lines.push(`  schema: ${added.map((c) => `+${c}`).join(', ')}`);
    if (removed.length) lines.push(`  schema: ${removed.map((c) => `-${c}`).join(', ')}`);
    for (const [col, from, to] of changed) lines.push(`  schema: ${col} ${from}→${to}`);
  }
  for (const r of of('RepairApplied')) {
    const replaced = (r.replaced as string[] | undefined) ?? [];
    lines.push(`  repair: chunk(s) ${((r.chunks as number[] | undefined) ?? []).join(', ')} of run ${String(r.reconcile_run_id)}${replaced.length ? `, replacing ${replaced.join(', ')}` : ''}`);
  }
  for (const p of of('ParallelismAdjusted')) lines.push(`  parallelism: ${String(p.from)} → ${String(p.to)} (${String(p.reason)})`);
  for (const v of of('ValidationResult')) lines.push(`  validate: ${v.passed ? 'PASSED' : 'FAILED'}`);
  for (const r of of('ReconciliationResult')) {
    lines.push(`  reconcile: ${r.matched ? 'MATCH' : 'MISMATCH'} (source ${String(r.source_count)}, exported ${String(r.exported_rows)})`);
  }
  const error = completed?.error_message;
  if (typeof error === 'string' && error) lines.push(`  error:  ${error.split('\n')[0]}`);
  return lines.join('\n') + '\n';
}
