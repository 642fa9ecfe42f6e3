import { Option, type Command } from 'commander';
import type { RepairCommandOptions } from './repair-action.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Options and help only: the work is in repair-action.ts, imported when the command runs (docs/adr/0005). */
export function registerRepair(program: Command): void {
  program
    .command('repair')
    .description('re-export only the chunks a reconcile flagged (prints the plan unless --execute)')
    .requiredOption('-c, --config <path>', 'path to rivet.yaml')
    .requiredOption('-e, --export <name>', 'the chunked export to repair')
    .option('-p, --param <key=value>', 'query parameter, substitutes ${key} (repeatable)', collect)
    .option('--report <file>', 'a reconcile JSON report (`rivet reconcile --format json -o <file>`); default: reconcile now')
    .option('--execute', 're-export the flagged chunks as new parts; without it nothing is written')
    .addOption(new Option('--format <format>', 'output format').choices(['pretty', 'json']).default('pretty'))
    .option('-o, --output <file>', 'write the plan / report JSON to this file')
    .action(async (opts: RepairCommandOptions) => {
      const { repairCommand } = await import('./repair-action.js');
      process.exitCode = await repairCommand(opts, { stdout: process.stdout });
    });
}
