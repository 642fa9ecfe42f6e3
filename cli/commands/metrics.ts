import type { Command } from 'commander';
import { formatOption } from '../output-format.js';
import type { MetricsCommandOptions } from './metrics-action.js';

/** Options and help only: the work is in metrics-action.ts, imported when the command runs (docs/adr/0005). */
export function registerMetrics(program: Command): void {
  program
    .command('metrics')
    .description('show export run history: status, rows, duration, files, bytes (newest first)')
    .requiredOption('-c, --config <path>', 'path to rivet.yaml')
    .option('-e, --export <name>', 'only this export')
    .option('-l, --last <n>', 'number of recent runs to show', '20')
    .addOption(formatOption())
    .action(async (opts: MetricsCommandOptions) => {
      const { metricsCommand } = await import('./metrics-action.js');
      process.exitCode = await metricsCommand(opts, process.stdout);
    });
}
