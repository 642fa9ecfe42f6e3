import { lazyStateStore } from './lazy-state-store.js';
import type { DynamoStateTarget } from './dynamodb/dynamo-state-table.js';
import type { StateStore } from './state-store.js';

/**
 * The DynamoDB state backend (`RIVET_STATE_URL=dynamodb://<table>` or `RIVET_STATE_TABLE`):
 * one pk/sk table (created by the CDK stack; key design in dynamodb/dynamo-state-table.ts)
 * shared by the Lambda workers and any CLI pointed at it. Conditional writes and
 * transactions keep concurrent workers and runs from overwriting each other's cursor or
 * chunk records. Nothing to migrate: items carry their own attributes. Its modules are
 * loaded on the first call.
 */
export function openDynamoStateStore(target: DynamoStateTarget): StateStore {
  return lazyStateStore('dynamodb', async () => (await import('./dynamodb/dynamo-state-store.js')).dynamoStateStore(target));
}
