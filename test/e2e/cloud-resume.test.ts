import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDestination, type DestinationTarget } from '../../shared/destination/registry.js';
import { runCli } from '../helpers/cli.js';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { queryWithDuckDB } from '../helpers/readers.js';

/**
 * The resume contract of resume.test.ts (local disk) on every object store, through the
 * built CLI: a checkpointed chunked export fails on one chunk, a stray object sits at a
 * part path the run has not written yet, and `rivet run --resume` finishes under the same
 * run id, skipping the done chunks, moving the stray object to `_quarantine/<run_id>/`
 * (never deleting it); `rivet validate` passes and the parts, downloaded through the
 * destination, hold every source row exactly once. A prefix that already has `_SUCCESS`
 * refuses `--resume` without `--force`. Emulators: test/services/up.sh.
 */
const S3_ENDPOINT = `http://127.0.0.1:${process.env.RIVET_TEST_S3_PORT ?? 54340}`;
const GCS_ENDPOINT = `http://127.0.0.1:${process.env.RIVET_TEST_GCS_PORT ?? 54341}`;
const AZURE_ENDPOINT = `http://127.0.0.1:${process.env.RIVET_TEST_AZURE_PORT ?? 54342}/devstoreaccount1`;
// Azurite's documented development account key: public, not a secret.
const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const BUCKET = 'rivet-e2e-resume';
const ENV = { RESUME_S3_ACCESS: 'resume-access', RESUME_S3_SECRET: `resume-secret-${randomBytes(6).toString('hex')}`, RESUME_AZURE_KEY: AZURITE_KEY };
const run = randomBytes(4).toString('hex');
const ALL = Array.from({ length: 600 }, (_, i) => i + 1);

let schema: string;

beforeAll(async () => {
  Object.assign(process.env, ENV);
  schema = await freshSchema('e2e_cloud_resume');
  // `boom` divides by zero on id 350 while ctl.fail is set: only the chunk 301..400 fails.
  await pgExec(`
    CREATE TABLE ${schema}.t (id bigint PRIMARY KEY, val text);
    INSERT INTO ${schema}.t SELECT g, 'v' || g FROM generate_series(1, 600) g;
    CREATE TABLE ${schema}.ctl (fail boolean);
    INSERT INTO ${schema}.ctl VALUES (true);`);
  const s3 = new S3Client({ region: 'us-east-1', endpoint: S3_ENDPOINT, forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET })).catch((e: Error) => {
    if (!/BucketAlready/.test(e.name)) throw e;
  });
  const gcs = await fetch(`${GCS_ENDPOINT}/storage/v1/b?project=rivet`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: BUCKET }) });
  if (gcs.status !== 200 && gcs.status !== 409) throw new Error(`fake-gcs-server: cannot create bucket (HTTP ${gcs.status})`);
  await new BlobServiceClient(AZURE_ENDPOINT, new StorageSharedKeyCredential('devstoreaccount1', AZURITE_KEY)).getContainerClient(BUCKET).createIfNotExists();
});

const setFail = (on: boolean) => pgExec(`UPDATE ${schema}.ctl SET fail = ${on}`);

type Backend = 'local' | 's3' | 'gcs' | 'azure';

/** The destination as YAML for the config and as a target for reading it back. */
function destination(backend: Backend, dir: string, name: string): { yaml: string; target: DestinationTarget } {
  const prefix = `resume-${run}/${name}/`;
  switch (backend) {
    case 'local':
      return { yaml: `{ type: local, path: "${dir}/out" }`, target: { kind: 'local', path: `${dir}/out` } };
    case 's3':
      return {
        yaml: `{ type: s3, bucket: ${BUCKET}, prefix: "${prefix}", endpoint: "${S3_ENDPOINT}", access_key_env: RESUME_S3_ACCESS, secret_key_env: RESUME_S3_SECRET }`,
        target: { kind: 's3', bucket: BUCKET, prefix, endpoint: S3_ENDPOINT, access_key_env: 'RESUME_S3_ACCESS', secret_key_env: 'RESUME_S3_SECRET' },
      };
    case 'gcs':
      return {
        yaml: `{ type: gcs, bucket: ${BUCKET}, prefix: "${prefix}", endpoint: "${GCS_ENDPOINT}", allow_anonymous: true }`,
        target: { kind: 'gcs', bucket: BUCKET, prefix, endpoint: GCS_ENDPOINT, allow_anonymous: true },
      };
    case 'azure':
      return {
        yaml: `{ type: azure, bucket: ${BUCKET}, prefix: "${prefix}", endpoint: "${AZURE_ENDPOINT}", account_name: devstoreaccount1, account_key_env: RESUME_AZURE_KEY }`,
        target: { kind: 'azure', bucket: BUCKET, prefix, endpoint: AZURE_ENDPOINT, account_name: 'devstoreaccount1', account_key_env: 'RESUME_AZURE_KEY' },
      };
  }
}

async function setup(backend: Backend, name: string) {
  const dir = await mkdtemp(join(tmpdir(), `rivet-cloud-resume-${backend}-`));
  const d = destination(backend, dir, `${backend}-${name}`);
  const cfg = join(dir, 'rivet.yaml');
  await writeFile(
    cfg,
    `source:
  type: postgres
  url: ${testPgUrl()}
  tuning: { batch_size: 1000, throttle_ms: 0, retry_backoff_ms: 10 }
exports:
  - name: t
    query: SELECT id, val, CASE WHEN (SELECT fail FROM ${schema}.ctl) THEN 1 / (id - 350) ELSE 0 END AS boom FROM ${schema}.t
    mode: chunked
    chunk_column: id
    chunk_size: 100
    chunk_checkpoint: true
    chunk_max_attempts: 2
    format: parquet
    destination: ${d.yaml}
`,
  );
  return { dir, cfg, dest: await openDestination(d.target) };
}

function chunkState(dir: string) {
  const db = new Database(join(dir, '.rivet_state.db'), { readonly: true });
  try {
    return {
      runs: db.prepare(`SELECT run_id, status FROM chunk_run ORDER BY created_at`).all() as { run_id: string; status: string }[],
      tasks: db.prepare(`SELECT chunk_index, status, attempts FROM chunk_task ORDER BY run_id, chunk_index`).all() as { chunk_index: number; status: string; attempts: number }[],
    };
  } finally {
    db.close();
  }
}

const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

/** Download the manifest's parts through the destination and read the ids back with DuckDB. */
async function exportedIds(dest: Awaited<ReturnType<typeof openDestination>>): Promise<number[]> {
  const m = JSON.parse(text(await dest.get('manifest.json'))!) as { parts: { path: string; rows?: number }[] };
  const local = await mkdtemp(join(tmpdir(), 'rivet-cloud-resume-read-'));
  const files: string[] = [];
  for (const p of m.parts) {
    const bytes = await dest.get(p.path);
    expect(bytes, p.path).not.toBeNull();
    const file = join(local, p.path.replace(/\//g, '_'));
    await writeFile(file, bytes!);
    files.push(file);
  }
  const rows = await queryWithDuckDB(`SELECT CAST(id AS INTEGER) AS id FROM read_parquet([${files.map((f) => `'${f}'`).join(', ')}]) ORDER BY id`);
  return rows.map((r) => Number(r.id));
}

const PARTS = [1, 2, 3, 4, 5, 6].map((n) => `part-00000${n}.parquet`);

describe.each<Backend>(['local', 's3', 'gcs', 'azure'])('rivet run --resume on %s', (backend) => {
  it('resumes a run that failed on one chunk: same run id, done chunks skipped, stray object quarantined, validate passes, no duplicates', async () => {
    const { dir, cfg, dest } = await setup(backend, 'resume');
    await setFail(true);
    const first = await runCli(['run', '-c', cfg], { env: ENV });
    expect(first.code, first.stderr).toBe(1);
    expect(first.stderr).toMatch(/--resume/);
    const { runs } = chunkState(dir);
    expect(runs).toHaveLength(1);
    const runId = runs[0].run_id;
    expect(chunkState(dir).tasks.map((t) => t.status)).toEqual(['completed', 'completed', 'completed', 'failed', 'pending', 'pending']);
    // Interrupted: the run is archived under _rivet/, but no manifest.json or _SUCCESS yet.
    expect(await dest.head('manifest.json')).toBeNull();
    expect(await dest.head('_SUCCESS')).toBeNull();
    expect(JSON.parse(text(await dest.get(`_rivet/runs/${runId}/manifest.json`))!).status).toBe('interrupted');
    expect((await dest.list()).filter((o) => /^part-/.test(o.key)).map((o) => o.key)).toEqual(PARTS.slice(0, 3));

    // Something left an object at chunk 4's part path.
    await dest.put('part-000005.parquet', 'not a part');

    await setFail(false);
    const resumed = await runCli(['run', '-c', cfg, '--resume', '--json'], { env: { ...ENV, RIVET_LOG: 'info' } });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/3 chunk\(s\) skipped, 3 to rewrite, 1 object\(s\) quarantined/);
    expect(JSON.parse(resumed.stdout).per_export[0].run_id).toBe(runId);
    expect(resumed.stderr).not.toContain(ENV.RESUME_S3_SECRET);
    expect(resumed.stderr).not.toContain(AZURITE_KEY);

    const m = JSON.parse(text(await dest.get('manifest.json'))!);
    expect(m.run_id).toBe(runId);
    expect(m.status).toBe('success');
    expect(m.parts.map((p: { path: string }) => p.path)).toEqual(PARTS);
    // Moved aside, never deleted; the part path now holds the real part.
    expect(text(await dest.get(`_quarantine/${runId}/part-000005.parquet`))).toBe('not a part');
    expect((await dest.head('part-000005.parquet'))?.sizeBytes).toBeGreaterThan(10);
    expect(text(await dest.get('_SUCCESS'))).toMatch(/^xxh3:[0-9a-f]{16}\n$/);
    expect(chunkState(dir).tasks.map((t) => [t.status, t.attempts])).toEqual([
      ['completed', 1], ['completed', 1], ['completed', 1], ['completed', 2], ['completed', 1], ['completed', 1],
    ]);

    const v = await runCli(['validate', '-c', cfg, '--format', 'json'], { env: ENV });
    expect(v.code, `${v.stdout}${v.stderr}`).toBe(0);
    expect(await exportedIds(dest)).toEqual(ALL);
  });

  it('over a prefix with _SUCCESS, --resume is refused without --force and a failed run leaves the dataset untouched', async () => {
    const { cfg, dest } = await setup(backend, 'refuse');
    await setFail(false);
    const ok = await runCli(['run', '-c', cfg], { env: ENV });
    expect(ok.code, ok.stderr).toBe(0);
    const manifest = text(await dest.get('manifest.json'));
    const marker = text(await dest.get('_SUCCESS'));

    await setFail(true);
    expect((await runCli(['run', '-c', cfg], { env: ENV })).code).toBe(1);
    expect(text(await dest.get('manifest.json'))).toBe(manifest);
    expect(text(await dest.get('_SUCCESS'))).toBe(marker);

    await setFail(false);
    const refused = await runCli(['run', '-c', cfg, '--resume'], { env: ENV });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--resume refused: .* already holds a complete dataset \(_SUCCESS of run t_/);
    expect(refused.stderr).toMatch(/--force/);
    expect(text(await dest.get('_SUCCESS'))).toBe(marker);
    expect(await exportedIds(dest)).toEqual(ALL);
  });
});
