import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// A dependency of aws-local-stepfunctions (devDependency), the same SDK version as ours.
import { GetFunctionConfigurationCommand, LambdaClient, ListFunctionsCommand, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { pgExec, testPgUrl } from '../helpers/pg.js';
import { LS, REGION, clearTable, createBucket, createSecret, deployStack, readPrefix, rivet } from './localstack.js';

/**
 * A worker killed mid-chunk (SIGKILL after its part's bytes are written, before the part is
 * published — `RIVET_FAULT=before_part`, `RIVET_FAULT_ACTION=kill`) ends its invocation with
 * `Runtime.ExitError`; the Map retries it and the run commits every row once: `rivet validate`
 * passes and the rows match the source. `RIVET_FAULT_ONCE` names a file outside the
 * functions' private /tmp, so only the first worker to get there dies.
 */
const STACK = 'RivetLsKilled';
const PG_URL = process.env.RIVET_LOCALSTACK_PG_URL ?? testPgUrl();
const PG_LAMBDA_URL = process.env.RIVET_LOCALSTACK_PG_LAMBDA ?? PG_URL;
const ROWS = 4000;
const lambda = new LambdaClient({ region: REGION, endpoint: LS, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

let dir: string;
let bucket: string;
let onceFile: string;
let workerName: string;

async function setWorkerEnv(extra: Record<string, string | undefined>): Promise<void> {
  const current = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: workerName }));
  const vars = { ...current.Environment?.Variables };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete vars[k];
    else vars[k] = v;
  }
  await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: workerName, Environment: { Variables: vars } }));
  for (let i = 0; i < 60; i++) {
    const c = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: workerName }));
    if (c.LastUpdateStatus !== 'InProgress' && c.State === 'Active') return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the worker ${workerName} did not become active after its update`);
}

describe('LocalStack: a worker killed mid-chunk', () => {
  beforeAll(async () => {
    await pgExec(
      `DROP TABLE IF EXISTS ls_killed; CREATE TABLE ls_killed AS SELECT g::bigint AS id, md5(g::text) AS note FROM generate_series(1, ${ROWS}) g; ALTER TABLE ls_killed ADD PRIMARY KEY (id)`,
    );
    dir = mkdtempSync(path.join(tmpdir(), 'rivet-ls-killed-'));
    bucket = await createBucket('rivet-ls-killed');
    const secret = await createSecret('rivet-ls-killed', PG_LAMBDA_URL);
    writeFileSync(
      path.join(dir, 'rivet.yaml'),
      `source: { type: postgres, url_env: LS_DATABASE_URL }
exports:
  - { name: killed, table: public.ls_killed, mode: chunked, chunk_column: id, chunk_size: 1000, parallel: 2, format: parquet, destination: { type: s3, bucket: ${bucket}, prefix: "killed/", region: us-east-1 } }
`,
    );
    writeFileSync(path.join(dir, 'rivet.deploy.yaml'), `stack_name: ${STACK}\nsecrets: { LS_DATABASE_URL: "${secret}" }\nretry_interval_s: 1\n`);
    const outputs = deployStack(path.join(dir, 'rivet.deploy.yaml'), STACK);
    await clearTable(outputs.StateTableName);
    const fns = await lambda.send(new ListFunctionsCommand({}));
    workerName = fns.Functions!.map((f) => f.FunctionName!).find((n) => n.startsWith(STACK) && n.includes('Worker'))!;
    expect(workerName).toBeDefined();
    // Not under /tmp: each function process has a private one.
    onceFile = path.join('/var/tmp', `rivet-ls-killed-${Date.now()}`);
    await setWorkerEnv({ RIVET_FAULT: 'before_part', RIVET_FAULT_ACTION: 'kill', RIVET_FAULT_ONCE: onceFile });
    process.env.LS_DATABASE_URL = PG_URL;
  });

  afterAll(async () => {
    if (workerName) await setWorkerEnv({ RIVET_FAULT: undefined, RIVET_FAULT_ACTION: undefined, RIVET_FAULT_ONCE: undefined });
    rmSync(onceFile, { force: true });
  });

  it('is retried by the Map on Runtime.ExitError, and the committed dataset verifies', async () => {
    const config = path.join(dir, 'rivet.yaml');
    const run = await rivet(['cloud', 'run', '-c', config, '-e', 'killed', '--stack', STACK, '--wait', '--validate', '--reconcile'], dir);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // The fault really fired: one worker died holding a written, unpublished part.
    expect(existsSync(onceFile)).toBe(true);

    const objects = await readPrefix(bucket, 'killed/');
    const parts = [...objects.keys()].filter((k) => k.startsWith('part-')).sort();
    expect(parts).toEqual(['part-000001.parquet', 'part-000002.parquet', 'part-000003.parquet', 'part-000004.parquet']);
    const manifest = JSON.parse(objects.get('manifest.json')!.toString()) as { status: string; row_count: number; parts: { path: string }[] };
    expect(manifest).toMatchObject({ status: 'success', row_count: ROWS });
    expect(manifest.parts.map((p) => p.path).sort()).toEqual(parts);

    const validate = await rivet(['validate', '-c', config, '-e', 'killed'], dir);
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
  });
});
