import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../../shared/config/load.js';
import { EXIT_OK, RivetError } from '../../shared/errors/rivet-error.js';
import { createLogger } from '../../shared/log/logger.js';
import { defaultStatePath } from '../../shared/state/sqlite-state-store.js';
import type { ChunkRunRow, ChunkTaskRow } from '../../shared/state/chunk-store.js';
import { openHistoryStore } from '../open-history-store.js';
import { writeJson, type OutputFormat } from '../output-format.js';

/**
 * `rivet state chunks` and `rivet state reset-chunks`: the checkpoints of chunked exports
 * (docs/reference/state.md layouts). Neither loads the config to read or delete by export name, so
 * they work without the source's credentials; `--stuck-checkpoints` loads it for the names.
 */
export interface StateChunksOptions {
  config: string;
  export?: string;
  stuckCheckpoints?: boolean;
  failed?: boolean;
  format?: OutputFormat;
}

export async function stateChunksCommand(opts: StateChunksOptions & { export: string }, out: NodeJS.WritableStream): Promise<number> {
  const store = openHistoryStore(opts.config);
  try {
    const run = store ? await store.latestChunkRun(opts.export) : null;
    if (opts.format === 'json') {
      const tasks = store && run ? await store.chunkTasks(run.runId) : [];
      writeJson(out, { export_name: opts.export, run: run && chunkRunJson(run, tasks) });
      return EXIT_OK;
    }
    out.write(`database:   ${defaultStatePath(resolve(opts.config))}\n`);
    if (!store || !run) {
      out.write(`No chunk checkpoint records for export '${opts.export}'.\n`);
      return EXIT_OK;
    }
    const lines = [
      `export:     ${run.exportName}`,
      `run_id:     ${run.runId}`,
      `plan_hash:  ${run.planHash}`,
      `status:     ${run.status}`,
      `updated_at: ${run.updatedAt}`,
      '',
      `${'IDX'.padEnd(6)} ${'STATUS'.padEnd(12)} ${'START'.padEnd(18)} ${'END'.padEnd(18)} ${'ATT'.padStart(4)} ${'ROWS'.padStart(8)} FILE`,
      '-'.repeat(90),
    ];
    for (const t of await store.chunkTasks(run.runId)) lines.push(...taskLines(t));
    out.write(lines.join('\n') + '\n');
    return EXIT_OK;
  } finally {
    await store?.close();
  }
}

function chunkRunJson(run: ChunkRunRow, tasks: ChunkTaskRow[]) {
  return {
    run_id: run.runId,
    plan_hash: run.planHash,
    status: run.status,
    max_chunk_attempts: run.maxChunkAttempts,
    created_at: run.createdAt,
    updated_at: run.updatedAt,
    chunks: tasks.map((t) => ({
      chunk_index: t.chunkIndex,
      status: t.status,
      start_key: t.startKey,
      end_key: t.endKey,
      attempts: t.attempts,
      rows_written: t.rowsWritten,
      file_name: t.fileName,
      last_error: t.lastError,
      updated_at: t.updatedAt,
    })),
  };
}

function taskLines(t: ChunkTaskRow): string[] {
  const line = `${String(t.chunkIndex).padEnd(6)} ${t.status.padEnd(12)} ${t.startKey.padEnd(18)} ${t.endKey.padEnd(18)} ${String(t.attempts).padStart(4)} ${(t.rowsWritten === null ? '-' : String(t.rowsWritten)).padStart(8)} ${t.fileName ?? '-'}`;
  // Failed chunks say why; so do chunks a resume reset (their reason starts with `M8 reset:`).
  return t.lastError && t.status !== 'completed' ? [line, `       error: ${t.lastError}`] : [line];
}

export async function stateResetChunksCommand(opts: StateChunksOptions, out: NodeJS.WritableStream): Promise<number> {
  const stuck = opts.stuckCheckpoints === true || opts.failed === true;
  if ((opts.export ? 1 : 0) + (stuck ? 1 : 0) !== 1) {
    throw new RivetError('USAGE', 'rivet state reset-chunks needs exactly one of --export <name> or --stuck-checkpoints (alias --failed)', {
      hint: `e.g. \`rivet state reset-chunks -c ${opts.config} -e <export>\``,
    });
  }
  if (!existsSync(resolve(opts.config))) {
    throw new RivetError('CONFIG_NOT_FOUND', `config file not found: ${opts.config}`, { hint: 'check the path given to --config' });
  }
  const store = openHistoryStore(opts.config);
  try {
    const removedLine = async (name: string) => `Removed ${store ? await store.deleteChunkRuns(name) : 0} chunk run record(s) for export '${name}'.`;
    if (opts.export) {
      out.write(`${await removedLine(opts.export)}\n`);
      return EXIT_OK;
    }
    const loaded = await loadConfig(opts.config, { params: {}, log: createLogger() });
    const known = new Set(loaded.config.exports.map((e) => e.name));
    const inProgress = store ? await store.inProgressChunkExports() : [];
    const lines: string[] = [];
    for (const name of inProgress.filter((n) => !known.has(n))) {
      lines.push(`Skipping '${name}': its chunk checkpoint is still in progress but it is not in ${opts.config}.`);
    }
    const targets = inProgress.filter((n) => known.has(n));
    if (targets.length === 0) {
      lines.push('Nothing is stuck in progress.', `  (no chunk_run has status 'in_progress' in ${defaultStatePath(resolve(opts.config))})`);
    } else {
      lines.push(`Resetting chunk checkpoints for ${targets.length} export(s) with in-progress runs: ${targets.join(', ')}`);
      for (const name of targets) lines.push(await removedLine(name));
    }
    out.write(lines.join('\n') + '\n');
    return EXIT_OK;
  } finally {
    await store?.close();
  }
}
