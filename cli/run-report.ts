import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { redact } from '../shared/log/redact.js';
import type { ResolvedExport } from '../shared/run/run-deps.js';
import type { RunResult } from '../shared/run/run-plan.js';
import { formatBytes, thousands } from './format-helpers.js';

/**
 * The run report of docs/reference/cli.md: `<dir>/.rivet/runs/<run_id>/summary.json` and `summary.md`,
 * written by `rivet apply` under the plan file's directory (the reference prints its path only
 * there). What rivet does not measure (`source_engine`, PostgreSQL temp spill) stays null, as
 * in the reference; `quality_issues` is rivet's own addition.
 */
export interface RunReportContext {
  exp: ResolvedExport;
  /** Retries of the run's tasks, from its metrics row (null when the row could not be read). */
  retries: number | null;
  validation: { passed: boolean } | null;
  applyContext?: { plan_id: string; forced: boolean; force_bypassed: string[] };
  /** How to resume a failed checkpointed run (null when that is not possible). */
  resumeCommand: string | null;
  finishedAt: Date;
}

export async function writeRunReport(dir: string, r: RunResult, c: RunReportContext): Promise<string> {
  const out = join(dir, '.rivet', 'runs', r.runId);
  await mkdir(out, { recursive: true });
  const startedAt = new Date(c.finishedAt.getTime() - r.durationMs);
  const resumable = r.status === 'failed' && r.files > 0 && c.resumeCommand !== null;
  const summary = {
    run_id: r.runId,
    export_name: r.exportName,
    status: r.status,
    started_at: startedAt.toISOString(),
    finished_at: c.finishedAt.toISOString(),
    duration_ms: r.durationMs,
    source_engine: null,
    destination_kind: c.exp.destination.kind,
    format: c.exp.format,
    compression: c.exp.compression,
    tuning_profile: c.exp.tuning.profile,
    batch_size: c.exp.tuning.batchSize,
    total_rows: r.rows,
    files_produced: r.files,
    bytes_written: r.bytes,
    peak_rss_mb: r.peakRssMb,
    retries: c.retries,
    pg_temp_bytes_delta: null,
    validation: c.validation,
    reconciliation: null,
    schema_changed: r.schemaChanged ?? null,
    schema_changes: [],
    quality_issues: r.qualityIssues ?? [],
    plan_warnings: [],
    error_message: r.error ? redact(r.error.message) : null,
    resumable,
    resume_command: resumable ? c.resumeCommand : null,
    ...(c.applyContext ? { apply_context: c.applyContext } : {}),
  };
  await writeFile(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  const verdict = (v: { passed: boolean } | null) => (v ? (v.passed ? 'PASSED' : 'FAILED') : 'not requested');
  const md = [
    `# Rivet run: \`${r.runId}\``,
    '',
    `- Export: \`${r.exportName}\``,
    `- Status: **${r.status}**`,
    `- Started: ${summary.started_at}`,
    `- Finished: ${summary.finished_at}`,
    `- Duration: ${r.durationMs} ms (${(r.durationMs / 1000).toFixed(2)} s)`,
    ...(c.applyContext ? [`- Plan: \`${c.applyContext.plan_id}\`${c.applyContext.forced ? ` (forced: ${c.applyContext.force_bypassed.join(', ')})` : ''}`] : []),
    '',
    '## Plan',
    '',
    `- Destination: ${c.exp.destination.kind} (${r.destination})`,
    `- Format: ${c.exp.format}`,
    `- Compression: ${c.exp.compression}`,
    `- Tuning: profile=${c.exp.tuning.profileLabel}, batch_size=${thousands(c.exp.tuning.batchSize)}`,
    '',
    '## Throughput',
    '',
    `- Rows: ${thousands(r.rows)}`,
    `- Files: ${r.files}`,
    `- Bytes: ${formatBytes(r.bytes)}`,
    `- Peak RSS: ${r.peakRssMb} MB`,
    `- Retries: ${c.retries ?? 'unknown'}`,
    '- PG temp spill: not measured',
    '',
    '## Verdicts',
    '',
    `- Validation: ${verdict(c.validation)}`,
    '- Reconciliation: not requested',
    `- Schema: ${r.schemaChanged === undefined ? 'not judged' : r.schemaChanged ? 'changed' : 'unchanged'}`,
    ...(r.qualityIssues?.length ? ['', '## Quality', '', ...r.qualityIssues.map((q) => `- ${q.severity.toUpperCase()}: ${q.message}`)] : []),
    ...(r.error ? ['', '## Error', '', '```', redact(r.error.message), '```'] : []),
    '',
  ];
  const mdPath = join(out, 'summary.md');
  await writeFile(mdPath, md.join('\n'));
  return mdPath;
}
