import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgExec, testPgUrl } from '../helpers/pg.js';
import { clearTable, createBucket, createSecret, deployStack, readPrefix, rivet } from './localstack.js';
import { expectSameDataset } from './same-dataset.js';

/**
 * One program, two drivers, beyond the happy path: for the same rivet.yaml, `rivet run` and the
 * deployed stack (`rivet cloud run --wait`) split a partitioned export into the same children
 * with the same bytes; and a planner failure, a worker that exhausts its attempts, a failing
 * `quality:` check and an `on_schema_drift: fail` each end both runs with the same exit status,
 * leave the previous dataset exactly as it was, record the run as failed in each side's state,
 * and post the same Slack message to a real HTTP server on loopback — which a dead webhook
 * turns into a warning only. Both sides write to LocalStack's S3 under their own prefix
 * (`${SIDE}`), with their own state (SQLite next to the config, the stack's DynamoDB table).
 */
const STACK = 'RivetLsParity';
const PG_URL = process.env.RIVET_LOCALSTACK_PG_URL ?? testPgUrl();
const PG_LAMBDA_URL = process.env.RIVET_LOCALSTACK_PG_LAMBDA ?? PG_URL;
const LAMBDA_LOGS = path.join(process.env.RIVET_TEST_SVC_DIR ?? `/tmp/rivet-test-svc-${process.getuid!()}`, 'localstack', 'lambda');

const SEED_SQL = `
DROP TABLE IF EXISTS ls_par_events;
CREATE TABLE ls_par_events AS
SELECT g::bigint AS id,
       CASE WHEN g % 17 = 0 THEN NULL ELSE date '2026-01-01' + (g % 100) END AS d,
       md5(g::text) AS note,
       ((g * 37) % 10000 / 100.0)::numeric(10, 2) AS amount
FROM generate_series(1, 3000) g;
ALTER TABLE ls_par_events ADD PRIMARY KEY (id);
DROP TABLE IF EXISTS ls_par_gone;
CREATE TABLE ls_par_gone AS SELECT g::bigint AS id, md5(g::text) AS note FROM generate_series(1, 300) g;
DROP TABLE IF EXISTS ls_par_switch;
CREATE TABLE ls_par_switch (broken boolean NOT NULL);
INSERT INTO ls_par_switch VALUES (false);
DROP TABLE IF EXISTS ls_par_flaky;
CREATE TABLE ls_par_flaky AS SELECT g::bigint AS id, md5(g::text) AS note FROM generate_series(1, 300) g;
CREATE OR REPLACE FUNCTION ls_par_flaky_value(i bigint) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  -- serialization_failure is transient: each attempt fails, and is retried, until none is left.
  IF (SELECT broken FROM ls_par_switch) THEN RAISE EXCEPTION 'ls_par_flaky: injected serialization failure' USING ERRCODE = '40001'; END IF;
  RETURN i;
END $$;
DROP TABLE IF EXISTS ls_par_checked;
CREATE TABLE ls_par_checked AS SELECT g::bigint AS id, md5(g::text) AS note FROM generate_series(1, 50) g;
DROP TABLE IF EXISTS ls_par_drift;
CREATE TABLE ls_par_drift AS SELECT g::bigint AS id, md5(g::text) AS note FROM generate_series(1, 80) g;`;

const configYaml = (bucket: string) => {
  const dest = (name: string, tail = '') => `destination: { type: s3, bucket: ${bucket}, prefix: "\${SIDE}/${name}/${tail}", region: us-east-1 }`;
  return `source: { type: postgres, url_env: LS_DATABASE_URL }
notifications:
  slack: { webhook_url: "http://127.0.0.1:\${HOOK_PORT}/services/T0/B0/\${SIDE}", on: [failure, schema_change] }
exports:
  - { name: parts, table: public.ls_par_events, partition_by: d, partition_granularity: month, format: parquet, ${dest('parts', '{partition}/')} }
  - { name: parts_chunked, table: public.ls_par_events, partition_by: d, partition_granularity: month, mode: chunked, chunk_column: id, chunk_size: 700, parallel: 2, format: parquet, compression: snappy, ${dest('parts_chunked', '{partition}/')} }
  - { name: gone, table: public.ls_par_gone, format: parquet, ${dest('gone')} }
  - { name: flaky, query: "SELECT id, note, ls_par_flaky_value(id) AS v FROM public.ls_par_flaky", format: parquet, tuning: { max_retries: 1, retry_backoff_ms: 100 }, ${dest('flaky')} }
  - { name: checked, table: public.ls_par_checked, format: parquet, quality: { row_count_max: 100 }, ${dest('checked')} }
  - { name: drifting, table: public.ls_par_drift, format: parquet, on_schema_drift: fail, ${dest('drifting')} }
`;
};

interface Post {
  side: string;
  body: { attachments: { color: string; title: string; text: string }[] };
}

let dir: string;
let bucket: string;
let stateTable: string;
let hook: Server;
let hookPort: number;
const posts: Post[] = [];

interface Both {
  local: { code: number; out: string };
  cloud: { code: number; out: string };
}

async function runBoth(exportName: string, port = hookPort): Promise<Both> {
  const config = path.join(dir, 'rivet.yaml');
  const params = (side: string) => [`SIDE=${side}`, `HOOK_PORT=${port}`];
  const [local, cloud] = await Promise.all([
    rivet(['run', '-c', config, '-e', exportName, ...params('local').flatMap((p) => ['-p', p])], dir),
    rivet(['cloud', 'run', '-c', config, '-e', exportName, ...params('cloud').flatMap((p) => ['--param', p]), '--stack', STACK, '--wait'], dir),
  ]);
  return { local: { code: local.code, out: local.stdout + local.stderr }, cloud: { code: cloud.code, out: cloud.stdout + cloud.stderr } };
}

async function expectBothOk(exportName: string): Promise<void> {
  const r = await runBoth(exportName);
  expect(r.local.code, `rivet run: ${r.local.out}`).toBe(0);
  expect(r.cloud.code, `rivet cloud run: ${r.cloud.out}`).toBe(0);
}

/** What a reader sees at a prefix: every object outside `_rivet/`, by key. */
async function visible(prefix: string): Promise<Map<string, Buffer>> {
  const all = await readPrefix(bucket, prefix);
  return new Map([...all].filter(([k]) => !k.startsWith('_rivet/')));
}

/** The status of every manifest archived under `_rivet/runs/`, sorted: one per run each side recorded at the destination. */
async function archivedStatuses(prefix: string): Promise<string[]> {
  const all = await readPrefix(bucket, `${prefix}_rivet/runs/`);
  return [...all].filter(([k]) => k.endsWith('/manifest.json')).map(([, v]) => (JSON.parse(v.toString()) as { status: string }).status).sort();
}

/** The newest run of an export in one side's state store, as `rivet metrics --format json` shows it. */
async function latestRun(exportName: string, side: 'local' | 'cloud'): Promise<{ status: string; error_message: string | null }> {
  // `metrics` takes no params: the config's ${SIDE} and ${HOOK_PORT} come from the environment.
  const env = { SIDE: side, HOOK_PORT: String(hookPort), ...(side === 'cloud' ? { RIVET_STATE_URL: `dynamodb://${stateTable}` } : {}) };
  const r = await rivet(['metrics', '-c', path.join(dir, 'rivet.yaml'), '-e', exportName, '--format', 'json'], dir, env);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const runs = (JSON.parse(r.stdout) as { runs: { run_at: string; status: string; error_message: string | null }[] }).runs;
  expect(runs.length, `${side} state of '${exportName}'`).toBeGreaterThan(0);
  return runs.sort((a, b) => b.run_at.localeCompare(a.run_at))[0];
}

/** Everything this stack's functions of one kind (`Worker`, `Finalizer`) printed, as the host executor keeps it. */
function lambdaLog(kind: string): string {
  return readdirSync(LAMBDA_LOGS)
    .filter((f) => f.startsWith(STACK) && f.includes(kind))
    .map((f) => readFileSync(path.join(LAMBDA_LOGS, f), 'utf8'))
    .join('\n');
}

/** A Slack post with what differs between two runs of the same export (run id, duration) taken out. */
function normalized(p: Post): { color: string; head: string; lines: string[] } {
  const a = p.body.attachments[0];
  const [head, ...lines] = a.text.split('\n');
  return { color: a.color, head: head.replace(/duration: \d+ms/, 'duration: <ms>'), lines: lines.map((l) => (l.startsWith('error: ') ? 'error: <message>' : l)) };
}

function postsOf(side: string, exportName: string): Post[] {
  return posts.filter((p) => p.side === side && p.body.attachments[0].text.startsWith(`*${exportName}*`));
}

/**
 * A failing run, on both sides: the same exit status, the previous dataset exactly as it was,
 * the run recorded as failed in each side's state and archive, the same Slack message, and an
 * error naming `cause` on both.
 */
async function expectSameFailure(exportName: string, cause: RegExp): Promise<Both> {
  const before = { local: await visible(`local/${exportName}/`), cloud: await visible(`cloud/${exportName}/`) };
  expect(before.local.has('_SUCCESS') && before.cloud.has('_SUCCESS'), 'a previous dataset on both sides').toBe(true);
  const sent = posts.length;
  const r = await runBoth(exportName);
  expect(r.local.code, `rivet run: ${r.local.out}`).toBe(1);
  expect(r.cloud.code, `rivet cloud run: ${r.cloud.out}`).toBe(r.local.code);
  expect(r.local.out).toMatch(cause);
  expect(r.cloud.out).toMatch(cause);
  for (const side of ['local', 'cloud'] as const) {
    const after = await visible(`${side}/${exportName}/`);
    expect([...after.keys()].sort(), `${side}: nothing new is visible`).toEqual([...before[side].keys()].sort());
    for (const [k, v] of before[side]) expect(after.get(k)!.equals(v), `${side}/${exportName}/${k} is untouched`).toBe(true);
    const run = await latestRun(exportName, side);
    expect(run.status, `${side} state`).toBe('failed');
    expect(run.error_message ?? '').toMatch(cause);
  }
  expect(await archivedStatuses(`cloud/${exportName}/`)).toEqual(await archivedStatuses(`local/${exportName}/`));
  expect(await archivedStatuses(`local/${exportName}/`)).toContain('failed');
  // The webhook answered both before `--wait` returned (the finalizer posts before it ends).
  const [local, cloud] = [postsOf('local', exportName), postsOf('cloud', exportName)];
  expect(posts.length - sent).toBe(2);
  expect(cloud.at(-1) && normalized(cloud.at(-1)!)).toEqual(local.at(-1) && normalized(local.at(-1)!));
  return r;
}

describe('LocalStack: the deployed stack and `rivet run` agree on partitions, failures, verdicts and notifications', () => {
  beforeAll(async () => {
    hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        posts.push({ side: (req.url ?? '').split('/').at(-1)!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Post['body'] });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    hookPort = (hook.address() as AddressInfo).port;

    await pgExec(SEED_SQL);
    dir = mkdtempSync(path.join(tmpdir(), 'rivet-ls-parity-'));
    bucket = await createBucket('rivet-ls-parity');
    const secret = await createSecret('rivet-ls-parity', PG_LAMBDA_URL);
    writeFileSync(path.join(dir, 'rivet.yaml'), configYaml(bucket));
    writeFileSync(path.join(dir, 'rivet.deploy.yaml'), `stack_name: ${STACK}\nsecrets: { LS_DATABASE_URL: "${secret}" }\nretry_interval_s: 1\n`);
    const outputs = deployStack(path.join(dir, 'rivet.deploy.yaml'), STACK);
    stateTable = outputs.StateTableName;
    await clearTable(stateTable);
    process.env.LS_DATABASE_URL = PG_URL;
    // The dataset each failure must leave alone.
    for (const name of ['gone', 'flaky', 'checked', 'drifting']) await expectBothOk(name);
  });

  afterAll(async () => {
    hook?.closeAllConnections();
    await new Promise((resolve) => hook?.close(resolve));
  });

  it.each(['parts', 'parts_chunked'])('partition_by (%s): the same children at the same Hive-style prefixes, byte for byte', async (name) => {
    await expectBothOk(name);
    const children = async (side: string) => [...new Set([...(await readPrefix(bucket, `${side}/${name}/`)).keys()].map((k) => k.split('/')[0]))].sort();
    const local = await children('local');
    expect(local).toEqual(['d=2026-01', 'd=2026-02', 'd=2026-03', 'd=2026-04', 'd=__HIVE_DEFAULT_PARTITION__']);
    expect(await children('cloud')).toEqual(local);
    let rows = 0;
    for (const child of local) {
      await expectSameDataset(bucket, `local/${name}/${child}/`, `cloud/${name}/${child}/`);
      rows += (JSON.parse((await readPrefix(bucket, `cloud/${name}/${child}/manifest.json`)).get('')!.toString()) as { row_count: number }).row_count;
    }
    expect(rows).toBe(3000);
  });

  it('a planner failure (the table is gone): same exit status, previous dataset untouched, the failed run recorded on both', async () => {
    await pgExec('DROP TABLE ls_par_gone');
    await expectSameFailure('gone', /table 'public\.ls_par_gone' does not exist/);
  });

  it('a worker that exhausts its attempts (a transient error on every attempt): same outcome on both', async () => {
    await pgExec('UPDATE ls_par_switch SET broken = true');
    const r = await expectSameFailure('flaky', /injected serialization failure/);
    // Both made max_retries + 1 = 2 attempts: the local run says so; the Map invoked the worker twice.
    expect(r.local.out).toMatch(/attempt 1\/2 failed/);
    const runId = /started run (\S+)/.exec(r.cloud.out)![1];
    const attempts = lambdaLog('Worker').split('\n').filter((l) => l.includes(`"runId":"${runId}"`) && l.includes('"msg":"task 0 started"')).length;
    expect(attempts).toBe(2);
  });

  it('quality: a failing check fails the export before anything is committed, on both', async () => {
    await pgExec('INSERT INTO ls_par_checked SELECT g, md5(g::text) FROM generate_series(51, 200) g');
    await expectSameFailure('checked', /row_count_max|row count/i);
  });

  it('on_schema_drift: fail keeps the previous dataset current on both; a dead webhook only warns', async () => {
    await pgExec('ALTER TABLE ls_par_drift ADD COLUMN extra int DEFAULT 7');
    await expectSameFailure('drifting', /drift|schema/i);
    expect(normalized(postsOf('cloud', 'drifting').at(-1)!).lines).toContain('the schema changed in this run');

    // Again, with nothing listening on the webhook's port: the run ends as before, with a warning.
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise((resolve) => dead.close(resolve));
    const sent = posts.length;
    const r = await runBoth('drifting', deadPort);
    expect(r.local.code, r.local.out).toBe(1);
    expect(r.cloud.code, r.cloud.out).toBe(1);
    expect(posts.length).toBe(sent);
    expect(r.local.out).toMatch(/the Slack notification failed/);
    const finalizerLogs = lambdaLog('Finalizer');
    expect(finalizerLogs).toMatch(/"level":"warn".*the Slack notification failed/);
    expect(finalizerLogs).not.toContain(`/services/T0/B0/cloud`);
  });
});
