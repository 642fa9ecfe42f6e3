import type { Command } from 'commander';
import type { CheckOptions } from './check-action.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Options and help only: the work is in check-action.ts, imported when the command runs (docs/adr/0005). */
export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('preflight: row estimates, index use, verdict and tuning advice per export; --type-report shows how every column maps')
    .requiredOption('-c, --config <path>', 'path to rivet.yaml')
    .option('-e, --export <name>', 'check only this export')
    .option('-p, --param <key=value>', 'query parameter, substitutes ${key} (repeatable)', collect)
    .option('--type-report', 'per column: source type, rivet type, Arrow type and fidelity')
    .option('--strict', 'exit 1 when a column maps lossy or unsupported (or fails the --target)')
    .option('--json', 'print the type report as one JSON object per export and line (diagnostics are not printed)')
    .option('--target <warehouse>', 'add the warehouse column types: bigquery (bq), duckdb (duck), snowflake (sf)')
    .action(async (opts: CheckOptions) => {
      const { checkCommand } = await import('./check-action.js');
      process.exitCode = await checkCommand(opts, { stdout: process.stdout, stderr: process.stderr });
    });
}
