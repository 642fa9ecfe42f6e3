import type { StateStore } from './state-store.js';
import { openDynamoStateDb, type DynamoStateTarget } from './dynamodb/dynamo-state-table.js';
import { dynamoHistory } from './dynamodb/history.js';
import { dynamoCursors } from './dynamodb/cursors.js';
import { dynamoChunks } from './dynamodb/chunks.js';
import { dynamoLeases } from './dynamodb/leases.js';

/**
 * The DynamoDB state backend (`RIVET_STATE_URL=dynamodb://<table>` or `RIVET_STATE_TABLE`):
 * one pk/sk table (created by the CDK stack; key design in dynamodb/dynamo-state-table.ts)
 * shared by the Lambda workers and any CLI pointed at it. Conditional writes and
 * transactions keep concurrent workers and runs from overwriting each other's cursor or
 * chunk records. Nothing to migrate: items carry their own attributes.
 */
export function openDynamoStateStore(target: DynamoStateTarget): StateStore {
  const db = openDynamoStateDb(target);
  return {
    kind: 'dynamodb',
    ...dynamoHistory(db),
    ...dynamoCursors(db),
    ...dynamoChunks(db),
    ...dynamoLeases(db),
    close: () => db.close(),
  };
}
