import Database from 'better-sqlite3';
import { dirname, join } from 'node:path';
import { RivetError } from '../errors/rivet-error.js';
import type { StateStore } from './state-store.js';
import { AGGREGATE_MIGRATION, HISTORY_MIGRATION, sqliteHistory } from './sqlite/history.js';
import { BOUNDARY_MIGRATION, CURSORS_MIGRATION, sqliteCursors } from './sqlite/cursors.js';
import { CHUNKS_MIGRATION, sqliteChunks } from './sqlite/chunks.js';
import { LEASES_MIGRATION, sqliteLeases } from './sqlite/leases.js';
import { migrate } from './sqlite/sqlite-migration.js';

/** `.rivet_state.db` next to the config file, like the reference tool. */
export function defaultStatePath(configPath: string): string {
  return join(dirname(configPath), '.rivet_state.db');
}

/**
 * The default state backend: one SQLite file, WAL mode, a 10 s busy timeout (several
 * processes may share it). Each concern lives in its own module under ./sqlite/.
 */
export function openSqliteStateStore(path: string): StateStore {
  let db: Database.Database;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 10000');
    migrate(db, [HISTORY_MIGRATION, CURSORS_MIGRATION, CHUNKS_MIGRATION, LEASES_MIGRATION, BOUNDARY_MIGRATION, AGGREGATE_MIGRATION]);
  } catch (e) {
    throw new RivetError('STATE', `cannot open the state database ${path}: ${(e as Error).message}`, {
      hint: 'check that the directory of the config file is writable, or delete a corrupt .rivet_state.db',
      cause: e,
    });
  }
  return {
    kind: 'sqlite',
    ...sqliteHistory(db),
    ...sqliteCursors(db),
    ...sqliteChunks(db),
    ...sqliteLeases(db),
    async close() {
      db.close();
    },
  };
}
