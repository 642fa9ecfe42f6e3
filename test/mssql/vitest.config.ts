import { defineConfig } from 'vitest/config';

/**
 * The live SQL Server suite (`npm run test:mssql`). No SQL Server runs on the CI machines,
 * so these tests are not part of `npm test`; they need a server named by
 * RIVET_TEST_MSSQL_URL (docker-compose.yaml has one: see docs/sources/sqlserver.md).
 */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/mssql/**/*.test.ts'],
    globalSetup: ['test/mssql/require-server.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
