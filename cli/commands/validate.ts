import { Option, type Command } from 'commander';
import type { ValidateCommandOptions } from './validate-action.js';

/** Options and help only: the work is in validate-action.ts, imported when the command runs (docs/adr/0005). */
export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('verify the manifest, _SUCCESS and every part (size and content) at an export destination; never queries the source')
    .requiredOption('-c, --config <path>', 'path to rivet.yaml')
    .option('-e, --export <name>', 'validate only this export')
    .option('--date <YYYY-MM-DD>', 'resolve {date} to this UTC date instead of today')
    .option('--run-id <id>', 'resolve {run_id} to this run id')
    .option('--prefix <prefix>', 'verify exactly this path/prefix (no placeholders); needs a single export')
    .addOption(new Option('--format <format>', 'output format').choices(['pretty', 'json']).default('pretty'))
    .option('-o, --output <file>', 'with --format json: write the report to this file instead of stdout')
    .action(async (opts: ValidateCommandOptions) => {
      const { validateCommand } = await import('./validate-action.js');
      process.exitCode = await validateCommand(opts, { stdout: process.stdout, stderr: process.stderr });
    });
}
