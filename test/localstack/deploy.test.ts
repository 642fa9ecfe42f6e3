import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { cloudRun } from '../../cli/commands/cloud-actions.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { testPgUrl } from '../helpers/pg.js';

/**
 * The AWS deployment end to end on LocalStack: cdk bootstrap + deploy, `rivet cloud run --wait`,
 * then `_SUCCESS` at the destination. `npm run test:localstack` starts LocalStack as a host
 * process (test/services/localstack.sh) and PostgreSQL (test/services/up.sh); see docs/aws.md.
 *
 *   RIVET_LOCALSTACK_URL        LocalStack edge (default http://127.0.0.1:4566)
 *   RIVET_LOCALSTACK_PG_URL     PostgreSQL as this test reaches it (default the up.sh server)
 *   RIVET_LOCALSTACK_PG_LAMBDA  the same server as the functions reach it (host processes: the same URL;
 *                               LocalStack in Docker: host.docker.internal)
 */
const LS = process.env.RIVET_LOCALSTACK_URL ?? 'http://127.0.0.1:4566';
const PG_HOST_URL = process.env.RIVET_LOCALSTACK_PG_URL ?? testPgUrl();
const PG_LAMBDA_URL = process.env.RIVET_LOCALSTACK_PG_LAMBDA ?? PG_HOST_URL;
const REGION = 'us-east-1';
const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
const env = { ...process.env, AWS_ENDPOINT_URL: LS, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: REGION, CDK_DEFAULT_ACCOUNT: '000000000000', CDK_DEFAULT_REGION: REGION };

describe('LocalStack: deploy and run', () => {
  it('deploys the stack, runs an export through the Distributed Map and writes _SUCCESS', async () => {
    const db = new pg.Client({ connectionString: PG_HOST_URL });
    await db.connect();
    await db.query('DROP TABLE IF EXISTS ls_orders; CREATE TABLE ls_orders AS SELECT g AS id, md5(g::text) AS note FROM generate_series(1, 5000) g; ALTER TABLE ls_orders ADD PRIMARY KEY (id)');
    await db.end();

    const bucket = `rivet-ls-${Date.now()}`;
    await new S3Client({ region: REGION, endpoint: LS, forcePathStyle: true, credentials: creds }).send(new CreateBucketCommand({ Bucket: bucket }));
    const secret = await new SecretsManagerClient({ region: REGION, endpoint: LS, credentials: creds }).send(
      new CreateSecretCommand({ Name: `rivet-ls-${Date.now()}`, SecretString: PG_LAMBDA_URL }),
    );

    const dir = mkdtempSync(path.join(tmpdir(), 'rivet-ls-'));
    writeFileSync(
      path.join(dir, 'rivet.yaml'),
      `source: { type: postgres, url_env: LS_DATABASE_URL }\nexports:\n  - { name: orders, table: public.ls_orders, mode: chunked, chunk_column: id, chunk_size: 1000, parallel: 2, format: parquet, destination: { type: s3, bucket: ${bucket}, prefix: "orders/{run_id}/", region: ${REGION} } }\n`,
    );
    writeFileSync(path.join(dir, 'rivet.deploy.yaml'), `stack_name: RivetLs\nsecrets: { LS_DATABASE_URL: "${secret.ARN}" }\nretry_interval_s: 1\n`);

    const cdk = (args: string[]) => execFileSync('npx', ['cdk', ...args, '-c', `deploy=${path.join(dir, 'rivet.deploy.yaml')}`], { cwd: REPO_ROOT, env, stdio: 'inherit' });
    cdk(['bootstrap', `aws://000000000000/${REGION}`]);
    cdk(['deploy', '--require-approval', 'never']);

    const out: string[] = [];
    const sink = new Writable({ write: (c, _e, cb) => (out.push(String(c)), cb()) });
    const at = new Date().toISOString();
    const code = await cloudRun({ config: path.join(dir, 'rivet.yaml'), export: 'orders', stack: 'RivetLs', at, wait: true }, new SFNClient({ region: REGION, endpoint: LS, credentials: creds }), sink);
    expect(code, out.join('')).toBe(0);
    const runId = /started run (\S+)/.exec(out.join(''))![1];
    const s3 = new S3Client({ region: REGION, endpoint: LS, forcePathStyle: true, credentials: creds });
    const marker = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `orders/${runId}/_SUCCESS` }));
    expect(await marker.Body!.transformToString()).toMatch(/^xxh3:[0-9a-f]{16}\n$/);
  }, 900_000);
});
