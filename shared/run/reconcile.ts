import { z } from 'zod';
import { RivetError } from '../errors/rivet-error.js';
import type { Logger } from '../log/logger.js';
import type { OpenSource } from '../source/source.js';
import type { StateStore } from '../state/state-store.js';
import { chunkColumnName, chunkQueryBuilder, predicateFromKeys } from './chunk-keys.js';
import { rivetVersion } from './rivet-version.js';
import type { ResolvedExport } from './run-deps.js';
import { probeRows } from './source-probe.js';

/**
 * `rivet reconcile` (docs/commands/reconcile.md): for every chunk of the export's latest checkpointed run,
 * COUNT(*) of the very chunk query the run exported, against the rows the run recorded for
 * that chunk. Advisory: it reads, never writes data; a clean result records the verified
 * progression.
 */

export const PartitionSchema = z.object({
  kind: z.literal('chunk'),
  identifier: z.string(),
  source_count: z.number().int().nullable(),
  exported_count: z.number().int().nullable(),
  status: z.enum(['match', 'mismatch', 'unknown']),
  note: z.string().optional(),
});
export type Partition = z.infer<typeof PartitionSchema>;

export const ReconcileReportSchema = z.object({
  rivet_version: z.string(),
  export_name: z.string(),
  run_id: z.string(),
  strategy: z.literal('chunked'),
  partitions: z.array(PartitionSchema),
  summary: z.object({
    total_partitions: z.number().int(),
    matches: z.number().int(),
    mismatches: z.number().int(),
    unknown: z.number().int(),
    total_source_rows: z.number().int(),
    total_exported_rows: z.number().int(),
  }),
});
export type ReconcileReport = z.infer<typeof ReconcileReportSchema>;

export interface ReconcileDeps {
  openSource: OpenSource;
  state: StateStore;
  log: Logger;
}

const MODE_LABELS: Record<ResolvedExport['mode'], string> = { full: 'full (snapshot)', incremental: 'incremental', chunked: 'chunked', time_window: 'time_window' };
const modeOf = (exp: ResolvedExport) => `export '${exp.name}' (mode ${MODE_LABELS[exp.mode]})`;

/** Reconcile partitions exist only for chunked exports; the others are refused with what to do instead. */
export function assertReconcilable(exp: ResolvedExport, command: 'reconcile' | 'repair'): void {
  if (exp.mode === 'chunked') return;
  if (command === 'repair') {
    throw new RivetError('USAGE', `repair: ${modeOf(exp)} cannot be repaired: repair handles chunked exports only`, {
      hint: 'rerun the export with `rivet run` to rewrite it',
    });
  }
  if (exp.mode === 'time_window') {
    throw new RivetError('USAGE', `reconcile: ${modeOf(exp)} cannot be reconciled: reconcile does not handle time_window exports`, {
      hint: 'switch it to `mode: chunked` with `chunk_by_days:` (and `chunk_checkpoint: true`) to reconcile it day by day',
    });
  }
  throw new RivetError('USAGE', `reconcile: ${modeOf(exp)} has no partitions to compare`, {
    hint: 'use `rivet run --reconcile` to compare its total row count with the source',
  });
}

export async function reconcileExport(exp: ResolvedExport, deps: ReconcileDeps): Promise<ReconcileReport> {
  assertReconcilable(exp, 'reconcile');
  const run = await deps.state.latestChunkRun(exp.name);
  if (!run) {
    throw new RivetError('USAGE', `reconcile: no chunk run is recorded for export '${exp.name}'`, {
      hint: 'set `chunk_checkpoint: true` on the export and run it first, so per-chunk row counts are kept in the state database',
    });
  }
  const tasks = await deps.state.chunkTasks(run.runId);
  if (tasks.length === 0) throw new RivetError('EXPORT_FAILED', `reconcile: chunk run ${run.runId} of export '${exp.name}' has no tasks`);

  const source = await deps.openSource({ connection: exp.connection, columnOverrides: exp.columnOverrides, log: deps.log });
  const partitions: Partition[] = [];
  try {
    const column = await chunkColumnName(exp, source);
    const build = await chunkQueryBuilder(exp, source, column);
    for (const t of [...tasks].sort((a, b) => a.chunkIndex - b.chunkIndex)) {
      const exported = t.status === 'completed' ? t.rowsWritten : null;
      const p = predicateFromKeys(exp.chunk!, t.startKey, t.endKey);
      let sourceCount: number | null = null;
      if (p) {
        const [row] = await probeRows(source, source.dialect.countSql(build(p)));
        sourceCount = Number(row?.[0] ?? 0);
      }
      partitions.push(classify(`chunk ${t.chunkIndex} [${t.startKey}..${t.endKey}]`, sourceCount, exported));
    }
  } finally {
    await source.close();
  }

  const report: ReconcileReport = {
    rivet_version: rivetVersion(),
    export_name: exp.name,
    run_id: run.runId,
    strategy: 'chunked',
    partitions,
    summary: {
      total_partitions: partitions.length,
      matches: partitions.filter((p) => p.status === 'match').length,
      mismatches: partitions.filter((p) => p.status === 'mismatch').length,
      unknown: partitions.filter((p) => p.status === 'unknown').length,
      total_source_rows: partitions.reduce((n, p) => n + (p.source_count ?? 0), 0),
      total_exported_rows: partitions.reduce((n, p) => n + (p.exported_count ?? 0), 0),
    },
  };
  if (report.summary.mismatches === 0 && report.summary.unknown === 0) {
    const lastDone = Math.max(...tasks.filter((t) => t.status === 'completed').map((t) => t.chunkIndex));
    try {
      await deps.state.recordVerifiedProgression({ exportName: exp.name, strategy: 'chunked', chunkIndex: lastDone, runId: run.runId });
    } catch (e) {
      deps.log.warn(`export '${exp.name}': could not record the verified progression: ${(e as Error).message}`);
    }
  }
  return report;
}

function classify(identifier: string, source: number | null, exported: number | null): Partition {
  const base = { kind: 'chunk' as const, identifier, source_count: source, exported_count: exported };
  if (source !== null && exported !== null) {
    return source === exported ? { ...base, status: 'match' } : { ...base, status: 'mismatch', note: `source=${source}, exported=${exported}, diff=${source - exported}` };
  }
  const note =
    source !== null
      ? 'exported count unavailable: the chunk probably never completed'
      : exported !== null
        ? 'source count unavailable: the chunk bounds cannot be read back'
        : 'no counts available';
  return { ...base, status: 'unknown', note };
}

/** `chunk <idx> [<start>..<end>]` → its parts (the identifier format repair reads back). */
export function parsePartitionIdentifier(identifier: string): { chunkIndex: number; startKey: string; endKey: string } | null {
  const m = /^chunk (\d+) \[(.+?)\.\.(.+)\]$/.exec(identifier);
  return m ? { chunkIndex: Number(m[1]), startKey: m[2], endKey: m[3] } : null;
}
