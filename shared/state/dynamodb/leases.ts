import type { LeaseStore, RunLease } from '../lease-store.js';
import { N, NUL, S, numOrNull, str, type DynamoStateDb, type Item } from './dynamo-state-table.js';

/**
 * Run leases on DynamoDB: one item per export in the `LEASE` partition. Every change is a
 * conditional write on the item's token, which DynamoDB evaluates atomically with the write.
 */
const leaseKey = (exportName: string) => ({ pk: 'LEASE', sk: exportName });

function leaseItem(l: RunLease): Item {
  return {
    pk: S('LEASE'),
    sk: S(l.exportName),
    runId: S(l.runId),
    token: S(l.token),
    host: S(l.host),
    pid: l.pid === null ? NUL : N(l.pid),
    acquiredAt: S(l.acquiredAt),
    expiresAt: S(l.expiresAt),
  };
}

function leaseOf(i: Item): RunLease {
  return {
    exportName: str(i, 'sk'),
    runId: str(i, 'runId'),
    token: str(i, 'token'),
    host: str(i, 'host'),
    pid: numOrNull(i, 'pid'),
    acquiredAt: str(i, 'acquiredAt'),
    expiresAt: str(i, 'expiresAt'),
  };
}

const TOKEN = { '#t': 'token' };

export function dynamoLeases(db: DynamoStateDb): LeaseStore {
  return {
    async getLease(exportName) {
      const i = await db.get(leaseKey(exportName));
      return i ? leaseOf(i) : null;
    },
    async putLease(lease, replacing) {
      return db.put(
        leaseItem(lease),
        replacing === null ? { condition: 'attribute_not_exists(pk)' } : { condition: '#t = :old', names: TOKEN, values: { ':old': S(replacing) } },
      );
    },
    async renewLease(exportName, token, expiresAt) {
      const r = await db.update(leaseKey(exportName), 'SET #e = :e', {
        condition: '#t = :t',
        names: { ...TOKEN, '#e': 'expiresAt' },
        values: { ':t': S(token), ':e': S(expiresAt) },
      });
      return r !== null;
    },
    async releaseLease(exportName, token) {
      const r = await db.del(leaseKey(exportName), { condition: '#t = :t', names: TOKEN, values: { ':t': S(token) } });
      return r !== null;
    },
  };
}
