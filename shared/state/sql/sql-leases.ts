import type { LeaseStore, RunLease } from '../lease-store.js';
import type { SqlRow, SqlStateDriver } from './sql-state-driver.js';

/** Run leases (lease-store.ts): rivet's own table, the reference has none. */
function leaseRow(r: SqlRow): RunLease {
  return {
    exportName: String(r.export_name),
    runId: String(r.run_id),
    token: String(r.token),
    host: String(r.host),
    pid: r.pid === null || r.pid === undefined ? null : Number(r.pid),
    acquiredAt: String(r.acquired_at),
    expiresAt: String(r.expires_at),
  };
}

export function sqlLeases(db: SqlStateDriver): LeaseStore {
  const leases = db.table('run_lease');
  return {
    async getLease(exportName) {
      const r = await db.query(`SELECT * FROM ${leases} WHERE export_name = $1`, [exportName]);
      return r.rows[0] ? leaseRow(r.rows[0]) : null;
    },
    async putLease(l, replacing) {
      const values = [l.exportName, l.runId, l.token, l.host, l.pid, l.acquiredAt, l.expiresAt];
      // One statement each, so of two inserts one loses on the primary key, and of two
      // replacements from the same token only the first still matches (on PostgreSQL the
      // second waits for the first one's commit, then re-checks the token).
      const r =
        replacing === null
          ? await db.query(
              `INSERT INTO ${leases} (export_name, run_id, token, host, pid, acquired_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (export_name) DO NOTHING`,
              values,
            )
          : await db.query(
              `UPDATE ${leases} SET run_id = $2, token = $3, host = $4, pid = $5, acquired_at = $6, expires_at = $7
               WHERE export_name = $1 AND token = $8`,
              [...values, replacing],
            );
      return r.changes === 1;
    },
    async renewLease(exportName, token, expiresAt) {
      return (await db.query(`UPDATE ${leases} SET expires_at = $3 WHERE export_name = $1 AND token = $2`, [exportName, token, expiresAt])).changes === 1;
    },
    async releaseLease(exportName, token) {
      return (await db.query(`DELETE FROM ${leases} WHERE export_name = $1 AND token = $2`, [exportName, token])).changes === 1;
    },
  };
}
