import { RivetError } from '../errors/rivet-error.js';
import type { Destination, ObjectInfo } from '../destination/destination.js';
import { fileExtension } from '../format/registry.js';
import type { ChunkTaskRow } from '../state/chunk-store.js';
import { chunkPlanHash, isResumable } from './chunk-checkpoint.js';
import { MANIFEST_KEY, SUCCESS_KEY, partKey, partNumberOf, planKey, quarantineKey, receiptKey, resumePlanKey } from './layout.js';
import { parseManifest } from './manifest.js';
import { targetFromRoot } from './plan.js';
import type { ResolvedExport, RunDeps } from './run-deps.js';
import { acquireRunLease, releaseRunLease } from './run-lease.js';
import { ReceiptSchema, RunPlanSchema, type ChunkTask, type Receipt, type RunPlan } from './run-plan.js';

export interface ResumeInput {
  exportName: string;
  params?: Record<string, string>;
  /** Resume even though the prefix holds a `_SUCCESS` (M8 gate). */
  force?: boolean;
}

export interface ResumedPlan {
  /** The adopted run's plan, unchanged: same run id, part numbers and chunk ranges. */
  plan: RunPlan;
  /** The tasks still to do; the others were skipped because their receipts and parts check out. */
  todo: ChunkTask[];
  summary: { skipped: number; rewrite: number; quarantined: number };
}

/**
 * Phase 1 for `rivet run --resume`: adopt the unfinished checkpointed run of an export
 * instead of planning a new one, then decide per chunk (docs/modes.md, narrowed):
 *
 * - skip: its receipt is there and every part it lists is present with the recorded size
 *   (and MD5 where the listing reports one). Receipts are the record of what a task wrote,
 *   so a chunk whose worker died after its receipt is kept even if state still says running.
 * - rewrite: anything else — no receipt, a part missing or diverged, a chunk in progress.
 * - quarantine: an object sitting at a rewritten chunk's part path (an untracked part of a
 *   crashed attempt, or a corrupt one) is moved to `_quarantine/<run_id>/`, never deleted,
 *   so the rewrite can publish create-only. Nothing else at the prefix is touched, and a
 *   part listed by the current manifest.json is never moved.
 *
 * Writes nothing to the dataset: manifest.json and `_SUCCESS` stay as they are until the
 * resumed run's finalizer commits, so an interrupted resume leaves the previous dataset current.
 */
export async function resumePlan(input: ResumeInput, deps: RunDeps): Promise<ResumedPlan> {
  const params = input.params ?? {};
  const exp = await deps.resolveExport(input.exportName, params);
  if (!isResumable(exp)) {
    throw new RivetError('USAGE', `export '${exp.name}': --resume applies to chunked exports with \`chunk_checkpoint: true\` (this one is mode ${exp.mode}${exp.mode === 'chunked' ? ' without chunk_checkpoint' : ''})`, {
      hint: `run it without --resume${exp.mode === 'chunked' ? ', or set `chunk_checkpoint: true` so later runs can be resumed' : ''}`,
    });
  }
  const run = await deps.state.inProgressChunkRun(exp.name);
  if (!run) {
    throw new RivetError('USAGE', `export '${exp.name}': --resume was given but there is no unfinished chunk checkpoint to pick up`, {
      hint: `run without --resume to start a fresh run (\`rivet state chunks -c <config> -e ${exp.name}\` shows the last checkpoint)`,
    });
  }
  const planHash = await chunkPlanHash(exp);
  if (run.planHash !== planHash) {
    throw new RivetError('USAGE', `export '${exp.name}': run ${run.runId} cannot be resumed: its chunk plan fingerprint differs from the config (the query, chunk_column, chunk_size, chunk_count, chunk_by_days or chunk_dense changed)`, {
      hint: `restore the settings it ran with, or discard it with \`rivet state reset-chunks -c <config> -e ${exp.name}\` and run without --resume`,
    });
  }
  if (run.prefix === null) throw stuck(exp, run.runId, 'its checkpoint does not record the destination it wrote to');
  const dest = await deps.openDestination(targetFromRoot(exp, run.prefix));
  const planBytes = await dest.get(planKey(run.runId));
  const parsed = planBytes ? RunPlanSchema.safeParse(JSON.parse(new TextDecoder().decode(planBytes))) : null;
  if (!parsed?.success) throw stuck(exp, run.runId, `its plan ${planKey(run.runId)} is missing or unreadable at ${dest.uri}`);
  const plan = parsed.data;

  const success = await dest.head(SUCCESS_KEY);
  if (success && !input.force) {
    const current = await dest.get(MANIFEST_KEY);
    const owner = current ? parseManifest(current).manifest?.run_id : undefined;
    throw new RivetError('USAGE', `export '${exp.name}': --resume refused: ${dest.uri} already holds a complete dataset (_SUCCESS${owner ? ` of run ${owner}` : ''})`, {
      hint: `add --force to resume run ${run.runId} anyway (the dataset stays current until the resumed run commits and replaces it), or run without --resume`,
    });
  }

  // The adopted run id takes the export's lease before the resume moves or resets anything.
  const lease = await acquireRunLease(deps.state, exp.name, plan.runId, deps.log);
  try {
    return await adoptRun(exp, dest, { ...plan, leaseToken: lease.token, tasks: plan.tasks.map((t) => ({ ...t, leaseToken: lease.token })) }, deps);
  } catch (e) {
    await releaseRunLease(deps.state, { exportName: exp.name, runId: plan.runId, leaseToken: lease.token }, deps.log);
    throw e;
  }
}

async function adoptRun(exp: ResolvedExport, dest: Destination, plan: RunPlan, deps: RunDeps): Promise<ResumedPlan> {
  const run = { runId: plan.runId };
  const stale = await deps.state.resetRunningChunkTasks(run.runId);
  if (stale > 0) deps.log.warn(`export '${exp.name}': ${stale} chunk task(s) of run ${run.runId} were left running by a process that stopped; they will be rewritten`);

  const rows = new Map((await deps.state.chunkTasks(run.runId)).map((r) => [r.chunkIndex, r]));
  const listing = new Map((await dest.list('part-')).filter((o) => partNumberOf(o.key) !== null).map((o) => [o.key, o]));
  const current = await currentDatasetParts(dest);
  const todo: ChunkTask[] = [];
  let quarantined = 0;
  for (const task of plan.tasks) {
    const receipt = await readReceipt(dest, plan.runId, task.taskIndex);
    const row = rows.get(task.taskIndex);
    if (receipt && receipt.parts.every((p) => matches(p, listing.get(p.path), dest))) {
      if (row && row.status !== 'completed') await deps.state.completeChunkTask(plan.runId, task.taskIndex, { rows: receipt.rows, fileName: receipt.parts[0]?.path ?? null });
      continue;
    }
    for (const path of partPaths(task, receipt, listing, fileExtension(plan.format))) {
      if (!listing.has(path)) continue;
      if (current.has(path)) {
        deps.log.warn(`export '${exp.name}': ${path} belongs to the current dataset, so it is left in place; chunk ${task.taskIndex} cannot be rewritten over it`);
        continue;
      }
      await quarantine(dest, plan.runId, path, deps);
      quarantined++;
    }
    if (receipt) await dest.delete(receiptKey(plan.runId, task.taskIndex));
    await deps.state.resetChunkTask(plan.runId, task.taskIndex, resetReason(row, receipt));
    todo.push(task);
  }

  if (!dest.capabilities.streaming) {
    await dest.put(resumePlanKey(plan.runId), JSON.stringify({ ...plan, tasks: todo }, null, 2) + '\n');
  }
  const summary = { skipped: plan.tasks.length - todo.length, rewrite: todo.length, quarantined };
  deps.log.info(
    `export '${exp.name}': resuming run ${plan.runId}: ${summary.skipped} chunk(s) skipped, ${summary.rewrite} to rewrite, ${summary.quarantined} object(s) quarantined under _quarantine/${plan.runId}/`,
  );
  return { plan, todo, summary };
}

function stuck(exp: ResolvedExport, runId: string, why: string): RivetError {
  return new RivetError('USAGE', `export '${exp.name}': run ${runId} cannot be resumed: ${why}`, {
    hint: `discard its checkpoint with \`rivet state reset-chunks -c <config> -e ${exp.name}\` and run without --resume`,
  });
}

async function readReceipt(dest: Destination, runId: string, taskIndex: number): Promise<Receipt | null> {
  const bytes = await dest.get(receiptKey(runId, taskIndex));
  if (!bytes) return null;
  try {
    const r = ReceiptSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    return r.success && r.data.runId === runId && r.data.taskIndex === taskIndex ? r.data : null;
  } catch {
    return null;
  }
}

function matches(part: Receipt['parts'][number], obj: ObjectInfo | undefined, dest: Destination): boolean {
  if (!obj || obj.sizeBytes !== part.sizeBytes) return false;
  return !(dest.capabilities.listingHasMd5 && obj.md5 && obj.md5 !== part.contentMd5);
}

/** Every key a rewrite of `task` will publish to, plus those its stale receipt claimed. */
function partPaths(task: ChunkTask, receipt: Receipt | null, listing: Map<string, ObjectInfo>, ext: string): string[] {
  const paths = new Set<string>([partKey(task.partNumber, ext), ...(receipt?.parts.map((p) => p.path) ?? [])]);
  // A single-task plan may roll to consecutive part numbers (max_file_size).
  if (task.maxFileSize) {
    for (const key of listing.keys()) if ((partNumberOf(key) ?? 0) > task.partNumber) paths.add(key);
  }
  return [...paths];
}

/** Paths listed by manifest.json: the dataset readers see now, which a resume must never move. */
async function currentDatasetParts(dest: Destination): Promise<Set<string>> {
  const bytes = await dest.get(MANIFEST_KEY);
  const m = bytes ? parseManifest(bytes).manifest : null;
  return new Set(m?.parts.map((p) => p.path) ?? []);
}

async function quarantine(dest: Destination, runId: string, key: string, deps: RunDeps): Promise<void> {
  // A second resume may quarantine the same part path again: never overwrite what is already kept.
  let target = quarantineKey(runId, key);
  for (let n = 1; await dest.head(target); n++) target = `${quarantineKey(runId, key)}.${n}`;
  await dest.move(key, target);
  deps.log.warn(`quarantined ${key} → ${target}: it is not the part chunk records vouch for`);
}

function resetReason(row: ChunkTaskRow | undefined, receipt: Receipt | null): string | null {
  if (row?.status === 'completed') return `M8 reset: the chunk's part is missing or diverged at the destination${receipt ? '' : ' (no receipt)'}`;
  return row?.lastError ?? null;
}
