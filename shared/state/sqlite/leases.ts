import type Database from 'better-sqlite3';
import type { LeaseStore, RunLease } from '../lease-store.js';
import type { SqliteMigration } from './sqlite-migration.js';

/** Run leases (lease-store.ts): rivet's own table, the reference has none. */
export const LEASES_MIGRATION: SqliteMigration = {
  version: 5,
  sql: `
      CREATE TABLE IF NOT EXISTS run_lease (
        export_name TEXT PRIMARY KEY, run_id TEXT NOT NULL, token TEXT NOT NULL,
        host TEXT NOT NULL, pid INTEGER, acquired_at TEXT NOT NULL, expires_at TEXT NOT NULL);
    `,
};

function leaseRow(r: Record<string, unknown>): RunLease {
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

export function sqliteLeases(db: Database.Database): LeaseStore {
  const get = db.prepare(`SELECT * FROM run_lease WHERE export_name = ?`);
  // Each statement is atomic under SQLite's write lock: of two inserts one hits the primary
  // key, of two replacements from the same token only the first still matches.
  const insert = db.prepare(
    `INSERT INTO run_lease (export_name, run_id, token, host, pid, acquired_at, expires_at)
     VALUES (@exportName, @runId, @token, @host, @pid, @acquiredAt, @expiresAt) ON CONFLICT(export_name) DO NOTHING`,
  );
  const replace = db.prepare(
    `UPDATE run_lease SET run_id = @runId, token = @token, host = @host, pid = @pid, acquired_at = @acquiredAt, expires_at = @expiresAt
     WHERE export_name = @exportName AND token = @replacing`,
  );
  const renew = db.prepare(`UPDATE run_lease SET expires_at = ? WHERE export_name = ? AND token = ?`);
  const release = db.prepare(`DELETE FROM run_lease WHERE export_name = ? AND token = ?`);
  return {
    async getLease(exportName) {
      const r = get.get(exportName) as Record<string, unknown> | undefined;
      return r ? leaseRow(r) : null;
    },
    async putLease(lease, replacing) {
      const r = replacing === null ? insert.run(lease) : replace.run({ ...lease, replacing });
      return r.changes === 1;
    },
    async renewLease(exportName, token, expiresAt) {
      return renew.run(expiresAt, exportName, token).changes === 1;
    },
    async releaseLease(exportName, token) {
      return release.run(exportName, token).changes === 1;
    },
  };
}
