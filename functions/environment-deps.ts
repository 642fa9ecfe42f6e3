import { RivetError } from '../shared/errors/rivet-error.js';
import { createLogger } from '../shared/log/logger.js';
import { configRunDeps } from '../shared/run/local-deps.js';
import type { RunDeps } from '../shared/run/run-deps.js';
import { openStateStore } from '../shared/state/open-state-store.js';
import type { StateStore } from '../shared/state/state-store.js';
import { createJsonLogger } from './json-logger.js';
import { loadSecretsIntoEnv } from './secrets.js';

export type HandlerRole = 'planner' | 'worker' | 'finalizer';

/**
 * Deps for a handler running on its own (a Lambda container), built once per cold start:
 * secrets from Secrets Manager into the environment (RIVET_SECRETS), the config from
 * RIVET_CONFIG (bundled next to the handler), JSON logs, and the state store named by
 * RIVET_STATE_URL (PostgreSQL or DynamoDB) or RIVET_STATE_TABLE (DynamoDB), else SQLite at RIVET_STATE_PATH.
 */
export async function depsFromEnvironment(role: HandlerRole = 'worker', env: NodeJS.ProcessEnv = process.env): Promise<RunDeps> {
  const log = env.AWS_LAMBDA_FUNCTION_NAME || env.RIVET_JSON_LOGS ? createJsonLogger({ fn: role }) : createLogger();
  const configPath = env.RIVET_CONFIG;
  if (!configPath) {
    throw new RivetError('USAGE', 'RIVET_CONFIG is not set', { hint: 'point RIVET_CONFIG at the rivet.yaml bundled with the function' });
  }
  await loadSecretsIntoEnv(env);
  return configRunDeps({ configPath, state: openStateFromEnvironment(env), log, env });
}

function openStateFromEnvironment(env: NodeJS.ProcessEnv): StateStore {
  return openStateStore({ sqlitePath: env.RIVET_STATE_PATH ?? '/tmp/.rivet_state.db', env });
}
