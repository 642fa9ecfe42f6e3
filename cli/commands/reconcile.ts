import { Option, type Command } from 'commander';
import type { ReconcileCommandOptions } from './reconcile-action.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Options and help only: the work is in reconcile-action.ts, imported when the command runs (docs/adr/0005). */
export function registerReconcile(program: Command): void {
  program
    .command('reconcile')
    .description('compare COUNT(*) of every chunk of the latest checkpointed run with the rows it exported (reads only)')
    .requiredOption('-c, --config <path>', 'path to rivet.yaml')
    .requiredOption('-e, --export <name>', 'the chunked export to reconcile')
    .option('-p, --param <key=value>', 'query parameter, substitutes ${key} (repeatable)', collect)
    .addOption(new Option('--format <format>', 'output format').choices(['pretty', 'json']).default('pretty'))
    .option('-o, --output <file>', 'write the JSON report to this file')
    .action(async (opts: ReconcileCommandOptions) => {
      const { reconcileCommand } = await import('./reconcile-action.js');
      process.exitCode = await reconcileCommand(opts, { stdout: process.stdout });
    });
}
