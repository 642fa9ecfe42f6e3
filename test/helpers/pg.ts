import pg from 'pg';

/** URL of the PostgreSQL server started by test/services/up.sh (override with RIVET_TEST_PG_URL). */
export function testPgUrl(): string {
  return process.env.RIVET_TEST_PG_URL ?? `postgresql://rivet:rivet@127.0.0.1:${process.env.RIVET_TEST_PG_PORT ?? '54329'}/rivet_test`;
}

/** Run SQL on the test server with a short-lived client. */
export async function pgExec<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: testPgUrl() });
  await client.connect();
  try {
    const res = await client.query<T>(sql, params);
    return res.rows;
  } finally {
    await client.end();
  }
}

/** A fresh schema for one test file, so files can run in parallel against one server. */
export async function freshSchema(prefix: string): Promise<string> {
  const name = `${prefix}_${process.pid}_${Math.floor(Math.random() * 1e6)}`.toLowerCase();
  await pgExec(`DROP SCHEMA IF EXISTS ${name} CASCADE; CREATE SCHEMA ${name}`);
  return name;
}
