import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Needs a live SQL Server (none runs on CI): `npm run test:mssql` with RIVET_TEST_MSSQL_URL.
    // Needs LocalStack (Docker, not on CI): `npm run test:localstack` sets RIVET_LOCALSTACK (docs/aws.md).
    exclude: [...configDefaults.exclude, 'test/mssql/**', ...(process.env.RIVET_LOCALSTACK ? [] : ['test/localstack/**'])],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests share one PostgreSQL server; files run in parallel, each in its own schema.
    pool: 'forks',
  },
});
