import { RivetError } from '../errors/rivet-error.js';
import type { StateStore } from '../state/state-store.js';
import { xxh3Fingerprint } from './part-hasher.js';
import type { ResolvedExport } from './run-deps.js';

/**
 * Plan-time side of `chunk_checkpoint: true` (docs/modes.md): the plan fingerprint, the
 * refusal to start a second run beside an unfinished one, and the rows a new run starts with.
 */

/**
 * xxh3 (16 hex) of `base_query ␟ chunk_column ␟ X`, X naming the chunking scheme. Built from
 * the config alone, so a resume can check it without asking the source anything.
 */
export async function chunkPlanHash(exp: ResolvedExport): Promise<string> {
  const c = exp.chunk;
  // The memory budget, not the size it yields: that follows the catalog's statistics, which move between runs.
  const size = c?.memoryMb !== undefined ? `mem_${c.memoryMb}mb` : String(c?.size);
  const scheme = !c
    ? 'none'
    : c.byKey !== undefined
      ? `${size}\x1fkeyset`
      : c.byDays
        ? `date_${c.byDays}d`
        : c.dense
          ? 'dense_rn'
          : c.count
            ? `count_${c.count}`
            : `${size}\x1frange`;
  const text = [exp.sql, c?.column ?? '', scheme].join('\x1f');
  return (await xxh3Fingerprint(new TextEncoder().encode(text))).replace(/^xxh3:/, '');
}

/** A fresh run must not start beside an unfinished checkpointed run: their chunks would interleave in state. */
export async function refuseUnfinishedCheckpoint(exp: ResolvedExport, state: StateStore): Promise<void> {
  const open = await state.inProgressChunkRun(exp.name);
  if (!open) return;
  throw new RivetError('USAGE', `export '${exp.name}': chunked run ${open.runId} is still in progress (chunk_checkpoint)`, {
    hint: `finish it with \`rivet run -c <config> -e ${exp.name} --resume\`, or discard its checkpoint with \`rivet state reset-chunks -c <config> -e ${exp.name}\``,
  });
}

/** The checkpoint a new run starts with; written after its plan.json, so a resume always finds the plan. */
export async function recordChunkCheckpoint(
  exp: ResolvedExport,
  state: StateStore,
  run: { runId: string; prefix: string; planHash: string; chunks: { startKey: string; endKey: string }[] },
): Promise<void> {
  await state.createChunkRun({
    runId: run.runId,
    exportName: exp.name,
    planHash: run.planHash,
    maxChunkAttempts: exp.chunk?.maxAttempts ?? 1,
    prefix: run.prefix,
    chunks: run.chunks,
  });
}

/** A failed run of a checkpointed export is not over: it stays resumable under the same run id. */
export function isResumable(exp: ResolvedExport): boolean {
  return exp.mode === 'chunked' && exp.chunk?.checkpoint === true;
}

/** The failure of a resumable run says how to pick it up. */
export function withResumeHint<F extends { hint?: string }>(failure: F, exportName: string): F {
  const resume = `fix the cause, then \`rivet run -c <config> -e ${exportName} --resume\` (finished chunks are kept)`;
  return { ...failure, hint: failure.hint ? `${failure.hint}; or ${resume}` : resume };
}

/** After a checkpointed run committed: its checkpoint is done, so a fresh run may start again. Never fatal. */
export async function completeChunkCheckpoint(exp: ResolvedExport, runId: string, state: StateStore, warn: (m: string) => void): Promise<void> {
  if (!isResumable(exp)) return;
  try {
    await state.completeChunkRun(runId);
  } catch (e) {
    warn(`export '${exp.name}': could not mark chunk run ${runId} completed in the state database: ${(e as Error).message}; clear it with \`rivet state reset-chunks\``);
  }
}
