import type { Logger } from '../log/logger.js';
import type { StateStore } from './state-store.js';
import { openPgStateDb, type PgStateTarget } from './postgres/pg-state-db.js';
import { PG_AGGREGATE_MIGRATION, PG_HISTORY_MIGRATION, pgHistory } from './postgres/history.js';
import { PG_BOUNDARY_MIGRATION, PG_CURSORS_MIGRATION, pgCursors } from './postgres/cursors.js';
import { PG_CHUNKS_MIGRATION, pgChunks } from './postgres/chunks.js';
import { PG_LEASES_MIGRATION, pgLeases } from './postgres/leases.js';

/**
 * The PostgreSQL state backend (`RIVET_STATE_URL=postgresql://…`): the SQLite store's tables
 * in their own schema (default `rivet_state`), shared by every machine and container that
 * points at the server. Row locks and conditional updates keep concurrent workers and runs
 * from overwriting each other's cursor or chunk records. Connects on first use.
 */
export function openPostgresStateStore(target: PgStateTarget, log?: Logger): StateStore {
  const db = openPgStateDb(target, [PG_HISTORY_MIGRATION, PG_CURSORS_MIGRATION, PG_CHUNKS_MIGRATION, PG_LEASES_MIGRATION, PG_BOUNDARY_MIGRATION, PG_AGGREGATE_MIGRATION], log);
  return {
    kind: 'postgres',
    ...pgHistory(db),
    ...pgCursors(db),
    ...pgChunks(db),
    ...pgLeases(db),
    close: () => db.close(),
  };
}
