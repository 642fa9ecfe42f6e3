import { RivetError } from '../shared/errors/rivet-error.js';
import { createLogger } from '../shared/log/logger.js';
import { configRunDeps } from '../shared/run/local-deps.js';
import type { RunDeps } from '../shared/run/run-deps.js';
import { openSqliteStateStore } from '../shared/state/sqlite-state-store.js';

/**
 * Deps for a handler running on its own (a Lambda container): the config path comes from
 * RIVET_CONFIG, the state store from RIVET_STATE_PATH (SQLite) until the DynamoDB store lands.
 */
export async function depsFromEnvironment(): Promise<RunDeps> {
  const configPath = process.env.RIVET_CONFIG;
  if (!configPath) {
    throw new RivetError('USAGE', 'RIVET_CONFIG is not set', { hint: 'point RIVET_CONFIG at the rivet.yaml bundled with the function' });
  }
  const state = openSqliteStateStore(process.env.RIVET_STATE_PATH ?? '/tmp/.rivet_state.db');
  return configRunDeps({ configPath, state, log: createLogger() });
}
