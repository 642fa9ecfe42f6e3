import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pgExec, testPgUrl } from '../helpers/pg.js';
import { awsEnv, clearTable, createBucket, createSecret, deployStack, rivet } from './localstack.js';
import { expectSameDataset as expectSame } from './same-dataset.js';

/**
 * One program, two drivers: for the same rivet.yaml and the same source rows, the deployed
 * stack (`rivet cloud run --wait`: planner Lambda → Distributed Map of worker Lambdas →
 * finalizer Lambda) and `rivet run` on this machine leave the same bytes — every part,
 * manifest.json apart from the run id, times and destination URI, and a _SUCCESS that is the
 * XXH3 of its own manifest's bytes. Both write to LocalStack's S3, each under its own prefix
 * (`${SIDE}` is a run param), with their own state (SQLite next to the config locally, the
 * stack's DynamoDB table on the deployed side).
 */
const STACK = 'RivetLsSame';
const PG_URL = process.env.RIVET_LOCALSTACK_PG_URL ?? testPgUrl();
const PG_LAMBDA_URL = process.env.RIVET_LOCALSTACK_PG_LAMBDA ?? PG_URL;

// Every type the native encoder writes from PostgreSQL that the sample needs, NULLs included.
const ITEMS_SQL = `
DROP TABLE IF EXISTS ls_same_items;
CREATE TABLE ls_same_items AS
SELECT g::bigint AS id,
       CASE WHEN g % 7 = 0 THEN NULL ELSE md5(g::text) || repeat('x', g % 13) END AS note,
       ((g * 37) % 100000 / 100.0)::numeric(12, 2) AS amount,
       timestamptz '2026-01-01 00:00:00+00' + g * interval '17 minutes 3.25 seconds' AS created_at,
       date '2026-01-01' + (g % 400) AS day,
       g % 3 = 0 AS flag,
       CASE WHEN g % 11 = 0 THEN NULL ELSE g / 7.0::float8 END AS ratio,
       (g % 50)::int AS bucket
FROM generate_series(1, 6000) g;
ALTER TABLE ls_same_items ADD PRIMARY KEY (id);`;

const eventsSql = (from: number, to: number) => `
INSERT INTO ls_same_events
SELECT g, timestamptz '2026-02-01 00:00:00+00' + g * interval '1 minute', 'event ' || g, (g * 13 % 1000)::int
FROM generate_series(${from}, ${to}) g;`;

const exportsYaml = (bucket: string) => {
  const dest = (name: string) => `destination: { type: s3, bucket: ${bucket}, prefix: "\${SIDE}/${name}/", region: us-east-1 }`;
  const items = 'table: public.ls_same_items';
  return `source: { type: postgres, url_env: LS_DATABASE_URL }
exports:
  - { name: zstd, ${items}, format: parquet, ${dest('zstd')} }
  - { name: zstd_level3, ${items}, format: parquet, compression: zstd, compression_level: 3, ${dest('zstd_level3')} }
  - { name: snappy, ${items}, format: parquet, compression: snappy, ${dest('snappy')} }
  - { name: gzip, ${items}, format: parquet, compression: gzip, ${dest('gzip')} }
  - { name: plain, ${items}, format: parquet, compression: none, ${dest('plain')} }
  - { name: csv, ${items}, format: csv, ${dest('csv')} }
  - { name: verified, ${items}, format: parquet, verify: content, tuning: { batch_size: 5000, max_batch_memory_mb: 1, on_batch_memory_exceeded: auto_shrink }, ${dest('verified')} }
  - { name: chunked, ${items}, mode: chunked, chunk_column: id, chunk_size: 1000, parallel: 2, format: parquet, ${dest('chunked')} }
  - { name: incremental, table: public.ls_same_events, mode: incremental, cursor_column: updated_at, format: parquet, ${dest('incremental')} }
`;
};

let dir: string;
let bucket: string;

async function runBoth(exportName: string): Promise<void> {
  const config = path.join(dir, 'rivet.yaml');
  const [local, cloud] = await Promise.all([
    rivet(['run', '-c', config, '-e', exportName, '-p', 'SIDE=local'], dir),
    rivet(['cloud', 'run', '-c', config, '-e', exportName, '--param', 'SIDE=cloud', '--stack', STACK, '--wait'], dir),
  ]);
  expect(local.code, `rivet run: ${local.stdout}${local.stderr}`).toBe(0);
  expect(cloud.code, `rivet cloud run: ${cloud.stdout}${cloud.stderr}`).toBe(0);
}

/** Both sides' datasets for one export: see same-dataset.ts. */
const expectSameDataset = (exportName: string) => expectSame(bucket, `local/${exportName}/`, `cloud/${exportName}/`);

describe('LocalStack: the deployed stack and `rivet run` write the same bytes', () => {
  beforeAll(async () => {
    await pgExec(ITEMS_SQL);
    await pgExec('DROP TABLE IF EXISTS ls_same_events; CREATE TABLE ls_same_events (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, payload text, score int)');
    await pgExec(eventsSql(1, 2500));

    dir = mkdtempSync(path.join(tmpdir(), 'rivet-ls-same-'));
    bucket = await createBucket('rivet-ls-same');
    const secret = await createSecret('rivet-ls-same', PG_LAMBDA_URL);
    writeFileSync(path.join(dir, 'rivet.yaml'), exportsYaml(bucket));
    writeFileSync(path.join(dir, 'rivet.deploy.yaml'), `stack_name: ${STACK}\nsecrets: { LS_DATABASE_URL: "${secret}" }\nretry_interval_s: 1\n`);
    const outputs = deployStack(path.join(dir, 'rivet.deploy.yaml'), STACK);
    await clearTable(outputs.StateTableName);
    process.env.LS_DATABASE_URL = PG_URL;
    expect(awsEnv().LS_DATABASE_URL).toBe(PG_URL);
  });

  it.each(['zstd', 'zstd_level3', 'snappy', 'gzip', 'plain', 'csv'])('full export, %s', async (name) => {
    await runBoth(name);
    await expectSameDataset(name);
  });

  it('verify: content and max_batch_memory_mb with auto_shrink: every part read back by the worker Lambda before the commit', async () => {
    await runBoth('verified');
    await expectSameDataset('verified');
  });

  it('chunked with parallel 2', async () => {
    await runBoth('chunked');
    expect((await expectSameDataset('chunked')).parts).toBe(6);
  });

  it('incremental, two runs with new rows between them', async () => {
    await runBoth('incremental');
    expect((await expectSameDataset('incremental')).parts).toBe(1);
    await pgExec(eventsSql(2501, 4000));
    await runBoth('incremental');
    expect((await expectSameDataset('incremental')).parts).toBe(2);
  });
});
