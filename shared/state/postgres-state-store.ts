import type { Logger } from '../log/logger.js';
import { lazyStateStore } from './lazy-state-store.js';
import type { PgStateTarget } from './postgres/pg-state-db.js';
import type { StateStore } from './state-store.js';

/**
 * The PostgreSQL state backend (`RIVET_STATE_URL=postgresql://…`): the SQLite store's tables
 * in their own schema (default `rivet_state`), shared by every machine and container that
 * points at the server, under the one SQL store. pg is loaded on the first call, which also
 * connects and migrates.
 */
export function openPostgresStateStore(target: PgStateTarget, log?: Logger): StateStore {
  return lazyStateStore('postgres', async () => {
    const [{ openPgStateDb }, { sqlStateStore }] = await Promise.all([import('./postgres/pg-state-db.js'), import('./sql/sql-state-store.js')]);
    return sqlStateStore(openPgStateDb(target, undefined, log));
  });
}
