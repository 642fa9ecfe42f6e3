import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteItemCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { REPO_ROOT, runCli, type CliResult } from '../helpers/cli.js';

/**
 * What the LocalStack suite shares: the endpoint, AWS clients and environment pointed at it,
 * deploying the CDK app as a user does (`npx cdk bootstrap` / `deploy`), and reading a prefix back.
 */
export const LS = process.env.RIVET_LOCALSTACK_URL ?? 'http://127.0.0.1:4566';
export const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const clientConfig = { region: REGION, endpoint: LS, credentials };

/** The environment of every command that talks to "AWS": the CLI, cdk. No state URL: a local run keeps its state next to its config. */
export function awsEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_ENDPOINT_URL: LS, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: REGION, CDK_DEFAULT_ACCOUNT: ACCOUNT, CDK_DEFAULT_REGION: REGION };
  delete env.RIVET_STATE_URL;
  delete env.AWS_PROFILE;
  return env;
}

export const s3 = new S3Client({ ...clientConfig, forcePathStyle: true });

export async function createBucket(prefix: string): Promise<string> {
  const bucket = `${prefix}-${Date.now()}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

export async function createSecret(name: string, value: string): Promise<string> {
  const out = await new SecretsManagerClient(clientConfig).send(new CreateSecretCommand({ Name: `${name}-${Date.now()}`, SecretString: value }));
  return out.ARN!;
}

/** `cdk bootstrap` then `cdk deploy` of the app with this deploy file; returns the stack's outputs. */
export function deployStack(deployFile: string, stackName: string): Record<string, string> {
  const outputs = path.join(mkdtempSync(path.join(tmpdir(), 'rivet-ls-cdk-')), 'outputs.json');
  const cdk = (args: string[]) =>
    execFileSync('npx', ['cdk', ...args, '-c', `deploy=${deployFile}`], { cwd: REPO_ROOT, env: awsEnv(), stdio: ['ignore', 'inherit', 'inherit'] });
  cdk(['bootstrap', `aws://${ACCOUNT}/${REGION}`]);
  cdk(['deploy', '--require-approval', 'never', '--outputs-file', outputs]);
  return (JSON.parse(readFileSync(outputs, 'utf8')) as Record<string, Record<string, string>>)[stackName];
}

/** Empties the state table: it is retained across deploys, so cursors of an earlier session would otherwise carry over. */
export async function clearTable(tableName: string): Promise<void> {
  const ddb = new DynamoDBClient(clientConfig);
  for (;;) {
    const page = await ddb.send(new ScanCommand({ TableName: tableName, ProjectionExpression: 'pk, sk' }));
    if (!page.Items?.length) return;
    for (const key of page.Items) await ddb.send(new DeleteItemCommand({ TableName: tableName, Key: key }));
  }
}

/** `rivet <args>` with the built CLI, against LocalStack. */
export function rivet(args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(args, { cwd, env: { ...awsEnv(), ...extraEnv }, timeoutMs: 600_000 });
}

/** Every object under `prefix`, by key relative to it. */
export async function readPrefix(bucket: string, prefix: string): Promise<Map<string, Buffer>> {
  const objects = new Map<string, Buffer>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      const body = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
      objects.set(o.Key!.slice(prefix.length), Buffer.from(await body.Body!.transformToByteArray()));
    }
    token = page.NextContinuationToken;
  } while (token);
  return objects;
}

export function configPath(dir: string, file = 'rivet.yaml'): string {
  return path.join(dir, file);
}
