#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EXIT_CONFIG, RivetError, errorChain } from '../shared/errors/rivet-error.js';
import { redact } from '../shared/log/redact.js';
import { EXIT_INTERRUPTED, requestInterrupt } from './interrupt.js';
import { registerRun } from './commands/run.js';
import { registerDemo } from './commands/demo.js';
import { registerState } from './commands/state.js';
import { registerDoctor } from './commands/doctor.js';
import { registerCheck } from './commands/check.js';
import { registerInit } from './commands/init.js';
import { registerSchema } from './commands/schema.js';
import { registerValidate } from './commands/validate.js';
import { registerMetrics } from './commands/metrics.js';
import { registerJournal } from './commands/journal.js';
import { registerCompletions } from './commands/completions.js';
import { registerPlan } from './commands/plan.js';
import { registerApply } from './commands/apply.js';
import { registerReconcile } from './commands/reconcile.js';
import { registerRepair } from './commands/repair.js';
import { registerCloud } from './commands/cloud.js';

/**
 * Every command registers itself; a new command is its register file, its action file
 * (imported only when the command runs: docs/adr/0005) and one line here.
 */
// One line per command, in the order `rivet --help` lists them.
const COMMANDS: ((program: Command) => void)[] = [
  registerRun,
  registerPlan,
  registerApply,
  registerDemo,
  registerState,
  registerValidate,
  registerReconcile,
  registerRepair,
  registerCloud,
  registerMetrics,
  registerJournal,
  registerCheck,
  registerDoctor,
  registerInit,
  registerSchema,
  registerCompletions,
];

/**
 * The entry point, and the only place that calls process.exit. Errors become one line on
 * stderr (`error: …` plus a `hint: …` line), or `{"error": "…"}` with --json-errors.
 */
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function buildProgram(): Command {
  const program = new Command('rivet')
    .description('Export PostgreSQL, MySQL/MariaDB and SQL Server tables and queries to Parquet or CSV, with a manifest and _SUCCESS you can verify.')
    .version(`rivet ${pkg.version}`, '-V, --version', 'print the version')
    .option('--json-errors', 'print errors as {"error": "..."} JSON on stderr')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  for (const register of COMMANDS) register(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  const jsonErrors = argv.includes('--json-errors');
  const args = argv.filter((a) => a !== '--json-errors');
  const program = buildProgram();
  try {
    if (args.length === 0) {
      program.outputHelp({ error: true });
      return EXIT_CONFIG;
    }
    await program.parseAsync(args, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      if (jsonErrors) process.stderr.write(JSON.stringify({ error: e.message.replace(/^error: /, '') }) + '\n');
      return EXIT_CONFIG;
    }
    return reportError(e, jsonErrors);
  }
}

function reportError(e: unknown, jsonErrors: boolean): number {
  const isRivet = e instanceof RivetError;
  const message = redact(isRivet ? e.message : errorChain(e));
  const hint = isRivet && e.hint ? redact(e.hint) : undefined;
  if (jsonErrors) {
    process.stderr.write(JSON.stringify({ error: message, ...(isRivet ? { code: e.code } : {}), ...(hint ? { hint } : {}) }) + '\n');
  } else {
    process.stderr.write(`error: ${message}\n${hint ? `  hint: ${hint}\n` : ''}`);
    if (!isRivet) {
      process.stderr.write('  this is a bug in rivet; rerun with RIVET_DEBUG=1 for details and report it\n');
      if (process.env.RIVET_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
    }
  }
  return isRivet ? e.exitCode : 1;
}

process.on('SIGINT', () => {
  if (requestInterrupt()) {
    process.stderr.write('\nrivet: stopping after Ctrl-C (press it again to quit at once)\n');
  } else {
    process.exit(EXIT_INTERRUPTED);
  }
});

// Exit only after stdout has drained: with a stdout destination the data is still in flight.
const exit = (code: number) => process.stdout.write('', () => process.exit(code));
main(process.argv.slice(2)).then(exit, (e) => exit(reportError(e, false)));
