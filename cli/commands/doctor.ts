import type { Command } from 'commander';

/** Options and help only: the work is in doctor-action.ts, imported when the command runs (docs/adr/0005). */
export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check that the config parses and that the source and every destination accept our credentials')
    .requiredOption('-c, --config <path>', 'path to rivet.yaml')
    .action(async (opts: { config: string }) => {
      const { doctorCommand } = await import('./doctor-action.js');
      process.exitCode = await doctorCommand(opts, { stdout: process.stdout, stderr: process.stderr });
    });
}
