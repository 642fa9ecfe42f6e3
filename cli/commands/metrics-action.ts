import { EXIT_OK } from '../../shared/errors/rivet-error.js';
import type { MetricsRow } from '../../shared/state/state-store.js';
import { formatBytes, formatShortDuration } from '../format-helpers.js';
import { openHistoryStore } from '../open-history-store.js';
import { writeJson, type OutputFormat } from '../output-format.js';
import { parseCount } from '../parse-count.js';

export interface MetricsCommandOptions {
  config: string;
  export?: string;
  last?: string;
  format?: OutputFormat;
}

/** `rivet metrics` (docs/reference/state.md layout). "Nothing recorded" is not an error: exit 0. */
export async function metricsCommand(opts: MetricsCommandOptions, out: NodeJS.WritableStream): Promise<number> {
  const limit = parseCount(opts.last ?? '20', '--last');
  const store = openHistoryStore(opts.config);
  let rows: MetricsRow[] = [];
  try {
    rows = store ? await store.recentMetrics({ exportName: opts.export, limit }) : [];
  } finally {
    await store?.close();
  }
  if (opts.format === 'json') {
    writeJson(out, { runs: rows.map(metricsJson) });
    return EXIT_OK;
  }
  if (rows.length === 0) {
    out.write(opts.export ? `No metrics recorded yet for export '${opts.export}'.\n` : 'No metrics recorded yet.\n');
    return EXIT_OK;
  }
  const lines = [
    `${'EXPORT'.padEnd(20)} ${'STATUS'.padEnd(10)} ${'ROWS'.padStart(10)} ${'DURATION'.padStart(10)} ${'RSS'.padStart(8)} ${'FILES'.padStart(6)} ${'BYTES'.padStart(10)} RUN ID`,
    '-'.repeat(110),
  ];
  for (const r of rows) {
    lines.push(
      [
        r.exportName.padEnd(20),
        r.status.padEnd(10),
        String(r.totalRows).padStart(10),
        formatShortDuration(r.durationMs).padStart(10),
        (r.peakRssMb > 0 ? `${r.peakRssMb}MB` : '-').padStart(8),
        String(r.filesProduced).padStart(6),
        (r.bytesWritten > 0 ? formatBytes(r.bytesWritten) : '-').padStart(10),
        r.runId || r.runAt,
      ].join(' '),
    );
    if (r.errorMessage) lines.push(`  Error: ${r.errorMessage}`);
    const flags = [
      ...(r.retries > 0 ? [`retries=${r.retries}`] : []),
      ...(r.validated === null ? [] : [`validated=${r.validated ? 'pass' : 'FAIL'}`]),
      ...(r.schemaChanged === null || r.schemaChanged === undefined ? [] : [`schema=${r.schemaChanged ? 'CHANGED' : 'ok'}`]),
    ];
    if (flags.length) lines.push(`  ${flags.join('  ')}`);
  }
  out.write(lines.join('\n') + '\n');
  return EXIT_OK;
}

/** One run in `rivet metrics --format json` (docs/commands/metrics.md). */
function metricsJson(r: MetricsRow) {
  return {
    export_name: r.exportName,
    run_id: r.runId,
    run_at: r.runAt,
    status: r.status,
    mode: r.mode,
    format: r.format,
    tuning_profile: r.tuningProfile,
    total_rows: r.totalRows,
    duration_ms: r.durationMs,
    peak_rss_mb: r.peakRssMb,
    files_produced: r.filesProduced,
    bytes_written: r.bytesWritten,
    retries: r.retries,
    validated: r.validated,
    schema_changed: r.schemaChanged ?? null,
    error_message: r.errorMessage,
  };
}
