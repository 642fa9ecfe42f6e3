import { realpathSync } from 'node:fs';
import { RivetError } from '../../shared/errors/rivet-error.js';
import type { ResolvedExport, RunDeps } from '../../shared/run/run-deps.js';
import { ModeSchema, type RunResult } from '../../shared/run/run-plan.js';
import { runExportLocally, toFailure } from '../local-driver.js';
import type { RunChecks, RunChecksWanted } from '../post-run-checks.js';
import { createCardBoard } from './card-board.js';
import { childFailureMessage, superviseChildren, type ChildOutcome } from './child-supervisor.js';
import { ExportEventTracker } from './export-events.js';
import { runNotStarted } from '../../shared/run/run-not-started.js';

export type ParallelMode = 'sequential' | 'parallel-threads' | 'parallel-processes';

/**
 * Which way `rivet run` runs its exports. Processes win over threads (flag or root config
 * key); either needs more than one export and no `-e`.
 */
export function chooseParallelMode(
  flags: { parallelExports?: boolean; parallelExportProcesses?: boolean; export?: string },
  config: { parallel_exports?: boolean; parallel_export_processes?: boolean },
  exportCount: number,
): ParallelMode {
  if (flags.parallelExports && flags.parallelExportProcesses) {
    throw new RivetError('USAGE', 'choose only one of --parallel-exports and --parallel-export-processes', {
      hint: '--parallel-exports runs the exports concurrently in this process; --parallel-export-processes runs one child process per export',
    });
  }
  if (flags.export || exportCount < 2) return 'sequential';
  if (flags.parallelExportProcesses || config.parallel_export_processes) return 'parallel-processes';
  if (flags.parallelExports || config.parallel_exports) return 'parallel-threads';
  return 'sequential';
}

/**
 * In-process exports run at once at most. Each export keeps its own `parallel` workers and
 * source connections, so an unbounded fan-out could exhaust the source's connection limit.
 */
export const MAX_PARALLEL_EXPORTS = 8;

export interface ThreadsRunOptions {
  resolved: ResolvedExport[];
  params: Record<string, string>;
  deps: RunDeps;
  /** Receives the rows the workers stream (wired to deps.onProgress by the caller). */
  setTracker(tracker: ExportEventTracker): void;
  /** Where log lines go while the cards are live. */
  routeLog(sink: ((line: string) => void) | null): void;
  resume?: boolean;
  force?: boolean;
  wanted: RunChecksWanted;
  interrupt: AbortSignal;
  stream: NodeJS.WriteStream;
}

/** `--parallel-exports`: the exports share this process and its state store; one card each. */
export async function runInThreads(o: ThreadsRunOptions): Promise<{ results: RunResult[]; checks: RunChecks[] }> {
  const board = createCardBoard(o.resolved.map((e) => ({ name: e.name, mode: e.mode })), o.stream);
  const tracker = new ExportEventTracker(board.handle);
  o.setTracker(tracker);
  o.routeLog(board.note);
  const results: RunResult[] = new Array(o.resolved.length);
  const checks: RunChecks[] = new Array(o.resolved.length);
  let next = 0;
  const lane = async () => {
    while (next < o.resolved.length) {
      const i = next++;
      const exp = o.resolved[i];
      if (o.interrupt.aborted) {
        results[i] = notRun(exp, 'interrupted (SIGINT) before this export started');
        checks[i] = { validation: null, reconciliation: null };
        tracker.begin(exp.name, startInfo(exp));
        tracker.finish(results[i]);
        continue;
      }
      const hooks = tracker.begin(exp.name, startInfo(exp));
      let checked: { result: RunResult; checks: RunChecks };
      try {
        checked = await runExportLocally({ exportName: exp.name, params: o.params, deps: o.deps, resume: o.resume, force: o.force, checks: o.wanted, interrupt: o.interrupt, ...hooks });
      } catch (e) {
        // A usage error in one export (e.g. --resume without a checkpoint) fails that export, not the run.
        checked = { result: { ...notRun(exp, ''), error: toFailure(e) }, checks: { validation: null, reconciliation: null } };
      }
      results[i] = checked.result;
      checks[i] = checked.checks;
      tracker.finish(checked.result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(MAX_PARALLEL_EXPORTS, o.resolved.length) }, lane));
  board.close();
  o.routeLog(null);
  return { results, checks };
}

export interface ProcessesRunOptions {
  exports: { name: string; mode: string }[];
  configPath: string;
  params: Record<string, string>;
  validate?: boolean;
  reconcile?: boolean;
  resume?: boolean;
  force?: boolean;
  interrupt: AbortSignal;
  stream: NodeJS.WriteStream;
}

/** `--parallel-export-processes`: one child per export; the parent only draws and sums up. */
export async function runInProcesses(o: ProcessesRunOptions): Promise<{ results: RunResult[]; outcomes: ChildOutcome[] }> {
  const board = createCardBoard(o.exports, o.stream);
  const config = canonical(o.configPath);
  const outcomes = await superviseChildren({
    exportNames: o.exports.map((e) => e.name),
    childArgs: (name) => [
      ...process.execArgv,
      process.argv[1],
      'run',
      '--config',
      config,
      '--export',
      name,
      ...(o.validate ? ['--validate'] : []),
      ...(o.reconcile ? ['--reconcile'] : []),
      ...(o.resume ? ['--resume'] : []),
      ...(o.force ? ['--force'] : []),
      ...Object.entries(o.params).flatMap(([k, v]) => ['--param', `${k}=${v}`]),
    ],
    onEvent: board.handle,
    onExit: (outcome) => {
      const message = childFailureMessage(outcome);
      if (message) board.fail(outcome.exportName, message);
    },
    interrupt: o.interrupt,
  });
  board.close();
  const results = outcomes.map((outcome, i) => resultOf(outcome, o.exports[i].mode));
  return { results, outcomes };
}

/** The children's stderr, held back during the run, shown after the summary. */
export function heldBackStderr(outcomes: ChildOutcome[]): string {
  const withText = outcomes.filter((o) => o.stderr.length > 0);
  if (withText.length === 0) return '';
  const lines = ['', "  children's stderr (held back while the cards were live):"];
  for (const o of withText) {
    lines.push(`  ── ${o.exportName}`);
    lines.push(...o.stderr.map((l) => `    ${l}`));
    if (o.droppedStderrLines > 0) lines.push(`    … ${o.droppedStderrLines} more lines not kept`);
  }
  return lines.join('\n') + '\n';
}

function resultOf(outcome: ChildOutcome, mode: string): RunResult {
  const f = outcome.finished;
  const failure = childFailureMessage(outcome);
  const base: RunResult = {
    runId: f?.run_id ?? '',
    exportName: outcome.exportName,
    mode: asMode(mode),
    status: 'failed',
    rows: f?.total_rows ?? 0,
    files: f?.files_produced ?? 0,
    bytes: f?.bytes_written ?? 0,
    durationMs: f?.duration_ms ?? 0,
    peakRssMb: f?.peak_rss_mb ?? 0,
    destination: '',
    manifestKey: null,
  };
  if (failure) return { ...base, error: { code: 'CHILD_FAILED', message: failure } };
  if (f!.status === 'failed') return { ...base, error: { code: 'EXPORT_FAILED', message: f!.error_message ?? 'failed' } };
  return { ...base, status: f!.status === 'skipped' ? 'skipped' : 'success' };
}

function notRun(exp: ResolvedExport, message: string): RunResult {
  return runNotStarted(exp.name, asMode(exp.mode), message ? { code: 'INTERRUPTED', message } : undefined);
}

function startInfo(exp: ResolvedExport) {
  return { mode: exp.mode, tuningProfile: exp.tuning.profileLabel, batchSize: exp.tuning.batchSize };
}

function asMode(mode: string): RunResult['mode'] {
  const parsed = ModeSchema.safeParse(mode);
  return parsed.success ? parsed.data : 'full';
}

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

