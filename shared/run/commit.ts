import { closeSync, openSync } from 'node:fs';
import { RivetError } from '../errors/rivet-error.js';
import type { Destination, PartWriter } from '../destination/destination.js';
import type { StateStore, FileRecord, RunMetrics, RunJournal } from '../state/state-store.js';
import { MANIFEST_KEY, SUCCESS_KEY, archivedManifestKey, receiptKey, setAsideKey, supersededKey } from './layout.js';
import { serializeManifest, successMarker, type Manifest } from './manifest.js';
import type { Receipt } from './run-plan.js';
import type { CursorWindow } from './cursor-window.js';
import type { Logger } from '../log/logger.js';

/**
 * The ordered writes of the trust contract, and nowhere else:
 *
 *   1. parts          (each published atomically, never over an existing part)
 *   2. receipt        (the task's proof, after all its parts; the finalizer trusts nothing else)
 *   3. manifest       (archived copy under _rivet/runs/<run_id>/, old _SUCCESS removed, then manifest.json)
 *   4. _SUCCESS       (xxh3 of manifest.json's exact bytes)
 *   5. superseded parts moved aside (snapshot modes; after _SUCCESS so readers never lose data)
 *   6. state          (cursor — incremental only, the last write the run depends on — or a
 *                     repair's chunk counts; then progression, metrics, file log, journal)
 *
 * A crash between any two steps leaves the prefix valid: the previous manifest and
 * _SUCCESS still describe complete data, and the new run's parts are merely untracked.
 * RIVET_FAULT=<point> makes a step fail on purpose, for crash tests.
 */
export type FaultPoint = 'before_part' | 'after_part' | 'after_receipt' | 'after_manifest' | 'after_success' | 'after_supersede' | 'before_cursor' | 'after_cursor';

function faultPoint(point: FaultPoint): void {
  if (process.env.RIVET_FAULT === point && firstTime()) {
    // RIVET_FAULT_ACTION=kill dies here the way `kill -9` or the OOM killer would: no catch,
    // no finally, no cleanup runs. Throwing (the default) exercises the error paths instead.
    if (process.env.RIVET_FAULT_ACTION === 'kill') process.kill(process.pid, 'SIGKILL');
    throw new RivetError('INTERNAL', `injected fault at ${point} (RIVET_FAULT)`);
  }
}

/**
 * RIVET_FAULT_ONCE=<path>: the fault fires only in the process that creates this file, so
 * of all workers of a deployed run (separate processes, one machine) exactly one dies and
 * its retry goes through.
 */
function firstTime(): boolean {
  const once = process.env.RIVET_FAULT_ONCE;
  if (!once) return true;
  try {
    closeSync(openSync(once, 'wx'));
    return true;
  } catch {
    return false;
  }
}

/** Step 1: make a finished part visible (create-only). `before_part`: its bytes are all written, not yet published. */
export async function publishPart(part: PartWriter): Promise<{ sizeBytes: number }> {
  faultPoint('before_part');
  const result = await part.commit();
  faultPoint('after_part');
  return result;
}

/** Step 2: the task's receipt, after all of its parts are published. */
export async function storeReceipt(dest: Destination, receipt: Receipt): Promise<void> {
  if (!dest.capabilities.streaming) {
    // A retried task may store the same receipt again: overwriting is fine, the part is identical.
    await dest.put(receiptKey(receipt.runId, receipt.taskIndex), JSON.stringify(receipt, null, 2) + '\n');
  }
  faultPoint('after_receipt');
}

export interface CommitRunInput {
  dest: Destination;
  manifest: Manifest;
  /** Parts of the previous dataset that this run replaces (snapshot modes), moved aside after _SUCCESS. */
  superseded?: { runId: string; paths: string[] };
  log: Logger;
}

/** Steps 3–5 for a successful run. Returns the exact manifest bytes written. */
export async function commitRun({ dest, manifest, superseded, log }: CommitRunInput): Promise<Uint8Array> {
  const bytes = serializeManifest(manifest);
  if (dest.capabilities.streaming) return bytes;
  await dest.put(archivedManifestKey(manifest.run_id), bytes);
  // The old marker goes before the manifest it vouches for is replaced: a crash between the
  // two writes must leave no marker (readers wait) rather than a stale one (readers see a
  // mismatch). Found by the crash matrix (test/e2e/crash.test.ts, after_manifest).
  await dest.delete(SUCCESS_KEY);
  await dest.put(MANIFEST_KEY, bytes);
  faultPoint('after_manifest');
  await dest.put(SUCCESS_KEY, await successMarker(bytes));
  faultPoint('after_success');
  if (superseded) {
    for (const path of superseded.paths) {
      try {
        await dest.move(path, supersededKey(superseded.runId, path));
      } catch (e) {
        log.warn(`could not move superseded part ${path} aside: ${(e as Error).message}; it stays in place, untracked`);
      }
    }
    faultPoint('after_supersede');
  }
  return bytes;
}

/**
 * A failed run: the dataset it would have replaced stays exactly as it was (manifest.json
 * and `_SUCCESS` untouched), so a losing or broken run never hides the last verified one.
 * The parts it managed to publish move under _rivet/runs/<run_id>/parts/ (never deleted),
 * then its manifest is archived there listing them where they now are: the root holds
 * only the dataset's parts and those of a run in flight. A part that cannot be moved stays
 * untracked at the root (validate reports it as advisory) and is listed under its old key.
 */
export async function setAsideFailedRun(dest: Destination, manifest: Manifest, parts: string[], log: Logger): Promise<Manifest> {
  if (dest.capabilities.streaming) return manifest;
  const moved = new Map<string, string>();
  for (const path of parts) {
    try {
      await dest.move(path, setAsideKey(manifest.run_id, path));
      moved.set(path, setAsideKey(manifest.run_id, path));
    } catch (e) {
      log.warn(`could not move part ${path} of failed run ${manifest.run_id} aside: ${(e as Error).message}; it stays in place, untracked`);
    }
  }
  const archived = { ...manifest, parts: manifest.parts.map((p) => ({ ...p, path: moved.get(p.path) ?? p.path })) };
  await dest.put(archivedManifestKey(manifest.run_id), serializeManifest(archived));
  return archived;
}

/**
 * A run that does not replace the dataset (skipped by `skip_empty`, or an interrupted
 * checkpointed run awaiting `--resume`): only its archived manifest; manifest.json and
 * `_SUCCESS` stay as they are.
 */
export async function archiveRunManifest(dest: Destination, manifest: Manifest): Promise<void> {
  if (dest.capabilities.streaming) return;
  await dest.put(archivedManifestKey(manifest.run_id), serializeManifest(manifest));
}

/**
 * Step 6a (incremental): advance the stored cursor to the window's upper bound — only now,
 * after manifest.json and _SUCCESS vouch for the rows up to it — together with the identities
 * of the rows at the new boundary (cursor-boundary.ts), which the next run filters out when
 * it re-reads them. A failure here is fatal to the run, but loses nothing: cursor and boundary
 * stay as they were, so the next run exports the same rows again and appends them to the
 * manifest of the run that committed the stored boundary (incremental-base.ts).
 * Then the committed progression (advisory: a failure only warns).
 */
export async function commitCursor(
  state: StateStore,
  run: { exportName: string; runId: string; cursor: Pick<CursorWindow, 'from' | 'to' | 'boundary'>; boundaryIds?: Uint8Array },
  log: Logger,
): Promise<void> {
  const { from, to, boundary } = run.cursor;
  const tracked = boundary !== undefined && run.boundaryIds !== undefined;
  // Without a boundary an unchanged cursor has nothing to store; with one, late rows at the same value do.
  if (to === null || (to === from && !tracked)) return;
  faultPoint('before_cursor');
  let advanced: boolean;
  try {
    // Compare-and-set from the state this run was planned from: two runs that read the same
    // cursor and boundary cannot both commit, and a slower run can never move the cursor back.
    advanced =
      tracked && boundary && run.boundaryIds
        ? await state.commitBoundary(
            run.exportName,
            { cursor: from, runId: boundary.baseRunId },
            { cursor: to, since: boundary.next, identity: boundary.identity, ids: run.boundaryIds, runId: run.runId },
          )
        : await state.advanceCursor(run.exportName, from, to);
  } catch (e) {
    throw new RivetError('STATE', `export '${run.exportName}': the data is committed but the cursor could not be stored: ${(e as Error).message}`, {
      hint: 'the next run exports the same rows again and appends them to the dataset as it was before this run',
      cause: e,
    });
  }
  if (!advanced) {
    throw new RivetError(
      'STATE',
      `export '${run.exportName}': another run moved the cursor after this run was planned from ${from ?? '(no cursor)'}; this run's data is committed, the cursor was left where the other run put it`,
      { hint: 'runs of one incremental export must not overlap (check schedules and parallel invocations); rows of this window may now be in the dataset twice' },
    );
  }
  faultPoint('after_cursor');
  try {
    await state.recordCommittedProgression({ exportName: run.exportName, strategy: 'incremental', cursor: to, runId: run.runId });
  } catch (e) {
    log.warn(`export '${run.exportName}': could not record the committed progression: ${(e as Error).message}`);
  }
}

/**
 * Step 6a (repair): the checkpoint rows of the chunk run a repair corrected get the repaired
 * counts and parts, so the next `rivet reconcile` compares against the dataset as it now is.
 * Advisory like the history: the data is committed; a row left stale only makes the next
 * reconcile flag that chunk again.
 */
export async function commitRepairedChunks(
  state: StateStore,
  run: { exportName: string; chunkRunId: string; chunks: { chunkIndex: number; rows: number; fileName: string | null }[] },
  log: Logger,
): Promise<void> {
  for (const c of run.chunks) {
    try {
      await state.completeChunkTask(run.chunkRunId, c.chunkIndex, { rows: c.rows, fileName: c.fileName });
    } catch (e) {
      log.warn(`export '${run.exportName}' chunk ${c.chunkIndex}: could not record the repaired count in the state database: ${(e as Error).message}`);
    }
  }
}

/** Step 6: what the state store keeps. Failures here are logged, never fatal: the data is committed. */
export async function recordRunState(
  state: StateStore,
  record: { metrics: RunMetrics; files: FileRecord[]; journal: RunJournal },
  log: Logger,
): Promise<void> {
  const attempt = async (what: string, f: () => Promise<void>) => {
    try {
      await f();
    } catch (e) {
      log.warn(`export '${record.metrics.exportName}': could not store the ${what} in the state database: ${(e as Error).message}`);
    }
  };
  await attempt('file log', () => state.recordFiles(record.files));
  await attempt('run journal', () => state.saveJournal(record.journal));
  await attempt('run metrics', () => state.recordMetrics(record.metrics));
}
