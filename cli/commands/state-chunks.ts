import type { Command } from 'commander';
import { formatOption } from '../output-format.js';
import type { StateChunksOptions } from './state-chunks-action.js';

/** Options and help only: the work is in state-chunks-action.ts, imported when the command runs (docs/adr/0005). */
export function registerStateChunks(state: Command): void {
  state
    .command('chunks')
    .description('show the chunk checkpoint of a chunked export (latest run, one line per chunk)')
    .requiredOption('-c, --config <path>', 'path to rivet.yaml')
    .requiredOption('-e, --export <name>', 'the chunked export')
    .addOption(formatOption())
    .action(async (opts: StateChunksOptions & { export: string }) => {
      const { stateChunksCommand } = await import('./state-chunks-action.js');
      process.exitCode = await stateChunksCommand(opts, process.stdout);
    });
  state
    .command('reset-chunks')
    .description('delete chunk checkpoints so the next run plans fresh chunks')
    .requiredOption('-c, --config <path>', 'path to rivet.yaml')
    .option('-e, --export <name>', 'every checkpoint of this export')
    .option('--stuck-checkpoints', 'every export of the config whose checkpointed run is still in progress')
    .option('--failed', 'alias of --stuck-checkpoints')
    .action(async (opts: StateChunksOptions) => {
      const { stateResetChunksCommand } = await import('./state-chunks-action.js');
      process.exitCode = await stateResetChunksCommand(opts, process.stdout);
    });
}
