import { RivetError } from '../errors/rivet-error.js';
import { redact } from '../log/redact.js';
import type { Destination } from '../destination/destination.js';
import type { JournalEntry } from '../state/state-store.js';
import { commitCursor, commitRepairedChunks, commitRun, archiveRunManifest, recordRunState, setAsideFailedRun } from './commit.js';
import { incrementalBase } from './incremental-base.js';
import { MANIFEST_KEY, RIVET_DIR, partNumberOf, planKey, receiptKey } from './layout.js';
import { buildManifest, parseManifest, type Manifest, type ManifestPart } from './manifest.js';
import { targetFromRoot } from './plan.js';
import { repairBase, type RepairCommit } from './repair-commit.js';
import { peakRssMb } from './rss-sampler.js';
import { completeChunkCheckpoint, isResumable, withResumeHint } from './chunk-checkpoint.js';
import type { ResolvedExport, RunDeps } from './run-deps.js';
import { ReceiptSchema, RunPlanSchema, type Failure, type Receipt, type RunHeader, type RunResult } from './run-plan.js';
import { releaseRunLease, renewRunLease } from './run-lease.js';
import { failureOf } from './run-not-started.js';
import { judgeRun, type RunVerdict } from './run-verdict.js';
import { notifySlack } from '../notify/slack-notifier.js';

export interface FinalizeInput {
  header: RunHeader;
  /** Set when a task (or the driver) failed: the run is recorded as failed. */
  failure?: Failure;
  /** Receipts handed over directly; required for streaming destinations, which cannot store them. */
  receipts?: Receipt[];
  /** Journal events the driver saw while the tasks ran (ParallelismAdjusted). */
  events?: JournalEntry['event'][];
  /** A repair run: its parts amend the committed dataset instead of replacing it (repair-commit.ts). */
  repair?: RepairCommit;
}

const ZERO = 'xxh3:0000000000000000';

/**
 * Phase 3. Gather the receipts, write manifest.json then _SUCCESS, move the superseded
 * snapshot aside, then record state. A failed run leaves manifest.json and _SUCCESS alone
 * and sets its own parts and manifest aside under _rivet/runs/<run_id>/. The receipts at
 * the destination are the only evidence trusted: a task without one did not finish. The
 * run's lease is given back whatever happens.
 */
export async function finalize(input: FinalizeInput, deps: RunDeps): Promise<RunResult> {
  const { header } = input;
  const lease = header.leaseToken ? { exportName: header.exportName, runId: header.runId, leaseToken: header.leaseToken } : null;
  try {
    return await finalizeRun(input, deps, lease);
  } finally {
    if (lease) await releaseRunLease(deps.state, lease, deps.log);
  }
}

async function finalizeRun(input: FinalizeInput, deps: RunDeps, lease: { exportName: string; runId: string; leaseToken: string } | null): Promise<RunResult> {
  const { header } = input;
  const exp = await deps.resolveExport(header.exportName, header.params);
  const dest = await deps.openDestination(targetFromRoot(exp, header.prefix));
  const finishedAt = deps.now();
  const durationMs = Math.max(0, finishedAt.getTime() - Date.parse(header.startedAt));

  let failure = input.failure;
  const receipts = dest.capabilities.streaming ? (input.receipts ?? []) : await readReceipts(dest, header);
  if (!failure && receipts.length < header.taskCount) {
    const missing = header.taskCount - receipts.length;
    failure = {
      code: 'EXPORT_FAILED',
      message: `export '${header.exportName}': ${missing} of ${header.taskCount} task(s) left no receipt, so their parts are not trusted`,
    };
  }
  receipts.sort((a, b) => a.taskIndex - b.taskIndex);
  const rows = receipts.reduce((n, r) => n + r.rows, 0);
  const { repair } = input;
  const repaired = repair && !failure ? await repairBase(dest, repair) : null;
  if (repair && !failure && !repaired) {
    failure = { code: 'EXPORT_FAILED', message: `export '${header.exportName}': ${dest.uri} no longer holds the successful manifest.json this repair amends`, hint: 'reconcile again (`rivet reconcile`) and repair from the fresh report' };
  }
  // A repair changes the dataset even when its chunks came back empty: never skipped.
  let status: RunResult['status'] = failure ? 'failed' : rows === 0 && exp.skipEmpty && !repair ? 'skipped' : 'success';
  // Quality and schema drift are verdicts on the data: decided before anything is committed.
  // A repair's row-count bounds hold for the dataset it leaves, not for its chunks alone.
  const judgedRows = repaired ? rows + repaired.parts.filter((p) => p.status === 'committed').reduce((n, p) => n + p.rows, 0) : rows;
  const verdict: RunVerdict = status !== 'failed' ? await judgeRun(exp, receipts, judgedRows, header.taskCount, deps.state, deps.log) : { qualityIssues: [], events: [] };
  if (verdict.failure) {
    status = 'failed';
    failure = verdict.failure;
  }
  const judgedBad = verdict.failure !== undefined;
  // Commit only while the lease is still this run's: one that stalled past its expiry while
  // another run took the export over must not replace that run's dataset.
  let leaseLost = false;
  if (status === 'success' && lease) {
    try {
      await renewRunLease(deps.state, lease);
    } catch (e) {
      leaseLost = e instanceof RivetError && e.code === 'RUN_LEASE_LOST';
      status = 'failed';
      failure = failureOf(e, 'STATE');
    }
  }
  // A checkpointed run that failed is interrupted, not over: `--resume` finishes it under the same run id.
  // Ctrl-C is not a verdict on the data: like an interrupted checkpointed run, the previous dataset stays current.
  const interrupted = failure?.code === 'INTERRUPTED';
  // A verdict on the data is final: resuming would judge the same rows again.
  const keepsPrevious = status === 'failed' && !judgedBad && (isResumable(exp) || interrupted);
  if (keepsPrevious && failure && !interrupted) failure = withResumeHint(failure, header.exportName);

  const parts: ManifestPart[] = receipts
    .flatMap((r) => r.parts)
    .sort((a, b) => a.partNumber - b.partNumber)
    .map((p, i) => ({
      part_id: i + 1,
      path: p.path,
      rows: p.rows,
      size_bytes: p.sizeBytes,
      content_fingerprint: p.contentFingerprint,
      content_md5: p.contentMd5,
      status: 'committed' as const,
    }));
  const withSchema = receipts.find((r) => r.schemaFingerprint !== ZERO);
  // Incremental runs append: the manifest lists the dataset so far, then this run's parts; a
  // repair lists the dataset without the parts it corrects, then its own.
  const base = status !== 'success' ? null : repaired ?? (header.cursor?.from != null ? await incrementalBase(dest, header.cursor) : null);
  const listed = base ? [...base.parts, ...parts].map((p, i) => ({ ...p, part_id: i + 1 })) : parts;
  const manifest = buildManifest({
    run_id: header.runId,
    export_name: header.exportName,
    started_at: header.startedAt,
    finished_at: finishedAt.toISOString(),
    status: status === 'success' ? 'success' : status === 'failed' && !keepsPrevious ? 'failed' : 'interrupted',
    source: { engine: exp.connection.engine, schema: exp.table?.schema ?? null, table: exp.table?.name ?? null },
    destination: { kind: dest.kind, uri: dest.uri },
    format: header.format,
    compression: header.compression,
    schema_fingerprint: withSchema?.schemaFingerprint ?? base?.schema_fingerprint ?? header.schemaFingerprint,
    parts: listed,
    mode: header.mode,
    columns: withSchema?.columns ?? base?.columns ?? [],
    // The boundary (since, identities' run) is state, not a fact about the data: the manifest keeps the window.
    ...(header.cursor ? { cursor: { column: header.cursor.column, from: header.cursor.from, to: header.cursor.to } } : {}),
  });

  if (status === 'success') {
    // The parts a repair corrects stay in place (their run's archived manifest still names them).
    const superseded = repair ? undefined : await supersededParts(dest, manifest);
    await commitRun({ dest, manifest, superseded, log: deps.log });
    if (header.cursor) {
      try {
        const ids = receipts.find((r) => r.boundaryIds !== undefined)?.boundaryIds;
        const boundaryIds = ids === undefined ? undefined : new Uint8Array(Buffer.from(ids, 'base64'));
        await commitCursor(deps.state, { exportName: header.exportName, runId: header.runId, cursor: header.cursor, boundaryIds }, deps.log);
      } catch (e) {
        status = 'failed';
        failure = { code: e instanceof RivetError ? e.code : 'STATE', message: (e as Error).message, ...(e instanceof RivetError && e.hint ? { hint: e.hint } : {}) };
      }
    }
    if (repair) {
      const byTask = new Map(receipts.map((r) => [r.taskIndex, r]));
      const chunks = repair.chunks.flatMap(({ taskIndex, chunkIndex }) => {
        const r = byTask.get(taskIndex);
        return r ? [{ chunkIndex, rows: r.rows, fileName: r.parts[0]?.path ?? null }] : [];
      });
      await commitRepairedChunks(deps.state, { exportName: header.exportName, chunkRunId: repair.chunkRunId, chunks }, deps.log);
    }
    await completeChunkCheckpoint(exp, header.runId, deps.state, (m) => deps.log.warn(m));
  } else if (status === 'failed' && (judgedBad || !isResumable(exp))) {
    // Failed or interrupted for good: the previous dataset stays current, this run's parts leave the root.
    const own = await failedRunParts(dest, header, parts.map((p) => p.path), leaseLost);
    await setAsideFailedRun(dest, manifest, own, deps.log);
    // A checkpointed run judged bad is over, not waiting for `--resume`: fresh runs may start.
    if (judgedBad) await completeChunkCheckpoint(exp, header.runId, deps.state, (m) => deps.log.warn(m));
  } else {
    // Skipped, or a checkpointed run awaiting `--resume` (its parts stay for it): the previous dataset stays current.
    await archiveRunManifest(dest, manifest);
  }

  const errorMessage = failure ? redact(failure.message) : null;
  await recordRunState(
    deps.state,
    {
      metrics: {
        runId: header.runId,
        exportName: header.exportName,
        durationMs,
        totalRows: rows,
        peakRssMb: peakRssMb(),
        status,
        errorMessage,
        tuningProfile: exp.tuning.profile,
        format: header.format,
        mode: header.mode,
        filesProduced: parts.length,
        bytesWritten: parts.reduce((n, p) => n + p.size_bytes, 0),
        retries: receipts.reduce((n, r) => n + r.retries, 0),
        schemaChanged: verdict.schemaChanged ?? null,
      },
      files: parts.map((p) => ({
        runId: header.runId,
        exportName: header.exportName,
        fileName: p.path,
        rowCount: p.rows,
        bytes: p.size_bytes,
        format: header.format,
        compression: header.compression,
      })),
      // The schema snapshot is what the next run compares with: only a committed run sets it.
      journal: journalFor(header, exp, receipts, status, errorMessage, durationMs, finishedAt, [...(input.events ?? []), ...verdict.events.filter((e) => status === 'success' || !('SchemaSnapshot' in e))]),
    },
    deps.log,
  );

  await notifySlack(exp.slack, { runId: header.runId, exportName: header.exportName, status, rows, durationMs, error: errorMessage ?? undefined, schemaChanged: verdict.schemaChanged }, deps.log);

  return {
    runId: header.runId,
    exportName: header.exportName,
    mode: header.mode,
    status,
    rows,
    files: parts.length,
    bytes: parts.reduce((n, p) => n + p.size_bytes, 0),
    durationMs,
    peakRssMb: peakRssMb(),
    destination: dest.uri,
    prefix: header.prefix,
    manifestKey: dest.capabilities.streaming ? null : MANIFEST_KEY,
    ...(failure ? { error: { ...failure, message: redact(failure.message) } } : {}),
    ...(verdict.qualityIssues.length > 0 ? { qualityIssues: verdict.qualityIssues } : {}),
    ...(verdict.schemaChanged !== undefined ? { schemaChanged: verdict.schemaChanged } : {}),
    ...(status === 'skipped' ? { skipReason: header.cursor?.from != null ? `nothing newer than the stored cursor (${header.cursor.column})` : 'the source query produced 0 rows' } : {}),
  };
}

async function readReceipts(dest: Destination, header: RunHeader): Promise<Receipt[]> {
  const out: Receipt[] = [];
  for (let i = 0; i < header.taskCount; i++) {
    const bytes = await dest.get(receiptKey(header.runId, i));
    if (!bytes) continue;
    const parsed = ReceiptSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    if (!parsed.success || parsed.data.runId !== header.runId) {
      throw new RivetError('DESTINATION', `the receipt of task ${i} of run ${header.runId} is unreadable`, {
        hint: 'something else wrote under _rivet/runs/; rerun the export',
      });
    }
    out.push(parsed.data);
  }
  return out;
}

/**
 * The root-level parts a failed run published: those its receipts list, and every part
 * numbered from its plan's first part on that the current manifest does not list (a task
 * that died between its part and its receipt). The lease makes those numbers this run's
 * alone; a run that lost its lease claims only what its receipts prove.
 */
async function failedRunParts(dest: Destination, header: RunHeader, receipted: string[], leaseLost: boolean): Promise<string[]> {
  if (dest.capabilities.streaming) return [];
  const current = await dest.get(MANIFEST_KEY);
  const dataset = new Set((current ? parseManifest(current).manifest?.parts ?? [] : []).map((p) => p.path));
  const own = new Set(receipted);
  const planBytes = leaseLost ? null : await dest.get(planKey(header.runId));
  const planned = planBytes ? RunPlanSchema.safeParse(JSON.parse(new TextDecoder().decode(planBytes))) : null;
  if (planned?.success && planned.data.tasks.length > 0) {
    const first = Math.min(...planned.data.tasks.map((t) => t.partNumber));
    for (const o of await dest.list('part-')) {
      const n = partNumberOf(o.key);
      if (n !== null && n >= first) own.add(o.key);
    }
  }
  return [...own].filter((k) => !dataset.has(k)).sort();
}

/**
 * Root-level parts that earlier runs recorded in their manifests and that the new snapshot
 * does not list. Parts no manifest mentions (a run still in flight, or one that crashed)
 * are left alone.
 */
async function supersededParts(dest: Destination, next: Manifest): Promise<{ runId: string; paths: string[] } | undefined> {
  // An incremental run appends, except the first one (no stored cursor), which starts the dataset afresh.
  if (dest.capabilities.streaming || (next.mode === 'incremental' && next.cursor?.from != null)) return undefined;
  const keep = new Set(next.parts.map((p) => p.path));
  const atRoot = new Set((await dest.list('part-')).map((o) => o.key).filter((k) => partNumberOf(k) !== null && !keep.has(k)));
  if (atRoot.size === 0) return undefined;
  const known = new Set<string>();
  const manifests = (await dest.list(`${RIVET_DIR}/runs/`)).filter((o) => o.key.endsWith('/manifest.json'));
  for (const o of manifests) {
    const bytes = await dest.get(o.key);
    const m = bytes ? parseManifest(bytes).manifest : null;
    if (!m || m.run_id === next.run_id) continue;
    for (const p of m.parts) if (atRoot.has(p.path)) known.add(p.path);
  }
  return known.size ? { runId: next.run_id, paths: [...known].sort() } : undefined;
}

function journalFor(
  header: RunHeader,
  exp: ResolvedExport,
  receipts: Receipt[],
  status: string,
  errorMessage: string | null,
  durationMs: number,
  finishedAt: Date,
  checks: JournalEntry['event'][],
) {
  const at = finishedAt.toISOString();
  return {
    run_id: header.runId,
    export_name: header.exportName,
    entries: [
      {
        recorded_at: header.startedAt,
        event: {
          PlanResolved: {
            export_name: header.exportName,
            base_query: redact(exp.sql),
            strategy: header.mode,
            format: header.format,
            compression: header.compression,
            destination_type: exp.destination.kind,
            tuning_profile: exp.tuning.profileLabel,
            batch_size: exp.tuning.batchSize,
            validate: false,
            reconcile: false,
            resume: false,
          },
        },
      },
      ...receipts.flatMap((r) =>
        r.parts.map((p) => ({
          recorded_at: r.finishedAt,
          event: { FileWritten: { file_name: p.path, rows: p.rows, bytes: p.sizeBytes, part_index: p.partNumber } },
        })),
      ),
      ...checks.map((event) => ({ recorded_at: at, event })),
      { recorded_at: at, event: { RunCompleted: { status, error_message: errorMessage, duration_ms: durationMs } } },
    ],
  };
}
