import type Database from 'better-sqlite3';

/**
 * One schema step. Versions are global across the modules of the SQLite store (history is
 * v1, cursors and progression v2, chunk checkpoints v3, …; sqlite-schema.ts) and recorded in `schema_version`.
 */
export interface SqliteMigration {
  version: number;
  sql: string;
}

export function migrate(db: Database.Database, migrations: readonly SqliteMigration[]): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`);
  const current = (db.prepare(`SELECT COALESCE(MAX(version), 0) AS v FROM schema_version`).get() as { v: number }).v;
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare(`INSERT INTO schema_version (version) VALUES (?)`).run(m.version);
    })();
  }
}
