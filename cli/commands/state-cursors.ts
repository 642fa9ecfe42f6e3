import type { Command } from 'commander';
import { formatOption } from '../output-format.js';
import type { StateCursorOptions } from './state-cursors-action.js';

/** Options and help only: the work is in state-cursors-action.ts, imported when the command runs (docs/adr/0005). */
export function registerStateCursors(state: Command): void {
  state
    .command('show')
    .description('show the stored cursor of every incremental export')
    .requiredOption('-c, --config <path>', 'path to rivet.yaml')
    .addOption(formatOption())
    .action(async (opts: StateCursorOptions) => {
      const { stateShowCommand } = await import('./state-cursors-action.js');
      process.exitCode = await stateShowCommand(opts, process.stdout);
    });
  state
    .command('reset')
    .description("forget an export's cursor: its next run exports every row again")
    .requiredOption('-c, --config <path>', 'path to rivet.yaml')
    .requiredOption('-e, --export <name>', 'the export whose cursor is reset')
    .action(async (opts: StateCursorOptions & { export: string }) => {
      const { stateResetCommand } = await import('./state-cursors-action.js');
      process.exitCode = await stateResetCommand(opts, process.stdout);
    });
  state
    .command('progression')
    .description('show the committed and verified boundaries of each export (advisory)')
    .requiredOption('-c, --config <path>', 'path to rivet.yaml')
    .option('-e, --export <name>', 'only this export')
    .addOption(formatOption())
    .action(async (opts: StateCursorOptions) => {
      const { stateProgressionCommand } = await import('./state-cursors-action.js');
      process.exitCode = await stateProgressionCommand(opts, process.stdout);
    });
}
