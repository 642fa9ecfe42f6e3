import { dirname, join } from 'node:path';
import { lazyStateStore } from './lazy-state-store.js';
import type { StateStore } from './state-store.js';

/** `.rivet_state.db` next to the config file, like the reference tool. */
export function defaultStatePath(configPath: string): string {
  return join(dirname(configPath), '.rivet_state.db');
}

/**
 * The default state backend: one SQLite file (sqlite/sqlite-driver.ts) under the one SQL
 * store. better-sqlite3 is loaded, and the file opened and migrated, on the first call.
 */
export function openSqliteStateStore(path: string): StateStore {
  return lazyStateStore('sqlite', async () => {
    const [{ openSqliteDriver }, { sqlStateStore }] = await Promise.all([import('./sqlite/sqlite-driver.js'), import('./sql/sql-state-store.js')]);
    return sqlStateStore(await openSqliteDriver(path));
  });
}
