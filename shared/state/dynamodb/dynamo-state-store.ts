import type { StateStore } from '../state-store.js';
import { openDynamoStateDb, type DynamoStateTarget } from './dynamo-state-table.js';
import { dynamoHistory } from './history.js';
import { dynamoCursors } from './cursors.js';
import { dynamoChunks } from './chunks.js';
import { dynamoLeases } from './leases.js';

/** The DynamoDB store's concerns over one table client (dynamodb-state-store.ts loads this module on first use). */
export function dynamoStateStore(target: DynamoStateTarget): StateStore {
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
