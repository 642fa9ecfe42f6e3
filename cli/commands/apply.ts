import type { Command } from 'commander';
import type { ApplyCommandOptions } from './apply-action.js';

/** Options and help only: the work is in apply-action.ts, imported when the command runs (docs/adr/0005). */
export function registerApply(program: Command): void {
  program
    .command('apply')
    .description('execute a plan made by `rivet plan` (its chunk ranges as they are; the config is not read again)')
    .argument('<plan-file>', 'plan JSON written by `rivet plan --format json -o <file>`')
    .option('--force', 'apply a plan older than 24 h, or whose incremental cursor moved since it was made')
    .action(async (planFile: string, opts: ApplyCommandOptions) => {
      const { applyCommand } = await import('./apply-action.js');
      process.exitCode = await applyCommand(planFile, opts, { stderr: process.stderr });
    });
}
