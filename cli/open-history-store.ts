import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { RivetError } from '../shared/errors/rivet-error.js';
import { openBackend, stateBackend } from '../shared/state/open-state-store.js';
import { defaultStatePath } from '../shared/state/sqlite-state-store.js';
import type { StateStore } from '../shared/state/state-store.js';

/**
 * The state store of a config, for commands that only read history (`metrics`, `journal`,
 * `state files`). The config is not loaded: history must stay readable on a machine that
 * lacks the source's credentials or a run's `--param` values. Null when nothing has run yet,
 * so a read-only command does not create an empty database as a side effect.
 */
export function openHistoryStore(configPath: string): StateStore | null {
  const abs = resolve(configPath);
  if (!existsSync(abs)) {
    throw new RivetError('CONFIG_NOT_FOUND', `config file not found: ${configPath}`, {
      hint: 'check the path given to --config',
    });
  }
  // A remote backend (RIVET_STATE_URL / RIVET_STATE_TABLE) is shared and always there to read.
  const backend = stateBackend(defaultStatePath(abs));
  return backend.kind !== 'sqlite' || existsSync(backend.path) ? openBackend(backend) : null;
}
