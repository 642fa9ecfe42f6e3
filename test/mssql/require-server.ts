/** Fails the live SQL Server suite up front, with one clear line, when no server is named. */
export default function requireServer(): void {
  if (!process.env.RIVET_TEST_MSSQL_URL) {
    throw new Error(
      'RIVET_TEST_MSSQL_URL is not set: the SQL Server suite needs a live server, e.g.\n' +
        '  docker compose up -d mssql\n' +
        "  RIVET_TEST_MSSQL_URL='sqlserver://sa:Rivet-Passw0rd@127.0.0.1:1433/master' npm run test:mssql",
    );
  }
}
