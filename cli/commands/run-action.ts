import { writeFile } from 'node:fs/promises';
import { loadConfig } from '../../shared/config/load.js';
import { parseParams } from '../../shared/config/params.js';
import { EXIT_EXPORT_FAILED, EXIT_OK, RivetError } from '../../shared/errors/rivet-error.js';
import { createLogger, type Logger } from '../../shared/log/logger.js';
import { redact } from '../../shared/log/redact.js';
import { configRunDeps } from '../../shared/run/local-deps.js';
import type { RunResult } from '../../shared/run/run-plan.js';
import { defaultStatePath } from '../../shared/state/sqlite-state-store.js';
import { openStateStore } from '../../shared/state/open-state-store.js';
import { runExportLocally } from '../local-driver.js';
import { EXIT_INTERRUPTED, interruptSignal } from '../interrupt.js';
import { startRssSampler } from '../../shared/run/rss-sampler.js';
import { createProgress } from '../progress.js';
import { aggregateBlock, buildAggregate, exportBlock } from '../summary.js';
import { formatBytes, formatDuration, thousands } from '../format-helpers.js';
import { checkRows, checksSummary, withChecks, type RunChecks } from '../post-run-checks.js';
import { ipcEventsEnabled } from '../cards/ipc-events.js';
import { ExportEventTracker, ndjsonSink } from '../cards/export-events.js';
import { chooseParallelMode, heldBackStderr, runInProcesses, runInThreads, type ParallelMode } from '../cards/parallel-run.js';
import { discoverPartitions } from '../../shared/run/partitions.js';
import type { ChildOutcome } from '../cards/child-supervisor.js';
import { selectedExports } from '../selected-exports.js';

export interface RunCommandOptions {
  config: string;
  export?: string;
  param?: string[];
  json?: boolean;
  summaryOutput?: string;
  validate?: boolean;
  reconcile?: boolean;
  resume?: boolean;
  force?: boolean;
  parallelExports?: boolean;
  parallelExportProcesses?: boolean;
}

export interface CommandIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
  log?: Logger;
}

/** `rivet run`: every selected export, one after the other, through the local driver. Returns the exit status. */
export async function runCommand(opts: RunCommandOptions, io: CommandIO): Promise<number> {
  // While --parallel-exports draws its cards, log lines are printed above them.
  let cardsLog: ((line: string) => void) | null = null;
  const log = io.log ?? createLogger({ sink: (line) => (cardsLog ? cardsLog(line) : io.stderr.write(line + '\n')) });
  if (opts.parallelExports && opts.parallelExportProcesses) chooseParallelMode(opts, {}, 2);
  if (opts.force && !opts.resume) log.warn('--force has no effect without --resume');

  const params = parseParams(opts.param ?? []);
  const loaded = await loadConfig(opts.config, { params, log });
  const names = selectedExports(loaded.config, opts.export, opts.config, { partitionChildren: true });
  // A child of --parallel-export-processes: events on stdout for the parent's cards, no bar, no block.
  const ipcChild = ipcEventsEnabled();
  let tracker: ExportEventTracker | null = ipcChild ? new ExportEventTracker(ndjsonSink(io.stdout)) : null;

  const state = openStateStore({ sqlitePath: defaultStatePath(loaded.path), log });
  let parallelMode: ParallelMode = 'sequential';
  // Only the sequential loop starts progress lines; parallel modes draw cards instead.
  const progress = createProgress(io.stderr, ipcChild ? false : undefined);
  const deps = configRunDeps({
    configPath: loaded.path,
    state,
    log,
    preloaded: { params, config: loaded },
    onProgress: (e) => {
      if (parallelMode === 'sequential' && !ipcChild) progress.rows(e.exportName, e.rowsDelta);
      tracker?.rows(e.exportName, e.rowsDelta);
    },
  });
  try {
    // Resolve every selected export first: a config problem in the third export must not
    // surface after the first two already ran.
    // A partitioned export becomes its children here, one per bucket the source holds.
    const resolved = [];
    let partitioned = false;
    for (const name of names) {
      const exp = await deps.resolveExport(name, params);
      // A child named on its own (`-e orders__2026-05-21`) runs as it is.
      if (!exp.partition || exp.partition.bucket !== undefined) {
        resolved.push(exp);
        continue;
      }
      partitioned = true;
      for (const child of await discoverPartitions(exp, deps)) resolved.push(await deps.resolveExport(child, params));
    }
    parallelMode = chooseParallelMode(opts, loaded.config, resolved.length);
    if (parallelMode === 'parallel-processes' && partitioned) {
      log.warn('process parallelism is turned off while an export is partitioned: the exports run in this process');
      parallelMode = chooseParallelMode({ ...opts, parallelExportProcesses: false }, { ...loaded.config, parallel_export_processes: false }, resolved.length);
    }
    const toStdout = resolved.find((e) => e.destination.kind === 'stdout');
    if (opts.json && toStdout) {
      // The data already owns stdout; a summary appended to it would corrupt what a pipe receives.
      throw new RivetError('USAGE', `--json cannot be used with export '${toStdout.name}': its destination is stdout, so the JSON summary would be mixed into the data`, {
        hint: 'write the summary to a file with --summary-output FILE (or --summary-output /dev/stderr)',
      });
    }

    const startedAt = new Date();
    const stopSampler = startRssSampler();
    let results: RunResult[] = [];
    let checks: RunChecks[] = [];
    let outcomes: ChildOutcome[] = [];
    const wanted = { validate: opts.validate === true, reconcile: opts.reconcile === true };
    if (parallelMode === 'parallel-threads') {
      ({ results, checks } = await runInThreads({ resolved, params, deps, setTracker: (t) => (tracker = t), routeLog: (sink) => (cardsLog = sink), resume: opts.resume, force: opts.force, wanted, interrupt: interruptSignal, stream: io.stderr }));
    } else if (parallelMode === 'parallel-processes') {
      ({ results, outcomes } = await runInProcesses({ exports: resolved.map((e) => ({ name: e.name, mode: e.mode })), configPath: loaded.path, params, validate: opts.validate, reconcile: opts.reconcile, resume: opts.resume, force: opts.force, interrupt: interruptSignal, stream: io.stderr }));
      checks = results.map(() => ({ validation: null, reconciliation: null }));
    }
    for (const exp of parallelMode === 'sequential' ? resolved : []) {
      if (interruptSignal.aborted) break; // Ctrl-C: the exports not started yet are not run
      if (!ipcChild) progress.start(exp.name, exp.mode);
      const hooks = tracker?.begin(exp.name, { mode: exp.mode, tuningProfile: exp.tuning.profileLabel, batchSize: exp.tuning.batchSize });
      const checked = await runExportLocally({ exportName: exp.name, params, deps, resume: opts.resume, force: opts.force, checks: wanted, interrupt: interruptSignal, ...hooks });
      const r = checked.result;
      results.push(r);
      checks.push(checked.checks);
      tracker?.finish(r);
      if (!ipcChild) progress.finish(
        exp.name,
        r.status !== 'failed',
        r.status === 'failed'
          ? (r.error?.message ?? 'failed')
          : `${thousands(r.rows)} rows  ${r.files} ${r.files === 1 ? "file" : "files"}  ${formatBytes(r.bytes)}  ${formatDuration(r.durationMs)}`,
      );
    }
    progress.close();
    stopSampler();
    const finishedAt = new Date();

    const aggregate = withChecks({ ...buildAggregate(results, opts.config, startedAt, finishedAt), parallel_mode: parallelMode }, checks, wanted);
    // Only runs of several exports (partition children counted) are kept, as in the reference (docs/reference/state.md).
    if (!ipcChild && results.length > 1) {
      await state.recordAggregate(aggregate).catch((e: unknown) => log.warn(`could not store run aggregate ${aggregate.run_aggregate_id} in the state database: ${(e as Error).message}`));
    }
    if (ipcChild) {
      // The parent draws the card and the summary from the events.
    } else if (results.length === 1) {
      const exp = resolved[0];
      io.stderr.write(exportBlock(results[0], { tuning: `profile=${exp.tuning.profileLabel}, batch_size=${thousands(exp.tuning.batchSize)}`, compression: exp.compression, format: exp.format, checks: checkRows(checks[0]) }));
    } else {
      io.stderr.write(aggregateBlock(aggregate, results) + checksSummary(checks) + heldBackStderr(outcomes));
    }
    const json = redact(JSON.stringify(aggregate, null, 2)) + '\n';
    if (opts.summaryOutput) {
      await writeFile(opts.summaryOutput, json).catch((e) => {
        throw new RivetError('USAGE', `cannot write --summary-output ${opts.summaryOutput}: ${(e as Error).message}`);
      });
      io.stderr.write(`  written:     ${opts.summaryOutput}\n`);
    }
    if (opts.json && !ipcChild) io.stdout.write(json);
    if (interruptSignal.aborted) return EXIT_INTERRUPTED;
    return results.some((r) => r.status === 'failed') ? EXIT_EXPORT_FAILED : EXIT_OK;
  } finally {
    progress.close();
    await state.close();
  }
}
