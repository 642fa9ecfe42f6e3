import { Option, type Command } from 'commander';
import type { PlanCommandOptions } from './plan-action.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Options and help only: the work is in plan-action.ts, imported when the command runs (docs/adr/0005). */
export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('compute a sealed execution plan (chunk ranges, cursor snapshot, row estimate, diagnostics) without exporting anything')
    .requiredOption('-c, --config <path>', 'path to rivet.yaml')
    .option('-e, --export <name>', 'plan only this export')
    .option('-p, --param <key=value>', 'query parameter, substitutes ${key} (repeatable)', collect)
    .option('-o, --output <file>', 'write the plan JSON to this file (the artifact `rivet apply` reads)')
    .addOption(new Option('--format <format>', 'pretty: a summary for people; json: the full artifact').choices(['pretty', 'json']).default('pretty'))
    .action(async (opts: PlanCommandOptions) => {
      const { planCommand } = await import('./plan-action.js');
      process.exitCode = await planCommand(opts, { stdout: process.stdout });
    });
}
