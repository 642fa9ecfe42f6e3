import { EXIT_OK } from '../../shared/errors/rivet-error.js';
import type { FileRecord } from '../../shared/state/state-store.js';
import { formatBytes } from '../format-helpers.js';
import { openHistoryStore } from '../open-history-store.js';
import { writeJson, type OutputFormat } from '../output-format.js';
import { parseCount } from '../parse-count.js';

export interface StateFilesOptions {
  config: string;
  export?: string;
  last?: string;
  format?: OutputFormat;
}

/** `rivet state files` (docs/reference/state.md layout). Nothing recorded is not an error: exit 0. */
export async function stateFilesCommand(opts: StateFilesOptions, out: NodeJS.WritableStream): Promise<number> {
  const limit = parseCount(opts.last ?? '50', '--last');
  const store = openHistoryStore(opts.config);
  let files: (FileRecord & { createdAt: string })[] = [];
  try {
    files = store ? await store.recentFiles({ exportName: opts.export, limit }) : [];
  } finally {
    await store?.close();
  }
  if (opts.format === 'json') {
    writeJson(out, {
      files: files.map((f) => ({ export_name: f.exportName, run_id: f.runId, file_name: f.fileName, row_count: f.rowCount, bytes: f.bytes, format: f.format, compression: f.compression, created_at: f.createdAt })),
    });
    return EXIT_OK;
  }
  if (files.length === 0) {
    out.write(opts.export ? `No files recorded yet for export '${opts.export}'.\n` : 'No files recorded yet.\n');
    return EXIT_OK;
  }
  const lines = [
    `${'RUN ID'.padEnd(35)} ${'FILE'.padEnd(40)} ${'ROWS'.padStart(8)} ${'BYTES'.padStart(10)} CREATED`,
    '-'.repeat(110),
    ...files.map(
      (f) => `${f.runId.padEnd(35)} ${f.fileName.padEnd(40)} ${String(f.rowCount).padStart(8)} ${formatBytes(f.bytes).padStart(10)} ${f.createdAt}`,
    ),
  ];
  out.write(lines.join('\n') + '\n');
  return EXIT_OK;
}
