import type { LeaseStore, RunLease } from '../lease-store.js';
import type { PgStateDb } from './pg-state-db.js';
import type { PgMigration } from './pg-state-migration.js';

/** Run leases (lease-store.ts); same table and version as in SQLite. */
export const PG_LEASES_MIGRATION: PgMigration = {
  version: 5,
  sql: `
    CREATE TABLE IF NOT EXISTS {{s}}.run_lease (
      export_name TEXT PRIMARY KEY, run_id TEXT NOT NULL, token TEXT NOT NULL,
      host TEXT NOT NULL, pid BIGINT, acquired_at TEXT NOT NULL, expires_at TEXT NOT NULL);
  `,
};

interface LeaseRowPg {
  export_name: string;
  run_id: string;
  token: string;
  host: string;
  pid: string | number | null;
  acquired_at: string;
  expires_at: string;
}

function leaseRow(r: LeaseRowPg): RunLease {
  return {
    exportName: r.export_name,
    runId: r.run_id,
    token: r.token,
    host: r.host,
    pid: r.pid === null ? null : Number(r.pid),
    acquiredAt: r.acquired_at,
    expiresAt: r.expires_at,
  };
}

export function pgLeases(db: PgStateDb): LeaseStore {
  const t = () => db.t('run_lease');
  return {
    async getLease(exportName) {
      const r = await db.query<LeaseRowPg>(`SELECT * FROM ${t()} WHERE export_name = $1`, [exportName]);
      return r.rows[0] ? leaseRow(r.rows[0]) : null;
    },
    async putLease(l, replacing) {
      const values = [l.exportName, l.runId, l.token, l.host, l.pid, l.acquiredAt, l.expiresAt];
      // Row-level: a concurrent UPDATE from the same token waits for the first one's commit,
      // then re-checks the token and matches nothing; of two INSERTs one loses on the key.
      const r =
        replacing === null
          ? await db.query(
              `INSERT INTO ${t()} (export_name, run_id, token, host, pid, acquired_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (export_name) DO NOTHING`,
              values,
            )
          : await db.query(
              `UPDATE ${t()} SET run_id = $2, token = $3, host = $4, pid = $5, acquired_at = $6, expires_at = $7
               WHERE export_name = $1 AND token = $8`,
              [...values, replacing],
            );
      return r.rowCount === 1;
    },
    async renewLease(exportName, token, expiresAt) {
      const r = await db.query(`UPDATE ${t()} SET expires_at = $3 WHERE export_name = $1 AND token = $2`, [exportName, token, expiresAt]);
      return r.rowCount === 1;
    },
    async releaseLease(exportName, token) {
      const r = await db.query(`DELETE FROM ${t()} WHERE export_name = $1 AND token = $2`, [exportName, token]);
      return r.rowCount === 1;
    },
  };
}
