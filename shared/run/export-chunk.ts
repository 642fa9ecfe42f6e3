import type { Schema } from 'apache-arrow';
import { BufferPool } from '../source/buffer-pool.js';
import { memoryGuard } from './memory-guard.js';
import { RivetError, errorChain, withRetryable } from '../errors/rivet-error.js';
import { schemaColumns, schemaFingerprint } from '../types/schema-fingerprint.js';
import { redact } from '../log/redact.js';
import { storeReceipt } from './commit.js';
import { PartSequence } from './part-sequence.js';
import { MetaColumns } from './meta-columns.js';
import { BoundaryFilter, cursorColumns } from './cursor-boundary.js';
import { chunkTaskCheckpoint } from './chunk-task-checkpoint.js';
import { readCsvText } from './csv-text-read.js';
import { targetFromRoot } from './plan.js';
import type { ResolvedExport, RunDeps } from './run-deps.js';
import type { Destination } from '../destination/destination.js';
import { classifySourceError } from '../source/registry.js';
import type { ChunkTask, Receipt } from './run-plan.js';
import { renewRunLease } from './run-lease.js';
import { runLimits } from './run-limits.js';
import { QualityTracker } from '../quality/quality-tracker.js';
import { foldTextMax } from '../quality/text-max.js';
import { BatchControls } from './batch-controls.js';

const EMPTY_FINGERPRINT = 'xxh3:0000000000000000';

export interface ExportChunkOptions {
  /** Stops the task (Ctrl-C, the Lambda deadline); nothing unpublished is kept. */
  signal?: AbortSignal;
  /**
   * Attempts in this call, instead of the export's own (`runLimits`). A Lambda worker makes
   * one: Step Functions owns its retries, so they are not multiplied.
   */
  attempts?: number;
}

/**
 * Phase 2. Stream one task's rows from the source, encode them, and publish them as one
 * part followed by its receipt. Safe to repeat: a task always targets the same key, and a
 * key that already holds a committed part is never replaced (the retry fails loudly
 * instead of leaving a second copy).
 *
 * What it throws is a RivetError whose `retryable` says whether the task may run again:
 * true for a transient source error or an abort with nothing published, false otherwise.
 */
export async function exportChunk(task: ChunkTask, deps: RunDeps, options: ExportChunkOptions = {}): Promise<Receipt> {
  const { signal } = options;
  // Each task renews the run's lease as it starts: on Lambda this is the run's heartbeat, and
  // anywhere a run that lost its export to another run stops before writing more.
  if (task.leaseToken) await renewRunLease(deps.state, { exportName: task.exportName, runId: task.runId, leaseToken: task.leaseToken });
  const exp = await deps.resolveExport(task.exportName, task.params);
  const dest = await deps.openDestination(targetFromRoot(exp, task.prefix));
  // Checkpointed chunks record each attempt and get `chunk_max_attempts` of them.
  const checkpoint = chunkTaskCheckpoint(exp, task, deps);
  if (exp.chunk) {
    await memoryGuard(exp.tuning.memoryThresholdMb ?? 0, `export '${task.exportName}' task ${task.taskIndex}`, { warn: (m) => deps.log.warn(m), signal });
  }
  const maxAttempts = options.attempts ?? runLimits(exp).taskAttempts;
  // Retry only what the engine calls transient, and only while nothing is published: a
  // failed attempt aborts its part, so the next attempt starts from a clean key.
  for (let attempt = 0; ; attempt++) {
    await checkpoint?.start();
    try {
      const receipt = await attemptChunk(task, exp, dest, deps, attempt, signal);
      await checkpoint?.complete(receipt);
      return receipt;
    } catch (e) {
      await checkpoint?.fail(e);
      const cls = e instanceof PublishedPartsError ? { transient: false, extraDelayMs: 0 } : classifySourceError(exp.connection.engine, e);
      if (!cls.transient || attempt + 1 >= maxAttempts || signal?.aborted) {
        // Nothing of the task is published unless it says so: a transient error or a stop may run again.
        const retryable = !(e instanceof PublishedPartsError) && (cls.transient || signal?.aborted === true);
        throw withRetryable(asRivetError(e, task), retryable);
      }
      const delay = exp.tuning.retryBackoffMs * 2 ** attempt + cls.extraDelayMs;
      deps.log.warn(
        `export '${task.exportName}' task ${task.taskIndex}: attempt ${attempt + 1}/${maxAttempts} failed (${redact(errorChain(e))}); retrying in ${delay} ms`,
      );
      await sleep(delay, signal);
    }
  }
}

async function attemptChunk(task: ChunkTask, exp: ResolvedExport, dest: Destination, deps: RunDeps, retries: number, signal?: AbortSignal): Promise<Receipt> {
  const startedAt = deps.now().toISOString();
  const source = await deps.openSource({ connection: exp.connection, columnOverrides: exp.columnOverrides, log: deps.log });
  const parts = new PartSequence(
    dest,
    exp.format,
    {
      compression: exp.compression,
      compressionLevel: exp.compressionLevel,
      rowGroupRows: exp.rowGroupRows,
      rowGroup: exp.rowGroup,
      warnOnce: (key, message) => deps.log.warnOnce(`${key}:${task.exportName}`, `export '${task.exportName}': ${message}`),
    },
    task.partNumber,
    task.maxFileSize,
    exp.verifyContent ?? false,
  );
  const meta = await MetaColumns.create(exp.metaColumns, deps.now());
  const boundary = task.boundary && exp.incremental ? await BoundaryFilter.open(task.exportName, task.boundary, cursorColumns(exp.incremental), deps.state) : null;
  let schema: Schema | null = null;
  let rows = 0;
  // Single-task modes judge `quality:` on the task's rows; a chunked run checks its total in finalize.
  const quality = exp.quality && exp.mode !== 'chunked' ? new QualityTracker(exp.quality) : null;
  const textMax: Record<string, number> = {};
  // Shape drift off (`shape_drift_warn_factor` ≤ 0): no column's longest value is measured.
  const watchShape = (exp.schemaDrift?.shapeFactor ?? 2) > 0;
  // Each batch's column memory goes back to the source once the writer is done with it.
  const bufferPool = new BufferPool();
  const controls = new BatchControls({
    label: `export '${task.exportName}' task ${task.taskIndex}`,
    batchSize: exp.tuning.batchSize,
    maxBatchMemoryMb: exp.tuning.maxBatchMemoryMb ?? null,
    onExceeded: exp.tuning.onBatchMemoryExceeded ?? 'warn',
    adaptive: exp.tuning.adaptive ?? false,
    log: deps.log,
    openMonitor: () => deps.openSource({ connection: exp.connection, columnOverrides: exp.columnOverrides, log: deps.log }),
  });
  try {
    // CSV rendered by the source (ADR 0009) where nothing here needs the rows' values (the
    // batch memory cap and adaptive sizing act on Arrow batches).
    const text =
      exp.format === 'csv' && !meta && !boundary && !quality && !parts.verifiesContent && !controls.active
        ? await readCsvText(
            source,
            task.sql,
            { batchSize: exp.tuning.batchSize, throttleMs: exp.tuning.throttleMs, statementTimeoutS: exp.tuning.statementTimeoutS, lockTimeoutS: exp.tuning.lockTimeoutS, maxValueMb: exp.tuning.maxValueMb, signal },
            parts,
            (n) => {
              rows += n;
              deps.onProgress?.({ runId: task.runId, exportName: task.exportName, taskIndex: task.taskIndex, rowsDelta: n });
            },
            (m) => deps.log.debug(m),
          )
        : null;
    if (text) {
      schema = text.schema;
      if (watchShape) Object.assign(textMax, text.textMax);
    }
    const batches = text ? [] : source.read(task.sql, {
      batchSize: exp.tuning.batchSize,
      batchMemoryMb: exp.tuning.batchMemoryMb,
      throttleMs: exp.tuning.throttleMs,
      statementTimeoutS: exp.tuning.statementTimeoutS,
      lockTimeoutS: exp.tuning.lockTimeoutS,
      maxValueMb: exp.tuning.maxValueMb,
      signal,
      bufferPool,
      ...(controls.active ? { rowCeiling: controls.rowCeiling } : {}),
    });
    for await (const read of batches) {
      if (read.numRows === 0) continue;
      for (const kept of controls.cap(read).flatMap((sized) => (boundary ? boundary.apply(sized) : [sized]))) {
        quality?.observe(kept);
        if (watchShape) foldTextMax(kept, textMax);
        const batch = meta ? meta.append(kept) : kept;
        schema ??= batch.schema;
        await parts.write(batch);
        rows += batch.numRows;
        deps.onProgress?.({ runId: task.runId, exportName: task.exportName, taskIndex: task.taskIndex, rowsDelta: batch.numRows });
      }
      // Format writers copy what they keep before `write` resolves (format-writer.ts).
      bufferPool.giveBatch(read);
      await controls.afterBatch();
    }
    const receipt: Receipt = {
      runId: task.runId,
      exportName: task.exportName,
      taskIndex: task.taskIndex,
      rows,
      retries,
      parts: await parts.finish(),
      schemaFingerprint: schema ? schemaFingerprint(schema) : EMPTY_FINGERPRINT,
      columns: schema ? schemaColumns(schema) : [],
      startedAt,
      finishedAt: deps.now().toISOString(),
      ...(boundary ? { boundaryIds: Buffer.from(boundary.nextIds()).toString('base64') } : {}),
      ...(quality ? { qualityIssues: quality.issues() } : {}),
      ...(Object.keys(textMax).length > 0 ? { textMax } : {}),
    };
    await storeReceipt(dest, receipt);
    return receipt;
  } catch (e) {
    await parts.abort();
    // A part already published cannot be written again under the same key: retrying would fail
    // on it or duplicate rows, so the error is final.
    if (parts.published.length > 0) throw new PublishedPartsError(e, parts.published.length);
    throw e;
  } finally {
    await controls.close();
    await source.close().catch(() => {});
  }
}

/** A task failed after publishing some of its parts: never retried. */
class PublishedPartsError extends RivetError {
  constructor(cause: unknown, count: number) {
    super('EXPORT_FAILED', `${redact(errorChain(cause))} (after ${count} part(s) of this task were already published, so it is not retried)`, { cause });
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((res) => {
    const t = setTimeout(res, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      res();
    });
  });
}

function asRivetError(e: unknown, task: ChunkTask): RivetError {
  if (e instanceof RivetError) return e;
  return new RivetError('EXPORT_FAILED', `export '${task.exportName}' task ${task.taskIndex}: ${redact(errorChain(e))}`, { cause: e });
}
