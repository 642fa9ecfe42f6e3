import type { Command } from 'commander';
import { formatOption } from '../output-format.js';
import type { JournalCommandOptions } from './journal-action.js';

/** Options and help only: the work is in journal-action.ts, imported when the command runs (docs/adr/0005). */
export function registerJournal(program: Command): void {
  program
    .command('journal')
    .description("show an export's run journals: status, files, rows, retries, verdicts, first error line (newest first)")
    .requiredOption('-c, --config <path>', 'path to rivet.yaml')
    .requiredOption('-e, --export <name>', 'export to inspect')
    .option('-l, --last <n>', 'number of recent runs to show', '5')
    .option('--run-id <id>', 'show this one run (any export)')
    .addOption(formatOption())
    .action(async (opts: JournalCommandOptions) => {
      const { journalCommand } = await import('./journal-action.js');
      process.exitCode = await journalCommand(opts, process.stdout);
    });
}
