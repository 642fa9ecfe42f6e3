import { Option, type Command } from 'commander';
import type { RunCommandOptions } from './run-action.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Options and help only: the work is in run-action.ts, imported when the command runs (docs/adr/0005). */
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
    .addOption(new Option('--parallel-exports', 'run the exports concurrently in this process, one live card each (ignored with --export)'))
    .addOption(new Option('--parallel-export-processes', 'run each export in its own child process, one live card each (ignored with --export)'))
    .action(async (opts: RunCommandOptions) => {
      const { runCommand } = await import('./run-action.js');
      process.exitCode = await runCommand(opts, { stdout: process.stdout, stderr: process.stderr });
    });
}
