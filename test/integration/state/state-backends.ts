import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pgExec, testPgUrl } from '../../helpers/pg.js';
import { createStateTable, type DynamoStateTarget } from '../../../shared/state/dynamodb/dynamo-state-table.js';
import { openDynamoStateStore } from '../../../shared/state/dynamodb-state-store.js';
import { openPostgresStateStore } from '../../../shared/state/postgres-state-store.js';
import { openSqliteStateStore } from '../../../shared/state/sqlite-state-store.js';
import type { StateStore } from '../../../shared/state/state-store.js';

/** DynamoDB Local started by test/services/dynamodb.sh (override the port with RIVET_TEST_DYNAMODB_PORT). */
export function dynamoLocalEndpoint(): string {
  return process.env.RIVET_TEST_DYNAMODB_ENDPOINT ?? `http://127.0.0.1:${process.env.RIVET_TEST_DYNAMODB_PORT ?? '54343'}`;
}

/**
 * DynamoDB Local accepts any credentials (access key: letters and digits only), but the SDK
 * insists on having some and a region. Fixed dummy values, so nothing looks for real ones.
 */
export const DYNAMO_LOCAL_ENV = { AWS_ACCESS_KEY_ID: 'rivetlocal', AWS_SECRET_ACCESS_KEY: 'rivetlocal', AWS_REGION: 'us-east-1' } as const;

export function useDynamoLocalCredentials(): void {
  Object.assign(process.env, DYNAMO_LOCAL_ENV);
}

/** A brand-new state table in DynamoDB Local. */
export async function freshStateTable(prefix: string): Promise<DynamoStateTarget> {
  useDynamoLocalCredentials();
  const target = { table: `${prefix}-${process.pid}-${Math.floor(Math.random() * 1e9)}`, endpoint: dynamoLocalEndpoint(), region: 'us-east-1' };
  await createStateTable(target);
  return target;
}

export async function dropStateTable(target: DynamoStateTarget): Promise<void> {
  const sdk = await import('@aws-sdk/client-dynamodb');
  const client = new sdk.DynamoDBClient({ endpoint: target.endpoint, region: target.region });
  try {
    await client.send(new sdk.DeleteTableCommand({ TableName: target.table }));
  } finally {
    client.destroy();
  }
}

/** One backend under test: a fresh namespace per setup, and as many independent stores on it as a test wants. */
export interface BackendUnderTest {
  name: 'sqlite' | 'postgres' | 'dynamodb';
  setup(): Promise<void>;
  /** A new store (its own connection / client) on the backend's namespace. */
  open(): StateStore;
  teardown(): Promise<void>;
}

export function sqliteBackend(): BackendUnderTest {
  let dir = '';
  return {
    name: 'sqlite',
    async setup() {
      dir = mkdtempSync(join(tmpdir(), 'rivet-state-contract-'));
    },
    open: () => openSqliteStateStore(join(dir, '.rivet_state.db')),
    async teardown() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function postgresBackend(): BackendUnderTest {
  const schema = `state_contract_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  return {
    name: 'postgres',
    async setup() {
      await pgExec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
    open: () => openPostgresStateStore({ url: testPgUrl(), schema }),
    async teardown() {
      await pgExec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}

export function dynamoBackend(): BackendUnderTest {
  let target: DynamoStateTarget | null = null;
  return {
    name: 'dynamodb',
    async setup() {
      target = await freshStateTable('rivet-state-contract');
    },
    open: () => openDynamoStateStore(target!),
    async teardown() {
      if (target) await dropStateTable(target);
    },
  };
}
