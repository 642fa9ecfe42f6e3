import type { StateStore } from '../state-store.js';
import { sqlChunks } from './sql-chunks.js';
import { sqlCursors } from './sql-cursors.js';
import { sqlHistory } from './sql-history.js';
import { sqlLeases } from './sql-leases.js';
import type { SqlStateDriver } from './sql-state-driver.js';

/**
 * The one SQL state store: the same statements, row mappers and compare-and-set updates for
 * SQLite and PostgreSQL, over a driver that binds the placeholders, runs the transactions and
 * owns the schema (ADR 0013). Each concern is its own module here.
 */
export function sqlStateStore(db: SqlStateDriver): StateStore {
  return {
    kind: db.kind,
    ...sqlHistory(db),
    ...sqlCursors(db),
    ...sqlChunks(db),
    ...sqlLeases(db),
    close: () => db.close(),
  };
}
