import type pg from 'pg';

/**
 * One schema step of the PostgreSQL state store. `{{s}}` in the SQL stands for the quoted
 * state schema. Versions are global across modules, like SQLite's (history v1, cursors v2,
 * chunk checkpoints v3, …; pg-schema.ts) and recorded in `rivet_schema_version`, the reference's PG name.
 */
export interface PgMigration {
  version: number;
  sql: string;
}

/** Arbitrary constant pairing with the schema's hash: the advisory lock that serialises migrations. */
const LOCK_CLASS = 0x52495654; // "RIVT"

/**
 * Create the schema and bring it to the latest version, in one transaction under an
 * advisory lock, so two processes starting at once neither race on DDL nor half-apply a step.
 * A schema already at the latest version costs one read and no lock.
 */
export async function migratePg(
  client: pg.PoolClient,
  schema: string,
  migrations: readonly PgMigration[],
  expand: (sql: string) => string,
): Promise<void> {
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  const latest = ordered.at(-1)?.version ?? 0;
  const s = `"${schema}"`;
  const current = async (): Promise<number> => {
    const exists = await client.query(`SELECT to_regclass($1) AS t`, [`${s}.rivet_schema_version`]);
    if (exists.rows[0].t === null) return 0;
    const r = await client.query<{ v: string }>(`SELECT COALESCE(MAX(version), 0) AS v FROM ${s}.rivet_schema_version`);
    return Number(r.rows[0].v);
  };
  if ((await current()) >= latest) return;

  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [LOCK_CLASS, schema]);
    // CREATE SCHEMA needs the CREATE privilege even when the schema exists: ask first.
    const has = await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schema]);
    if (has.rowCount === 0) await client.query(`CREATE SCHEMA ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.rivet_schema_version (version BIGINT NOT NULL)`);
    const from = await current();
    for (const m of ordered) {
      if (m.version <= from) continue;
      await client.query(expand(m.sql));
      await client.query(`INSERT INTO ${s}.rivet_schema_version (version) VALUES ($1)`, [m.version]);
    }
    await client.query(`DELETE FROM ${s}.rivet_schema_version WHERE version < (SELECT MAX(version) FROM ${s}.rivet_schema_version)`);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  }
}
