import { defineConfig } from 'vitest/config';

/**
 * The LocalStack suite (`npm run test:localstack`, run by .ci/run after `npm test`): the CDK
 * app deployed to LocalStack (a host process started by test/services/localstack.sh) and
 * driven with `rivet cloud run`. One file at a time: every file deploys a stack into the same
 * LocalStack, and the machine has two cores.
 */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/localstack/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
