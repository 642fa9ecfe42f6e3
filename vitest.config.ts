import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Needs a live SQL Server (none runs on CI): `npm run test:mssql` with RIVET_TEST_MSSQL_URL.
    // The LocalStack suite has its own command, run by .ci/run after this one: `npm run test:localstack`.
    exclude: [...configDefaults.exclude, 'test/mssql/**', 'test/localstack/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests share one PostgreSQL server; files run in parallel, each in its own schema.
    pool: 'forks',
  },
});
