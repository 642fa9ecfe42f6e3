import type { Command } from 'commander';
import { formatOption } from '../output-format.js';
import type { StateFilesOptions } from './state-files-action.js';

/** Options and help only: the work is in state-files-action.ts, imported when the command runs (docs/adr/0005). */
export function registerStateFiles(state: Command): void {
  state
    .command('files')
    .description('list the data files runs have written (newest first)')
    .requiredOption('-c, --config <path>', 'path to rivet.yaml')
    .option('-e, --export <name>', 'only this export')
    .option('-l, --last <n>', 'number of recent files to show', '50')
    .addOption(formatOption())
    .action(async (opts: StateFilesOptions) => {
      const { stateFilesCommand } = await import('./state-files-action.js');
      process.exitCode = await stateFilesCommand(opts, process.stdout);
    });
}
