import type { Command } from 'commander';
import { registerStateFiles } from './state-files.js';
import { registerStateCursors } from './state-cursors.js';
import { registerStateChunks } from './state-chunks.js';

/**
 * `rivet state <sub>`: each subcommand lives in its own file (state-*.ts) and registers
 * itself on the `state` command through this list.
 */
const SUBCOMMANDS: ((state: Command) => void)[] = [registerStateFiles, registerStateCursors, registerStateChunks];

export function registerState(program: Command): void {
  const state = program.command('state').description('inspect and manage export state (cursors, files, chunk checkpoints)');
  for (const register of SUBCOMMANDS) register(state);
}
