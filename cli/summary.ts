import type { RunResult } from '../shared/run/run-plan.js';
import { formatBytes, formatDuration, thousands } from './format-helpers.js';

export interface RunAggregate {
  run_aggregate_id: string;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  config_path: string;
  parallel_mode: 'sequential' | 'parallel-threads' | 'parallel-processes';
  total_exports: number;
  success_count: number;
  failed_count: number;
  skipped_count: number;
  total_rows: number;
  total_files: number;
  total_bytes: number;
  per_export: {
    export_name: string;
    status: string;
    run_id: string;
    rows: number;
    files: number;
    bytes: number;
    duration_ms: number;
    mode: string;
    error_message: string | null;
  }[];
}

export function buildAggregate(results: RunResult[], configPath: string, startedAt: Date, finishedAt: Date): RunAggregate {
  const iso = startedAt.toISOString();
  const id = `agg_${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}${iso.slice(20, 23)}`;
  const success = results.filter((r) => r.status === 'success').length;
  const failed = results.filter((r) => r.status === 'failed').length;
  return {
    run_aggregate_id: id,
    started_at: iso,
    finished_at: finishedAt.toISOString(),
    duration_ms: finishedAt.getTime() - startedAt.getTime(),
    config_path: configPath,
    parallel_mode: 'sequential',
    total_exports: results.length,
    success_count: success,
    failed_count: failed,
    skipped_count: results.length - success - failed,
    total_rows: results.reduce((n, r) => n + r.rows, 0),
    total_files: results.reduce((n, r) => n + r.files, 0),
    total_bytes: results.reduce((n, r) => n + r.bytes, 0),
    per_export: results.map((r) => ({
      export_name: r.exportName,
      status: r.status,
      run_id: r.runId,
      rows: r.rows,
      files: r.files,
      bytes: r.bytes,
      duration_ms: r.durationMs,
      mode: r.mode,
      error_message: r.error?.message ?? null,
    })),
  };
}

/** The block printed after a single-export run (stderr). */
export function exportBlock(r: RunResult, extra: { tuning: string; compression: string; format: string; checks?: [string, string][] }): string {
  const rows: [string, string][] = [
    ['run_id', r.runId || '(not started)'],
    ['status', r.status + (r.skipReason ? ` (${r.skipReason})` : '')],
    ['tuning', extra.tuning],
    ['rows', thousands(r.rows)],
    ['files', String(r.files)],
  ];
  if (r.bytes > 0) rows.push(['bytes', formatBytes(r.bytes)]);
  rows.push(['duration', formatDuration(r.durationMs)]);
  if (r.peakRssMb > 0) rows.push(['peak RSS', `${r.peakRssMb} MB (sampled during the run)`]);
  if (extra.format === 'parquet' && extra.compression !== 'zstd') rows.push(['compression', extra.compression]);
  rows.push(...(extra.checks ?? []));
  if (r.schemaChanged !== undefined) rows.push(['schema', r.schemaChanged ? 'changed' : 'unchanged']);
  for (const q of r.qualityIssues ?? []) rows.push(['quality', `${q.severity.toUpperCase()} ${q.message}`]);
  if (r.destination) rows.push(['output', r.destination]);
  if (r.error) {
    rows.push(['error', r.error.message]);
    if (r.error.hint) rows.push(['hint', r.error.hint]);
  }
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  const header = `── ${r.exportName} `.padEnd(60, '─');
  return ['', header, ...rows.map(([k, v]) => `  ${(k + ':').padEnd(width)}${v}`)].join('\n') + '\n';
}

/** The block printed after a multi-export run (stderr). */
export function aggregateBlock(a: RunAggregate, results: RunResult[]): string {
  const bar = '═'.repeat(56);
  const status = `${a.success_count} success · ${a.failed_count} failed` + (a.skipped_count ? ` · ${a.skipped_count} skipped` : '');
  const secs = a.duration_ms / 1000;
  const lines = [
    '',
    bar,
    `  Run summary — ${a.total_exports} exports`,
    bar,
    `  id:          ${a.run_aggregate_id}`,
    `  status:      ${status}`,
    `  rows:        ${a.total_rows}`,
    `  files:       ${a.total_files}`,
  ];
  if (a.total_bytes > 0) lines.push(`  bytes:       ${formatBytes(a.total_bytes)}`);
  lines.push(`  duration:    ${formatDuration(a.duration_ms)}`);
  if (secs > 0 && a.total_rows > 0) lines.push(`  throughput:  ${Math.round(a.total_rows / secs)} rows/s`);
  lines.push(`  mode:        ${a.parallel_mode}`, `  config:      ${a.config_path}`);
  const failed = results.filter((r) => r.status === 'failed');
  if (failed.length) {
    lines.push('', '  failed exports:');
    for (const r of failed) {
      const msg = r.error?.message ?? 'failed';
      lines.push(`    - ${r.exportName}: ${msg.length > 200 ? msg.slice(0, 200) + '…' : msg}`);
    }
  }
  return lines.join('\n') + '\n';
}
