import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client, CreateBucketCommand } from '@aws-sdk/client-s3';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { openDestination, type DestinationTarget } from '../../shared/destination/registry.js';

/**
 * The same export to local disk, S3 (moto), GCS (fake-gcs-server) and Azure (azurite),
 * through the built CLI: identical part bytes, equivalent manifests, `rivet validate`
 * passing on each. The emulators are started by test/services/up.sh.
 */
const S3_ENDPOINT = `http://127.0.0.1:${process.env.RIVET_TEST_S3_PORT ?? 54340}`;
const GCS_ENDPOINT = `http://127.0.0.1:${process.env.RIVET_TEST_GCS_PORT ?? 54341}`;
const AZURE_ENDPOINT = `http://127.0.0.1:${process.env.RIVET_TEST_AZURE_PORT ?? 54342}/devstoreaccount1`;
// Azurite's documented development account key: public, not a secret.
const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const BUCKET = 'rivet-e2e';
const S3_SECRET = `s3-secret-${randomBytes(6).toString('hex')}`;
const ENV = { E2E_S3_ACCESS: 'e2e-access', E2E_S3_SECRET: S3_SECRET, E2E_AZURE_KEY: AZURITE_KEY };

let schema: string;
const run = randomBytes(4).toString('hex');

beforeAll(async () => {
  schema = await freshSchema('e2e_cloud');
  await pgExec(`CREATE TABLE ${schema}.t AS
    SELECT g AS id, (g * 1.5)::numeric(10,2) AS amount, 'row ' || g AS label, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 hour' AS at
    FROM generate_series(1, 10000) g`);
  const s3 = new S3Client({ region: 'us-east-1', endpoint: S3_ENDPOINT, forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET })).catch((e: Error) => {
    if (!/BucketAlready/.test(e.name)) throw e;
  });
  const gcs = await fetch(`${GCS_ENDPOINT}/storage/v1/b?project=rivet`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: BUCKET }) });
  if (gcs.status !== 200 && gcs.status !== 409) throw new Error(`fake-gcs-server: cannot create bucket (HTTP ${gcs.status})`);
  await new BlobServiceClient(AZURE_ENDPOINT, new StorageSharedKeyCredential('devstoreaccount1', AZURITE_KEY)).getContainerClient(BUCKET).createIfNotExists();
});

const destinations = (dir: string): Record<string, { yaml: string; target: DestinationTarget }> => {
  const prefix = (name: string) => `e2e-${run}/${name}/{export}/`;
  const expand = (name: string) => `e2e-${run}/${name}/t/`;
  return {
    local: { yaml: `{ type: local, path: "${dir}/local/{export}" }`, target: { kind: 'local', path: `${dir}/local/t` } },
    s3: {
      yaml: `{ type: s3, bucket: ${BUCKET}, prefix: "${prefix('s3')}", region: us-east-1, endpoint: "${S3_ENDPOINT}", access_key_env: E2E_S3_ACCESS, secret_key_env: E2E_S3_SECRET }`,
      target: { kind: 's3', bucket: BUCKET, prefix: expand('s3'), region: 'us-east-1', endpoint: S3_ENDPOINT, access_key_env: 'E2E_S3_ACCESS', secret_key_env: 'E2E_S3_SECRET' },
    },
    gcs: {
      yaml: `{ type: gcs, bucket: ${BUCKET}, prefix: "${prefix('gcs')}", endpoint: "${GCS_ENDPOINT}", allow_anonymous: true }`,
      target: { kind: 'gcs', bucket: BUCKET, prefix: expand('gcs'), endpoint: GCS_ENDPOINT, allow_anonymous: true },
    },
    azure: {
      yaml: `{ type: azure, bucket: ${BUCKET}, prefix: "${prefix('azure')}", endpoint: "${AZURE_ENDPOINT}", account_name: devstoreaccount1, account_key_env: E2E_AZURE_KEY }`,
      target: { kind: 'azure', bucket: BUCKET, prefix: expand('azure'), endpoint: AZURE_ENDPOINT, account_name: 'devstoreaccount1', account_key_env: 'E2E_AZURE_KEY' },
    },
  };
};

describe('the same export on every destination', () => {
  it('writes byte-identical parts and equivalent manifests to local, S3, GCS and Azure, and validate passes on each', async () => {
    Object.assign(process.env, ENV);
    const dir = await mkdtemp(join(tmpdir(), 'rivet-cloud-'));
    const dests = destinations(dir);
    const manifests: Record<string, Record<string, unknown>> = {};
    const parts: Record<string, string> = {};
    for (const [name, d] of Object.entries(dests)) {
      const cfg = join(dir, `${name}.yaml`);
      await writeFile(
        cfg,
        `source:\n  type: postgres\n  url: ${testPgUrl()}\n  tuning: { batch_size: 1000 }\nexports:\n  - name: t\n    query: SELECT * FROM ${schema}.t ORDER BY id\n    format: parquet\n    max_file_size: 8KB\n    parquet: { row_group_strategy: fixed_rows, row_group_rows: 1000 }\n    destination: ${d.yaml}\n`,
      );
      const r = await runCli(['run', '-c', cfg], { env: ENV });
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      expect(r.stderr).not.toContain(S3_SECRET);
      expect(r.stderr).not.toContain(AZURITE_KEY);
      const v = await runCli(['validate', '-c', cfg, '--format', 'json'], { env: ENV });
      expect(v.code, `${name} validate: ${v.stdout}${v.stderr}`).toBe(0);

      const dest = await openDestination(d.target);
      const manifestBytes = await dest.get('manifest.json');
      expect(manifestBytes, name).not.toBeNull();
      const m = JSON.parse(new TextDecoder().decode(manifestBytes!));
      manifests[name] = m;
      const digest = createHash('sha256');
      for (const p of m.parts) digest.update((await dest.get(p.path))!);
      parts[name] = digest.digest('hex');
      expect(new TextDecoder().decode((await dest.get('_SUCCESS'))!)).toMatch(/^xxh3:[0-9a-f]{16}\n$/);
    }
    // Identical data, only the URI (and run identity) differ.
    expect(new Set(Object.values(parts)).size).toBe(1);
    const comparable = (m: Record<string, unknown>): Record<string, unknown> => {
      const { run_id: _r, started_at: _s, finished_at: _f, destination, ...rest } = m;
      return { ...rest, destination_kind: (destination as { kind: string }).kind };
    };
    const local = comparable(manifests.local);
    expect((local.parts as unknown[]).length).toBeGreaterThan(1);
    for (const name of ['s3', 'gcs', 'azure']) {
      expect({ ...comparable(manifests[name]), destination_kind: 'local' }).toEqual(local);
      expect((manifests[name].destination as { kind: string }).kind).toBe(name);
    }
    expect(JSON.stringify(manifests)).not.toContain(S3_SECRET);
    expect(await readFile(join(dir, 's3.yaml'), 'utf8')).not.toContain(S3_SECRET);
  });
});
