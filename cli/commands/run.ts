import { writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { loadConfig } from '../../shared/config/load.js';
import { parseParams } from '../../shared/config/params.js';
import { EXIT_EXPORT_FAILED, EXIT_OK, RivetError, notSupportedYet } from '../../shared/errors/rivet-error.js';
import { createLogger, type Logger } from '../../shared/log/logger.js';
import { redact } from '../../shared/log/redact.js';
import { configRunDeps } from '../../shared/run/local-deps.js';
import type { RunResult } from '../../shared/run/run-plan.js';
import { defaultStatePath, openSqliteStateStore } from '../../shared/state/sqlite-state-store.js';
import { runExportLocally } from '../local-driver.js';
import { EXIT_INTERRUPTED, interruptSignal } from '../interrupt.js';
import { startRssSampler } from '../../shared/run/rss-sampler.js';
import { createProgress } from '../progress.js';
import { aggregateBlock, buildAggregate, exportBlock } from '../summary.js';
import { formatBytes, formatDuration, thousands } from '../format-helpers.js';
import { checkRows, checksSummary, runPostRunChecks, withChecks, type RunChecks } from '../post-run-checks.js';

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

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the exports of a config file')
    .requiredOption('-c, --config <path>', 'path to rivet.yaml')
    .option('-e, --export <name>', 'run only this export')
    .option('-p, --param <key=value>', 'query parameter, substitutes ${key} (repeatable)', collect)
    .option('--json', 'print the run aggregate as JSON on stdout')
    .option('--summary-output <path>', 'write the run aggregate as JSON to this file')
    .addOption(new Option('--validate', 'after each export, verify its prefix (manifest, _SUCCESS, every part by size and content); a failed check fails the export'))
    .addOption(new Option('--reconcile', 'after each export, compare COUNT(*) of the base query with the exported rows; a mismatch fails the export'))
    .addOption(new Option('--resume', 'resume the unfinished run of a chunked export with chunk_checkpoint: true'))
    .addOption(new Option('--force', 'with --resume: allow a prefix that already has _SUCCESS'))
    .addOption(new Option('--parallel-exports', 'run exports concurrently (not supported yet)'))
    .addOption(new Option('--parallel-export-processes', 'one process per export (not supported yet)'))
    .action(async (opts: RunCommandOptions) => {
      process.exitCode = await runCommand(opts, { stdout: process.stdout, stderr: process.stderr });
    });
}

/** `rivet run`: every selected export, one after the other, through the local driver. Returns the exit status. */
export async function runCommand(opts: RunCommandOptions, io: CommandIO): Promise<number> {
  const log = io.log ?? createLogger();
  for (const [flag, set] of [
    ['--parallel-exports', opts.parallelExports],
    ['--parallel-export-processes', opts.parallelExportProcesses],
  ] as const) {
    if (set) throw notSupportedYet(`\`rivet run ${flag}\``, 'run without that flag for now');
  }
  if (opts.force && !opts.resume) log.warn('--force has no effect without --resume');

  const params = parseParams(opts.param ?? []);
  const loaded = await loadConfig(opts.config, { params, log });
  const names = opts.export ? [opts.export] : loaded.config.exports.map((e) => e.name);
  if (opts.export && !loaded.config.exports.some((e) => e.name === opts.export)) {
    throw new RivetError('USAGE', `export '${opts.export}' is not in ${opts.config}`, {
      hint: `exports in this config: ${loaded.config.exports.map((e) => e.name).join(', ')}`,
    });
  }
  for (const flag of ['parallel_exports', 'parallel_export_processes'] as const) {
    if (loaded.config[flag]) throw notSupportedYet(`\`${flag}: true\``, 'remove it from the config for now');
  }

  const state = openSqliteStateStore(defaultStatePath(loaded.path));
  const progress = createProgress(io.stderr);
  const deps = configRunDeps({
    configPath: loaded.path,
    state,
    log,
    preloaded: { params, config: loaded },
    onProgress: (e) => progress.rows(e.exportName, e.rowsDelta),
  });
  try {
    // Resolve every selected export first: a config problem in the third export must not
    // surface after the first two already ran.
    const resolved = [];
    for (const name of names) resolved.push(await deps.resolveExport(name, params));

    const startedAt = new Date();
    const stopSampler = startRssSampler();
    const results: RunResult[] = [];
    const checks: RunChecks[] = [];
    const wanted = { validate: opts.validate === true, reconcile: opts.reconcile === true };
    for (const exp of resolved) {
      if (interruptSignal.aborted) break; // Ctrl-C: the exports not started yet are not run
      progress.start(exp.name, exp.mode);
      const run = await runExportLocally({ exportName: exp.name, params, deps, resume: opts.resume, force: opts.force, interrupt: interruptSignal });
      const checked = interruptSignal.aborted ? { result: run, checks: { validation: null, reconciliation: null } } : await runPostRunChecks(run, exp, wanted, deps);
      const r = checked.result;
      results.push(r);
      checks.push(checked.checks);
      progress.finish(
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

    const aggregate = withChecks(buildAggregate(results, opts.config, startedAt, finishedAt), checks, wanted);
    if (results.length === 1) {
      const exp = resolved[0];
      io.stderr.write(exportBlock(results[0], { tuning: `profile=${exp.tuning.profileLabel}, batch_size=${thousands(exp.tuning.batchSize)}`, compression: exp.compression, format: exp.format, checks: checkRows(checks[0]) }));
    } else {
      io.stderr.write(aggregateBlock(aggregate, results) + checksSummary(checks));
    }
    const json = redact(JSON.stringify(aggregate, null, 2)) + '\n';
    if (opts.summaryOutput) {
      await writeFile(opts.summaryOutput, json).catch((e) => {
        throw new RivetError('USAGE', `cannot write --summary-output ${opts.summaryOutput}: ${(e as Error).message}`);
      });
      io.stderr.write(`  written:     ${opts.summaryOutput}\n`);
    }
    if (opts.json) io.stdout.write(json);
    if (interruptSignal.aborted) return EXIT_INTERRUPTED;
    if (interruptSignal.aborted) return EXIT_INTERRUPTED;
    return results.some((r) => r.status === 'failed') ? EXIT_EXPORT_FAILED : EXIT_OK;
  } finally {
    progress.close();
    await state.close();
  }
}
