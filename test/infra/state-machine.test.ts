import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { StateMachine } from 'aws-local-stepfunctions';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { runCli } from '../helpers/cli.js';
import { synthRivet } from './synth.js';
import { depsFromEnvironment } from '../../functions/environment-deps.js';
import { makePlannerLambda } from '../../functions/planner.js';
import { makeWorkerLambda } from '../../functions/worker.js';
import { makeFinalizerLambda } from '../../functions/finalizer.js';
import { workBucket } from '../../functions/work-bucket.js';
import type { HandlerContext } from '../../functions/handler-kit.js';
import { makeRunId } from '../../shared/run/run-id.js';
import { createStateTable } from '../../shared/state/dynamodb/dynamo-state-table.js';
import { openStateStore } from '../../shared/state/open-state-store.js';

/**
 * Local = cloud: the state machine definition is taken from the synthesized template and run
 * by aws-local-stepfunctions, each Lambda Task bound to the real handler, against real
 * PostgreSQL (the source), DynamoDB Local (the state table, as deployed; test/services/up.sh
 * starts it) and moto (S3 destination, work bucket, Secrets Manager).
 *
 * One test-only transform: aws-local-stepfunctions ignores `ItemReader`, so the Map gets its
 * items inline — a `ReadTaskList` state inserted before the Map reads the very S3 object
 * the ItemReader would read (the key the planner returned) into `$.items`, with the Map's
 * own Catch; its `ResultWriter` is dropped too (the Map's output is discarded anyway).
 * Everything else (retries, jitter, Catch, Choice, Fail) runs as synthesized.
 */

// aws-local-stepfunctions uses Promise.withResolvers (Node 22+).
const P = Promise as unknown as { withResolvers?: () => unknown };
P.withResolvers ??= () => {
  let resolve!: (v: unknown) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

const S3_ENDPOINT = `http://127.0.0.1:${process.env.RIVET_TEST_S3_PORT ?? 54340}`;
const REGION = 'us-east-1';
const DEST_BUCKET = 'rivet-sfn-dest';
const WORK_BUCKET = 'rivet-sfn-work';
const ROWS = 7_000;
const CHUNK = 1_000; // → 7 chunks
const PARALLEL = 2; // → MaxConcurrency 2 < 7 chunks
const DYNAMO_ENDPOINT = `http://127.0.0.1:${process.env.RIVET_TEST_DYNAMODB_PORT ?? 54343}`;

type Json = Record<string, unknown>;

let dir: string;
let schema: string;
let secretArn: string;
let s3: S3Client;
let definition: Json;
let stateUrl: string;
const saved = { ...process.env };

beforeAll(async () => {
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_S3: S3_ENDPOINT,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: S3_ENDPOINT, // moto serves every service on one port
    RIVET_DEADLINE_MARGIN_MS: '2000',
    SFN_S3_ACCESS: 'test',
    SFN_S3_SECRET: 'test',
  });
  s3 = new S3Client({ region: REGION, endpoint: S3_ENDPOINT, forcePathStyle: true });
  for (const b of [DEST_BUCKET, WORK_BUCKET]) await s3.send(new CreateBucketCommand({ Bucket: b })).catch(() => {});

  schema = await freshSchema('sfn');
  await pgExec(`CREATE TABLE ${schema}.orders (id integer PRIMARY KEY, customer text NOT NULL, amount numeric(12,2), placed_at timestamptz NOT NULL)`);
  await pgExec(`CREATE TABLE ${schema}.fixed_src (id integer PRIMARY KEY, note text); INSERT INTO ${schema}.fixed_src SELECT g, 'n' || g FROM generate_series(1, 500) g`);
  await pgExec(`CREATE TABLE ${schema}.parted_src AS SELECT g AS id, CASE WHEN g % 10 = 0 THEN NULL ELSE date '2026-01-01' + (g % 59) END AS d FROM generate_series(1, 300) g`);
  await pgExec(
    `INSERT INTO ${schema}.orders SELECT g, 'customer ' || (g % 97), (g * 7 % 10000) / 100.0, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute' FROM generate_series(1, ${ROWS}) g`,
  );

  const table = `rivet-sfn-${schema}`;
  await createStateTable({ table, endpoint: DYNAMO_ENDPOINT, region: REGION });
  stateUrl = `dynamodb://${table}?endpoint=${encodeURIComponent(DYNAMO_ENDPOINT)}&region=${REGION}`;

  const sm = new SecretsManagerClient({ region: REGION });
  const created = await sm.send(new CreateSecretCommand({ Name: `rivet-sfn-${schema}`, SecretString: testPgUrl() }));
  secretArn = created.ARN!;

  dir = mkdtempSync(path.join(tmpdir(), 'rivet-sfn-'));
  const dest = (name: string) =>
    `{ type: s3, bucket: ${DEST_BUCKET}, prefix: "${schema}/${name}/{run_id}/", region: ${REGION}, endpoint: "${S3_ENDPOINT}", access_key_env: SFN_S3_ACCESS, secret_key_env: SFN_S3_SECRET }`;
  writeFileSync(
    path.join(dir, 'rivet.yaml'),
    `source:
  type: postgres
  url_env: SFN_DATABASE_URL
exports:
  - name: orders
    table: ${schema}.orders
    mode: chunked
    chunk_column: id
    chunk_size: ${CHUNK}
    parallel: ${PARALLEL}
    chunk_max_attempts: 3
    format: parquet
    destination: ${dest('orders')}
  - name: missing
    table: ${schema}.no_such_table
    format: parquet
    destination: ${dest('missing')}
  - name: parted
    query: "SELECT id, d, CASE WHEN d IS NULL THEN 1 / (id - id) ELSE 1 END AS one FROM ${schema}.parted_src"
    partition_by: d
    partition_granularity: month
    format: parquet
    destination: { type: s3, bucket: ${DEST_BUCKET}, prefix: "${schema}/parted/{partition}/", region: ${REGION}, endpoint: "${S3_ENDPOINT}", access_key_env: SFN_S3_ACCESS, secret_key_env: SFN_S3_SECRET }
  - name: fixed
    table: ${schema}.fixed_src
    format: parquet
    destination: { type: s3, bucket: ${DEST_BUCKET}, prefix: "${schema}/fixed/", region: ${REGION}, endpoint: "${S3_ENDPOINT}", access_key_env: SFN_S3_ACCESS, secret_key_env: SFN_S3_SECRET }
`,
  );
  writeFileSync(path.join(dir, 'rivet.deploy.yaml'), `secrets:\n  SFN_DATABASE_URL: ${secretArn}\nretry_interval_s: 1\n`);

  const { template } = await synthRivet(path.join(dir, 'rivet.deploy.yaml'));
  const machines = template.findResources('AWS::StepFunctions::StateMachine');
  const [, orders] = Object.entries(machines).find(([id]) => id.startsWith('orders'))!;
  definition = resolveDefinition((orders as { Properties: { DefinitionString: unknown } }).Properties.DefinitionString);
}, 120_000);

afterAll(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

/** The template's Fn::Join of strings and tokens, with the tokens replaced by plausible literals. */
function resolveDefinition(body: unknown): Json {
  const parts = (body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  const text = parts
    .map((p) => {
      if (typeof p === 'string') return p;
      const t = p as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      if (t.Ref === 'AWS::Partition') return 'aws';
      if (t.Ref?.startsWith('WorkBucket')) return WORK_BUCKET;
      if (t['Fn::GetAtt']) return `arn:aws:lambda:${REGION}:123456789012:function:${t['Fn::GetAtt'][0]}`;
      throw new Error(`unexpected token in the definition: ${JSON.stringify(p)}`);
    })
    .join('');
  return JSON.parse(text) as Json;
}

/** Test-only: feed the Map inline (see the file comment). */
function forLocalRunner(def: Json): Json {
  const d = structuredClone(def) as { States: Record<string, Json> };
  const map = d.States.Chunks;
  expect(map.ItemReader).toBeDefined(); // what we replace is really there
  const reader = map.ItemReader as { Parameters: Json };
  delete map.ItemReader;
  // Likewise ResultWriter (the children's summaries in S3): the Map's output is discarded either way.
  expect(map.ResultWriter).toBeDefined();
  delete map.ResultWriter;
  map.ItemsPath = '$.items';
  d.States.ReadTaskList = {
    Type: 'Task',
    Resource: 'arn:aws:states:::s3:getObject',
    Parameters: reader.Parameters, // { Bucket: <work bucket>, 'Key.$': '$.plan.taskList.key' }
    ResultPath: '$.items',
    Catch: map.Catch,
    Next: 'Chunks',
  };
  d.States.Plan.Next = 'ReadTaskList';
  return d as Json;
}

interface Harness {
  handlers: Record<string, (input: Json) => Promise<unknown>>;
  workerCalls: { taskIndex: number; attempt: number }[];
  maxConcurrent: number;
}

function harness(options: { plannerSecrets?: string; afterPlan?: (result: Json) => Promise<void> } = {}): Harness {
  const baseEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    ...process.env,
    RIVET_CONFIG: path.join(dir, 'rivet.yaml'),
    RIVET_STATE_URL: stateUrl,
    RIVET_JSON_LOGS: '1',
    RIVET_LOG: 'warn',
    ...extra,
  });
  const secrets = JSON.stringify({ SFN_DATABASE_URL: options.plannerSecrets ?? secretArn });
  const bucket = () => workBucket(WORK_BUCKET);
  const planner = makePlannerLambda(() => depsFromEnvironment('planner', baseEnv({ RIVET_SECRETS: secrets })), bucket);
  const worker = makeWorkerLambda(() => depsFromEnvironment('worker', baseEnv({ RIVET_SECRETS: JSON.stringify({ SFN_DATABASE_URL: secretArn }) })), bucket);
  // As deployed: the finalizer reads the source secret too (--reconcile counts the source).
  const finalizer = makeFinalizerLambda(() => depsFromEnvironment('finalizer', baseEnv({ RIVET_SECRETS: JSON.stringify({ SFN_DATABASE_URL: secretArn }) })), bucket);
  const ctx = (ms: number): HandlerContext => ({ getRemainingTimeInMillis: () => ms, awsRequestId: 'local' });
  const h: Harness = { handlers: {}, workerCalls: [], maxConcurrent: 0 };
  let running = 0;
  const attempts = new Map<number, number>();
  h.handlers = {
    Plan: async (input) => {
      const out = (await planner(input, ctx(300_000))) as unknown as Json;
      await options.afterPlan?.(out);
      return out;
    },
    ReadTaskList: async (input) => {
      try {
        const got = await s3.send(new GetObjectCommand({ Bucket: String(input.Bucket), Key: String(input.Key) }));
        return JSON.parse(await got.Body!.transformToString()) as unknown;
      } catch (e) {
        // What Step Functions reports when an ItemReader cannot read its object.
        const err = new Error(`the task list s3://${String(input.Bucket)}/${String(input.Key)} cannot be read: ${(e as Error).name}`);
        err.name = 'States.ItemReaderFailed';
        throw err;
      }
    },
    ExportChunk: async (input) => {
      const taskIndex = ((input as { task?: { taskIndex?: number } }).task?.taskIndex ?? -1) as number;
      const attempt = (attempts.get(taskIndex) ?? 0) + 1;
      attempts.set(taskIndex, attempt);
      h.workerCalls.push({ taskIndex, attempt });
      running++;
      h.maxConcurrent = Math.max(h.maxConcurrent, running);
      try {
        // Task 2's first invocation starts with no time left before its (simulated) Lambda limit.
        return await worker(input, ctx(taskIndex === 2 && attempt === 1 ? 2_000 : 900_000));
      } finally {
        running--;
      }
    },
    Finalize: (input) => finalizer(input, ctx(300_000)),
    FinalizeFailed: (input) => finalizer(input, ctx(300_000)),
    FinalizeUnplanned: (input) => finalizer(input, ctx(300_000)),
  };
  return h;
}

async function execute(h: Harness, input: Json): Promise<{ output?: Json; error?: string; cause?: string }> {
  const machine = new StateMachine(forLocalRunner(definition) as never, { validationOptions: { checkArn: false, checkPaths: false } } as never);
  const run = machine.run(input as never, { overrides: { taskResourceLocalHandlers: h.handlers as never } });
  try {
    return { output: (await run.result) as Json };
  } catch (e) {
    const cause = (e as { cause?: Error }).cause;
    return { error: cause?.name, cause: cause?.message };
  }
}

async function getText(key: string): Promise<string | null> {
  try {
    const got = await s3.send(new GetObjectCommand({ Bucket: DEST_BUCKET, Key: key }));
    return await got.Body!.transformToString();
  } catch {
    return null;
  }
}

async function keys(prefix: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: DEST_BUCKET, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!.slice(prefix.length)).sort();
}

describe('the synthesized state machine, run locally with the real handlers', () => {
  it('exports 7 chunks through MaxConcurrency 2, retries a worker that hit its deadline, and matches `rivet run`', async () => {
    expect((definition.States as Record<string, Json>).Chunks.MaxConcurrency).toBe(PARALLEL);
    const h = harness();
    const requestedAt = '2026-03-01T03:00:00.000Z';
    const { output, error, cause } = await execute(h, { v: 1, export: 'orders', requestedAt });
    expect(error, cause).toBeUndefined();
    const runId = makeRunId('orders', new Date(requestedAt));
    expect(output).toMatchObject({ v: 1, status: 'success', runId, rows: ROWS, files: ROWS / CHUNK });

    // More chunks than the Map's concurrency, and the Map really ran them side by side.
    const tasks = new Set(h.workerCalls.map((c) => c.taskIndex));
    expect(tasks.size).toBe(ROWS / CHUNK);
    expect(h.maxConcurrent).toBe(PARALLEL);
    // Task 2 stopped before its deadline (Rivet.Retryable) and Step Functions ran it again.
    expect(h.workerCalls.filter((c) => c.taskIndex === 2).map((c) => c.attempt)).toEqual([1, 2]);
    expect(h.workerCalls.filter((c) => c.taskIndex !== 2).every((c) => c.attempt === 1)).toBe(true);

    // The finalizer recorded the run in the DynamoDB state table.
    const state = openStateStore({ sqlitePath: '/nonexistent', env: { RIVET_STATE_URL: stateUrl } });
    const metrics = await state.recentMetrics({ exportName: 'orders' });
    await state.close();
    expect(metrics.find((m) => m.runId === runId)).toMatchObject({ status: 'success', totalRows: ROWS, filesProduced: ROWS / CHUNK });

    const prefix = `${schema}/orders/${runId}/`;
    const listed = await keys(prefix);
    expect(listed).toContain('_SUCCESS');
    expect(listed.filter((k) => k.startsWith('part-'))).toHaveLength(ROWS / CHUNK);

    // An independent check of the output, by the built CLI.
    const validate = await runCli(['validate', '-c', path.join(dir, 'rivet.yaml'), '-e', 'orders', '--prefix', prefix], { env: process.env });
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);

    // The same config run in-process by `rivet run` writes the same parts.
    const local = await runCli(['run', '-c', path.join(dir, 'rivet.yaml'), '-e', 'orders'], {
      env: { ...process.env, SFN_DATABASE_URL: testPgUrl(), RIVET_STATE_URL: stateUrl },
    });
    expect(local.code, local.stderr).toBe(0);
    const localRun = (await s3.send(new ListObjectsV2Command({ Bucket: DEST_BUCKET, Prefix: `${schema}/orders/` }))).Contents!.map((o) => o.Key!).find(
      (k) => k.endsWith('/manifest.json') && !k.startsWith(prefix) && !k.includes('/_rivet/'),
    )!;
    const cloudManifest = JSON.parse((await getText(`${prefix}manifest.json`))!) as { parts: Json[]; row_count: number; schema_fingerprint: string };
    const localManifest = JSON.parse((await getText(localRun))!) as typeof cloudManifest;
    const essence = (m: typeof cloudManifest) => ({
      rows: m.row_count,
      schema: m.schema_fingerprint,
      parts: m.parts.map((p) => ({ path: p.path, rows: p.rows, fingerprint: p.content_fingerprint })),
    });
    expect(essence(cloudManifest)).toEqual(essence(localManifest));

    // A second execution for the same instant (a redelivered schedule) is refused and leaves the run alone.
    const again = await execute(harness(), { v: 1, export: 'orders', requestedAt });
    expect(again.error).toBe('USAGE');
    expect(again.cause).toMatch(new RegExp(`run ${runId} was already started by another execution; this one wrote nothing`));
    expect(await keys(prefix)).toContain('_SUCCESS');
    expect(JSON.parse((await getText(`${prefix}manifest.json`))!)).toMatchObject({ status: 'success', run_id: runId });
  }, 180_000);

  it('a task list gone from S3 fails the run: failed manifest, no _SUCCESS, a clear error', async () => {
    const requestedAt = '2026-03-02T03:00:00.000Z';
    const h = harness({
      afterPlan: async (out) => {
        const ref = (out as { taskList: { bucket: string; key: string } }).taskList;
        await s3.send(new DeleteObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
      },
    });
    const { output, error, cause } = await execute(h, { v: 1, export: 'orders', requestedAt });
    expect(output).toBeUndefined();
    expect(error).toBe('EXPORT_FAILED');
    expect(cause).toMatch(/States\.ItemReaderFailed.*task list .*tasks\.json cannot be read/);
    expect(h.workerCalls).toHaveLength(0);
    const prefix = `${schema}/orders/${makeRunId('orders', new Date(requestedAt))}/`;
    expect(await keys(prefix)).not.toContain('_SUCCESS');
    expect(await getText(`${prefix}manifest.json`)).toBeNull();
    expect(JSON.parse((await getText(`${prefix}_rivet/runs/${prefix.split('/').at(-2)}/manifest.json`))!)).toMatchObject({ status: 'failed', parts: [] });
  }, 120_000);

  it('a config the planner refuses (missing table) ends in a failed manifest and the planner error', async () => {
    const requestedAt = '2026-03-03T03:00:00.000Z';
    const { output, error, cause } = await execute(harness(), { v: 1, export: 'missing', requestedAt });
    expect(output).toBeUndefined();
    expect(error).toBe('SOURCE_TABLE_NOT_FOUND');
    expect(cause).toMatch(/table '.*no_such_table' does not exist/);
    const prefix = `${schema}/missing/${makeRunId('missing', new Date(requestedAt))}/`;
    expect(await keys(prefix)).not.toContain('_SUCCESS');
    expect(await getText(`${prefix}manifest.json`)).toBeNull();
    expect(JSON.parse((await getText(`${prefix}_rivet/runs/${prefix.split('/').at(-2)}/manifest.json`))!)).toMatchObject({ status: 'failed', export_name: 'missing' });
  }, 120_000);

  it('a partitioned export runs as its children; a child whose task fails for good fails the run through the Catch, the others commit', async () => {
    // The NULL bucket's rows divide by zero (final, not retried); January and February export.
    const requestedAt = '2026-03-06T03:00:00.000Z';
    const { error, cause } = await execute(harness(), { v: 1, export: 'parted', requestedAt });
    expect(error).toBe('SOURCE_QUERY');
    expect(cause).toMatch(/partition\(s\) failed; parted__null: task 0 failed: .*division by zero/);
    const nullPrefix = `${schema}/parted/d=__HIVE_DEFAULT_PARTITION__/`;
    expect(await keys(nullPrefix)).not.toContain('_SUCCESS');
    expect(JSON.parse((await getText(`${nullPrefix}_rivet/runs/${makeRunId('parted__null', new Date(requestedAt))}/manifest.json`))!)).toMatchObject({ status: 'failed', export_name: 'parted__null' });
    for (const [month, rows] of [['2026-01', 144], ['2026-02', 126]] as const) {
      const prefix = `${schema}/parted/d=${month}/`;
      expect(await keys(prefix), month).toContain('_SUCCESS');
      expect(JSON.parse((await getText(`${prefix}manifest.json`))!)).toMatchObject({ status: 'success', export_name: `parted__${month}`, row_count: rows });
    }
  }, 120_000);

  it('a missing secret fails at the planner with a clear error, recorded by the finalizer', async () => {
    const requestedAt = '2026-03-04T03:00:00.000Z';
    const gone = secretArn.replace(/rivet-sfn-[^-]+/, 'rivet-sfn-deleted');
    const { error, cause } = await execute(harness({ plannerSecrets: gone }), { v: 1, export: 'orders', requestedAt });
    expect(error).toBe('CONFIG_INVALID');
    expect(cause).toMatch(/secret .* \(for SFN_DATABASE_URL\) cannot be read: ResourceNotFoundException/);
    const prefix = `${schema}/orders/${makeRunId('orders', new Date(requestedAt))}/`;
    expect(await keys(prefix)).not.toContain('_SUCCESS');
    expect(await getText(`${prefix}manifest.json`)).toBeNull();
    expect(JSON.parse((await getText(`${prefix}_rivet/runs/${prefix.split('/').at(-2)}/manifest.json`))!)).toMatchObject({ status: 'failed' });
  }, 120_000);

  it('a Map item that fails its schema fails its worker (not retried), then the run: failed manifest, no _SUCCESS', async () => {
    const requestedAt = '2026-03-05T03:00:00.000Z';
    const h = harness({
      afterPlan: async (out) => {
        // A task list from another build: items without `sql`.
        const ref = (out as { taskList: { bucket: string; key: string } }).taskList;
        const got = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
        const tasks = (JSON.parse(await got.Body!.transformToString()) as Json[]).map(({ sql: _sql, ...t }) => t);
        await s3.send(new PutObjectCommand({ Bucket: ref.bucket, Key: ref.key, Body: JSON.stringify(tasks) }));
      },
    });
    const { error, cause } = await execute(h, { v: 1, export: 'orders', requestedAt });
    expect(error).toBe('USAGE');
    expect(cause).toMatch(/malformed event: task\.sql/);
    // USAGE is final: no worker ran twice.
    expect(new Set(h.workerCalls.map((c) => c.taskIndex)).size).toBe(h.workerCalls.length);
    const prefix = `${schema}/orders/${makeRunId('orders', new Date(requestedAt))}/`;
    const listed = await keys(prefix);
    expect(listed).not.toContain('_SUCCESS');
    expect(listed.filter((k) => k.startsWith('part-'))).toEqual([]);
    expect(await getText(`${prefix}manifest.json`)).toBeNull();
    expect(JSON.parse((await getText(`${prefix}_rivet/runs/${prefix.split('/').at(-2)}/manifest.json`))!)).toMatchObject({ status: 'failed', parts: [] });
  }, 120_000);

  it('a concurrent execution is refused by the run lease; a planner failure, on AWS and locally, leaves the dataset and its _SUCCESS as they were', async () => {
    const prefix = `${schema}/fixed/`;
    const t1 = '2026-03-06T03:00:00.000Z';
    let second: Awaited<ReturnType<typeof execute>> | undefined;
    // While the first execution holds the export (planned, Map not started), a second one starts.
    const h = harness({ afterPlan: async () => void (second = await execute(harness(), { v: 1, export: 'fixed', requestedAt: '2026-03-06T03:00:05.000Z' })) });
    const first = await execute(h, { v: 1, export: 'fixed', requestedAt: t1 });
    const firstRun = makeRunId('fixed', new Date(t1));
    expect(first.error, first.cause).toBeUndefined();
    expect(first.output).toMatchObject({ status: 'success', runId: firstRun, rows: 500 });
    expect(second?.error).toBe('RUN_IN_PROGRESS');
    expect(second?.cause).toMatch(new RegExp(`another run of this export is in progress: run ${firstRun} on \\S+ \\(pid \\d+\\) since 20`));
    // The refused execution wrote nothing: only the first run has a record at the prefix.
    const runsOf = async () => [...new Set((await keys(`${prefix}_rivet/runs/`)).map((k) => k.split('/')[0]))];
    expect(await runsOf()).toEqual([firstRun]);
    const manifest = await getText(`${prefix}manifest.json`);
    const marker = await getText(`${prefix}_SUCCESS`);
    expect(marker).toMatch(/^xxh3:[0-9a-f]{16}\n$/);

    await pgExec(`ALTER TABLE ${schema}.fixed_src RENAME TO fixed_src_away`);
    try {
      // AWS: the planner fails, the Catch goes to FinalizeUnplanned.
      const t2 = '2026-03-07T03:00:00.000Z';
      const failed = await execute(harness(), { v: 1, export: 'fixed', requestedAt: t2 });
      expect(failed.error).toBe('SOURCE_TABLE_NOT_FOUND');
      expect(await getText(`${prefix}manifest.json`)).toBe(manifest);
      expect(await getText(`${prefix}_SUCCESS`)).toBe(marker);
      const failedRun = makeRunId('fixed', new Date(t2));
      expect(JSON.parse((await getText(`${prefix}_rivet/runs/${failedRun}/manifest.json`))!)).toMatchObject({ status: 'failed', parts: [] });

      // Local: the same export, same failure, through `rivet run`.
      const local = await runCli(['run', '-c', path.join(dir, 'rivet.yaml'), '-e', 'fixed'], { env: { ...process.env, SFN_DATABASE_URL: testPgUrl(), RIVET_STATE_URL: stateUrl } });
      expect(local.code).toBe(1);
      expect(local.stderr).toMatch(/fixed_src' does not exist/);
      expect(await getText(`${prefix}manifest.json`)).toBe(manifest);
      expect(await getText(`${prefix}_SUCCESS`)).toBe(marker);
    } finally {
      await pgExec(`ALTER TABLE ${schema}.fixed_src_away RENAME TO fixed_src`);
    }
    const validate = await runCli(['validate', '-c', path.join(dir, 'rivet.yaml'), '-e', 'fixed', '--prefix', prefix], { env: process.env });
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
    // Every path gave the lease back.
    const state = openStateStore({ sqlitePath: '/nonexistent', env: { RIVET_STATE_URL: stateUrl } });
    expect(await state.getLease('fixed')).toBeNull();
    await state.close();
  }, 180_000);

  it('--validate and --reconcile run in the finalizer with the local verdicts: a match passes, a reconcile mismatch fails the run on both paths', async () => {
    // Both checks pass: the finalizer reports them and the journal records them, as `rivet run --validate --reconcile` does.
    const t1 = '2026-03-08T03:00:00.000Z';
    const ok = await execute(harness(), { v: 1, export: 'fixed', requestedAt: t1, validate: true, reconcile: true });
    expect(ok.error, ok.cause).toBeUndefined();
    expect(ok.output).toMatchObject({
      status: 'success',
      rows: 500,
      checks: { validation: { passed: true }, reconciliation: { source_count: 500, exported_rows: 500, matched: true } },
    });
    const local = await runCli(['run', '-c', path.join(dir, 'rivet.yaml'), '-e', 'fixed', '--validate', '--reconcile'], { env: { ...process.env, SFN_DATABASE_URL: testPgUrl(), RIVET_STATE_URL: stateUrl } });
    expect(local.code, local.stderr).toBe(0);
    expect(local.stderr).toMatch(/validate: +PASSED \(1 parts verified by content, 0 failed, _SUCCESS consistent\)/);
    expect(local.stderr).toMatch(/reconcile: MATCH \(source 500, exported 500\)/);

    // Rows appear at the source after the plan fixed the chunks: the export commits, then reconcile fails the run.
    const t2 = '2026-03-09T03:00:00.000Z';
    const h = harness({ afterPlan: async () => void (await pgExec(`INSERT INTO ${schema}.orders SELECT g, 'late', 1, now() FROM generate_series(${ROWS + 1}, ${ROWS + 5}) g`)) });
    try {
      const bad = await execute(h, { v: 1, export: 'orders', requestedAt: t2, reconcile: true });
      expect(bad.error).toBe('EXPORT_FAILED');
      expect(bad.cause).toMatch(new RegExp(`--reconcile: the source query now yields ${ROWS + 5} rows but ${ROWS} were exported`));
      // The committed dataset stays (its _SUCCESS still vouches for its parts), as locally.
      const prefix = `${schema}/orders/${makeRunId('orders', new Date(t2))}/`;
      expect(await keys(prefix)).toContain('_SUCCESS');
      // The same request without the check succeeds: the verdict, not the export, failed the run.
      const unchecked = await execute(harness(), { v: 1, export: 'orders', requestedAt: '2026-03-09T04:00:00.000Z' });
      expect(unchecked.error, unchecked.cause).toBeUndefined();
      // Locally the same check on the same (now larger) source passes: it counts what it exported.
      const again = await runCli(['run', '-c', path.join(dir, 'rivet.yaml'), '-e', 'orders', '--reconcile'], { env: { ...process.env, SFN_DATABASE_URL: testPgUrl(), RIVET_STATE_URL: stateUrl } });
      expect(again.code, again.stderr).toBe(0);
    } finally {
      await pgExec(`DELETE FROM ${schema}.orders WHERE id > ${ROWS}`);
    }
  }, 180_000);

  it('an event that fails its schema ends the execution with the schema error, never a hang', async () => {
    const { error, cause } = await execute(harness(), { v: 2, export: 'orders' });
    expect(error).toBe('USAGE');
    expect(cause).toMatch(/malformed event: v: /);
  }, 60_000);
});
