import { loadConfig } from '../../shared/config/load.js';
import { EXIT_OK, RivetError } from '../../shared/errors/rivet-error.js';
import { createLogger } from '../../shared/log/logger.js';
import type { ProgressionBoundary } from '../../shared/state/cursor-store.js';
import { openHistoryStore } from '../open-history-store.js';
import { writeJson, type OutputFormat } from '../output-format.js';

/**
 * `rivet state show | reset | progression`: the incremental cursors and the committed /
 * verified boundaries (docs/reference/state.md layouts). Reading commands never load the config (no
 * credentials or params needed) and exit 0 when nothing is recorded; `reset` loads it,
 * so a typo in the export name is refused (exit 2) instead of silently resetting nothing.
 */
export interface StateCursorOptions {
  config: string;
  export?: string;
  format?: OutputFormat;
}

export async function stateShowCommand(opts: StateCursorOptions, out: NodeJS.WritableStream): Promise<number> {
  const store = openHistoryStore(opts.config);
  try {
    const cursors = store ? await store.listCursors() : [];
    if (opts.format === 'json') {
      writeJson(out, { cursors: cursors.map((c) => ({ export_name: c.exportName, cursor: c.cursor, last_run_at: c.lastRunAt })) });
    } else if (cursors.length > 0) {
      const lines = [`${'EXPORT'.padEnd(30)} ${'LAST CURSOR'.padEnd(40)} LAST RUN`, '-'.repeat(90)];
      for (const c of cursors) lines.push(`${c.exportName.padEnd(30)} ${(c.cursor ?? '-').padEnd(40)} ${c.lastRunAt ?? '-'}`);
      out.write(lines.join('\n') + '\n');
    } else if (store && (await store.recentMetrics({ limit: 1 })).length > 0) {
      out.write(
        [
          'No incremental cursor has been recorded yet.',
          '  Cursors are stored only by exports with `mode: incremental`, after a run commits rows.',
          '  Other modes keep no cursor; their history is elsewhere:',
          `    rivet metrics -c ${opts.config}       (one line per run)`,
          `    rivet state files -c ${opts.config}   (the files each run wrote)`,
        ].join('\n') + '\n',
      );
    } else {
      out.write(`Nothing has run yet for this config.\n  Run \`rivet run --config ${opts.config}\` first, then \`rivet state show\` again.\n`);
    }
  } finally {
    await store?.close();
  }
  return EXIT_OK;
}

export async function stateResetCommand(opts: StateCursorOptions & { export: string }, out: NodeJS.WritableStream): Promise<number> {
  const loaded = await loadConfig(opts.config, { params: {}, log: createLogger() });
  const names = loaded.config.exports.map((e) => e.name);
  if (!names.includes(opts.export)) {
    throw new RivetError('USAGE', `export '${opts.export}' is not in ${opts.config} (exports: ${names.length ? names.join(', ') : '(none defined)'})`, {
      hint: `check the spelling, or list the exports that have a cursor with \`rivet state show -c ${opts.config}\``,
    });
  }
  const store = openHistoryStore(opts.config);
  let removed = false;
  try {
    removed = store ? await store.resetCursor(opts.export) : false;
  } finally {
    await store?.close();
  }
  out.write(
    removed
      ? `State reset for export '${opts.export}': its next run exports every row again and starts a new dataset.\n`
      : `State reset for export '${opts.export}' (it had no stored cursor).\n`,
  );
  return EXIT_OK;
}

export async function stateProgressionCommand(opts: StateCursorOptions, out: NodeJS.WritableStream): Promise<number> {
  const store = openHistoryStore(opts.config);
  try {
    const rows = store ? await store.listProgression(opts.export) : [];
    if (opts.format === 'json') {
      writeJson(out, { exports: rows.map((r) => ({ export_name: r.exportName, committed: boundaryJson(r.committed), verified: boundaryJson(r.verified) })) });
      return EXIT_OK;
    }
    if (rows.length === 0) {
      out.write(opts.export ? `No progression boundaries recorded yet for export '${opts.export}'.\n` : 'No progression boundaries recorded yet.\n');
      return EXIT_OK;
    }
    const lines = [
      `${'EXPORT'.padEnd(30)} ${'COMM MODE'.padEnd(12)} ${'COMMITTED'.padEnd(30)} ${'COMMITTED AT'.padEnd(25)} ${'VERI MODE'.padEnd(12)} VERIFIED`,
      '-'.repeat(145),
    ];
    for (const r of rows) {
      lines.push(
        [
          r.exportName.padEnd(30),
          (r.committed?.strategy ?? '-').padEnd(12),
          boundaryValue(r.committed).padEnd(30),
          (r.committed ? utcText(r.committed.at) : '-').padEnd(25),
          (r.verified?.strategy ?? '-').padEnd(12),
          boundaryValue(r.verified),
        ].join(' '),
      );
    }
    out.write(lines.join('\n') + '\n');
  } finally {
    await store?.close();
  }
  return EXIT_OK;
}

function boundaryJson(b: ProgressionBoundary | null) {
  return b && { strategy: b.strategy, cursor: b.cursor, chunk_index: b.chunkIndex, run_id: b.runId, at: b.at };
}

function boundaryValue(b: ProgressionBoundary | null): string {
  if (!b) return '-';
  if (b.cursor !== null) return b.cursor;
  if (b.chunkIndex !== null) return `chunk #${b.chunkIndex}`;
  return '-';
}

/** `%Y-%m-%d %H:%M:%S UTC`. */
function utcText(at: string): string {
  return `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
