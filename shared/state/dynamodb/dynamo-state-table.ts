import type { AttributeValue, DynamoDBClient, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { RivetError } from '../../errors/rivet-error.js';

/**
 * The DynamoDB state table: one table, string keys `pk` (partition) and `sk` (sort), on-demand
 * capacity, no secondary index. Every list the commands need is one Query on one partition,
 * so nothing ever Scans:
 *
 * | pk                    | sk                        | item                                             |
 * |-----------------------|---------------------------|--------------------------------------------------|
 * | `CURSOR`              | `<export>`                | cursor, lastRunAt, boundary* (its since, run, …) |
 * | `BOUNDARY#<export>`   | `PART#<gen>#<n, 6 digits>`| the boundary's row identities, ≤ 350 000 bytes   |
 * | `PROGRESSION`         | `<export>`                | committed* / verified* boundary attributes       |
 * | `METRICS`             | `<id, 16 digits>`         | one metrics row (all exports, newest = last)     |
 * | `METRICS#<export>`    | `<id>`                    | the same row again, for per-export listing       |
 * | `RUNMETRICS#<run id>` | `<id>`                    | pointer: which metrics rows a run wrote          |
 * | `FILES`               | `<id>`                    | one file_log row                                 |
 * | `FILES#<export>`      | `<id>`                    | the same row again                               |
 * | `JOURNAL#<run id>`    | `HEAD`                    | exportName, finishedAt, gen, parts               |
 * | `JOURNAL#<run id>`    | `PART#<gen>#<n, 6 digits>`| gzip of the journal JSON, ≤ 350 000 bytes each   |
 * | `JOURNALS#<export>`   | `<finishedAt>#<gen>`      | pointer to a run's journal, newest = last        |
 * | `CHUNKRUN#<run id>`   | `HEAD`                    | the chunk_run row (status, plan hash, …)         |
 * | `CHUNKRUN#<run id>`   | `TASK#<index, 10 digits>` | one chunk_task row                               |
 * | `CHUNKRUNS#<export>`  | `<run id>`                | pointer: the export's runs                       |
 * | `CHUNKACTIVE`         | `<export>`                | runId of the export's in_progress run (its lock) |
 * | `LEASE`               | `<export>`                | the export's run lease (runId, token, expiresAt) |
 * | `COUNTER`             | `<name>`                  | `n`: ids for metrics, files and journals         |
 *
 * Ids come from atomic counters (UpdateItem ADD), so zero-padded ids sort like SQLite's
 * AUTOINCREMENT. Writes that must agree (a metrics row and its copies, a task and its run, a
 * run and its lock) go in one TransactWriteItems; claims and cursor advances are conditional
 * writes, so of two workers racing, one wins and the other sees it lost.
 */
export interface DynamoStateTarget {
  table: string;
  /** Endpoint override (DynamoDB Local, LocalStack); otherwise the SDK's own resolution (incl. AWS_ENDPOINT_URL_DYNAMODB). */
  endpoint?: string;
  region?: string;
}

export type Item = Record<string, AttributeValue>;
export type Key = { pk: string; sk: string };

/** Ids are zero-padded so the sort key orders them numerically. */
export const pad = (n: number, width = 16): string => String(n).padStart(width, '0');

// Attribute values in and out. Numbers travel as strings in DynamoDB's wire format.
export const S = (v: string): AttributeValue => ({ S: v });
export const N = (v: number): AttributeValue => ({ N: String(v) });
export const NUL: AttributeValue = { NULL: true };
export const SorNull = (v: string | null | undefined): AttributeValue => (v === null || v === undefined ? NUL : S(v));
export const NorNull = (v: number | null | undefined): AttributeValue => (v === null || v === undefined ? NUL : N(v));
export const BOOLorNull = (v: boolean | null | undefined): AttributeValue => (v === null || v === undefined ? NUL : { BOOL: v });
export const str = (i: Item, k: string): string => i[k]?.S ?? '';
export const strOrNull = (i: Item, k: string): string | null => i[k]?.S ?? null;
export const num = (i: Item, k: string): number => Number(i[k]?.N ?? 0);
export const numOrNull = (i: Item, k: string): number | null => (i[k]?.N === undefined ? null : Number(i[k].N));
export const boolOrNull = (i: Item, k: string): boolean | null => i[k]?.BOOL ?? null;
export const keyOf = (k: Key): Item => ({ pk: S(k.pk), sk: S(k.sk) });

/** A conditional single-item write: `names`/`values` are the expression attribute maps. */
export interface Expr {
  condition?: string;
  names?: Record<string, string>;
  values?: Item;
}

/** A transaction member, before the table name is filled in. */
export type TxItem =
  | { put: Item; expr?: Expr }
  | { update: Key; set: string; expr?: Expr }
  | { delete: Key; expr?: Expr }
  | { check: Key; expr: Expr };

export interface DynamoStateDb {
  readonly table: string;
  get(key: Key): Promise<Item | null>;
  /** False when the condition failed. */
  put(item: Item, expr?: Expr): Promise<boolean>;
  /** The item after the update, or null when the condition failed. */
  update(key: Key, set: string, expr?: Expr): Promise<Item | null>;
  /** The deleted item, or null when there was none (or the condition failed). */
  del(key: Key, expr?: Expr): Promise<Item | null>;
  /** Every item of a partition (optionally under a sort-key prefix), in sort-key order; newest first with `desc`. */
  query(pk: string, options?: { prefix?: string; desc?: boolean; limit?: number }): Promise<Item[]>;
  /** All or nothing; false when a condition failed. Conflicts with a concurrent transaction are retried. */
  transact(items: TxItem[]): Promise<boolean>;
  /** Unconditional puts / deletes in batches of 25 (not atomic: for items nothing reads yet, or garbage). */
  batchWrite(ops: ({ put: Item } | { delete: Key })[]): Promise<void>;
  /** Reserve `n` consecutive ids of counter `name`; returns the last one. */
  nextIds(name: string, n: number): Promise<number>;
  close(): Promise<void>;
}

type Sdk = typeof import('@aws-sdk/client-dynamodb');

/**
 * The SDK warns on stderr, once per process, that its releases after January 2027 will need
 * Node 22; the pinned SDK runs on Node 20, and eight lines of it under every `rivet state`
 * output only confuse. An explicit setting by the user is left alone.
 */
function quietSdkNodeWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

const MAX_TX_RETRIES = 12;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The DynamoDB client of the state store. The SDK is loaded on first use: commands that never touch state do not pay for it. */
export function openDynamoStateDb(target: DynamoStateTarget): DynamoStateDb {
  const table = target.table;
  let loaded: Promise<{ sdk: Sdk; client: DynamoDBClient }> | null = null;
  const load = () =>
    (loaded ??= import('@aws-sdk/client-dynamodb').then((sdk) => {
      quietSdkNodeWarning();
      const client = new sdk.DynamoDBClient({
        ...(target.endpoint ? { endpoint: target.endpoint } : {}),
        ...(target.region ? { region: target.region } : {}),
      });
      return { sdk, client };
    }));

  const fail = (op: string, e: unknown): RivetError => {
    const err = e as Error & { name?: string };
    const name = err.name ?? 'Error';
    const hint =
      name === 'ResourceNotFoundException'
        ? `create the table (the CDK stack does; see docs/reference/state.md for its key schema) or point RIVET_STATE_TABLE at an existing one`
        : /credential|region/i.test(`${name} ${err.message}`)
          ? 'set AWS credentials and a region (AWS_REGION, or ?region= in RIVET_STATE_URL) for the DynamoDB state table'
          : name === 'AccessDeniedException'
            ? 'grant the role the DynamoDB actions listed in docs/reference/state.md on the state table'
            : 'check RIVET_STATE_URL / RIVET_STATE_TABLE and that DynamoDB is reachable';
    return new RivetError('STATE', `state(dynamodb): ${op} on table ${table} failed: ${name}: ${err.message}`, { hint, cause: e });
  };

  const isCondition = (e: unknown) => (e as Error)?.name === 'ConditionalCheckFailedException';
  const exprParts = (expr?: Expr) => ({
    ...(expr?.condition ? { ConditionExpression: expr.condition } : {}),
    ...(expr?.names && Object.keys(expr.names).length ? { ExpressionAttributeNames: expr.names } : {}),
    ...(expr?.values && Object.keys(expr.values).length ? { ExpressionAttributeValues: expr.values } : {}),
  });

  const db: DynamoStateDb = {
    table,
    async get(key) {
      const { sdk, client } = await load();
      try {
        const r = await client.send(new sdk.GetItemCommand({ TableName: table, Key: keyOf(key), ConsistentRead: true }));
        return r.Item ?? null;
      } catch (e) {
        throw fail('GetItem', e);
      }
    },
    async put(item, expr) {
      const { sdk, client } = await load();
      try {
        await client.send(new sdk.PutItemCommand({ TableName: table, Item: item, ...exprParts(expr) }));
        return true;
      } catch (e) {
        if (expr?.condition && isCondition(e)) return false;
        throw fail('PutItem', e);
      }
    },
    async update(key, set, expr) {
      const { sdk, client } = await load();
      try {
        const r = await client.send(new sdk.UpdateItemCommand({ TableName: table, Key: keyOf(key), UpdateExpression: set, ReturnValues: 'ALL_NEW', ...exprParts(expr) }));
        return r.Attributes ?? {};
      } catch (e) {
        if (expr?.condition && isCondition(e)) return null;
        throw fail('UpdateItem', e);
      }
    },
    async del(key, expr) {
      const { sdk, client } = await load();
      try {
        const r = await client.send(new sdk.DeleteItemCommand({ TableName: table, Key: keyOf(key), ReturnValues: 'ALL_OLD', ...exprParts(expr) }));
        return r.Attributes ?? null;
      } catch (e) {
        if (expr?.condition && isCondition(e)) return null;
        throw fail('DeleteItem', e);
      }
    },
    async query(pk, options = {}) {
      const { sdk, client } = await load();
      const out: Item[] = [];
      let start: Item | undefined;
      try {
        do {
          const r = await client.send(
            new sdk.QueryCommand({
              TableName: table,
              KeyConditionExpression: options.prefix ? 'pk = :pk AND begins_with(sk, :p)' : 'pk = :pk',
              ExpressionAttributeValues: { ':pk': S(pk), ...(options.prefix ? { ':p': S(options.prefix) } : {}) },
              ScanIndexForward: !options.desc,
              ConsistentRead: true,
              ExclusiveStartKey: start,
              ...(options.limit !== undefined ? { Limit: options.limit - out.length } : {}),
            }),
          );
          out.push(...(r.Items ?? []));
          start = r.LastEvaluatedKey;
        } while (start && (options.limit === undefined || out.length < options.limit));
      } catch (e) {
        throw fail('Query', e);
      }
      return out;
    },
    async transact(items) {
      const { sdk, client } = await load();
      const members: TransactWriteItem[] = items.map((i) => {
        if ('put' in i) return { Put: { TableName: table, Item: i.put, ...exprParts(i.expr) } };
        if ('update' in i) return { Update: { TableName: table, Key: keyOf(i.update), UpdateExpression: i.set, ...exprParts(i.expr) } };
        if ('delete' in i) return { Delete: { TableName: table, Key: keyOf(i.delete), ...exprParts(i.expr) } };
        return { ConditionCheck: { TableName: table, Key: keyOf(i.check), ...exprParts(i.expr), ConditionExpression: i.expr.condition ?? 'attribute_exists(pk)' } };
      });
      for (let attempt = 0; ; attempt++) {
        try {
          await client.send(new sdk.TransactWriteItemsCommand({ TransactItems: members }));
          return true;
        } catch (e) {
          const reasons = (e as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
          const codes = reasons.map((r) => r.Code ?? 'None');
          if (codes.includes('ConditionalCheckFailed')) return false;
          // Another transaction touched one of our items at the same moment: nothing was written, try again.
          const conflict = codes.includes('TransactionConflict') || (e as Error).name === 'TransactionConflictException';
          if (conflict && attempt < MAX_TX_RETRIES) {
            await sleep(10 * 2 ** Math.min(attempt, 6) * (0.5 + Math.random()));
            continue;
          }
          throw fail('TransactWriteItems', e);
        }
      }
    },
    async batchWrite(ops) {
      const { sdk, client } = await load();
      for (let at = 0; at < ops.length; at += 25) {
        let requests = ops.slice(at, at + 25).map((o) => ('put' in o ? { PutRequest: { Item: o.put } } : { DeleteRequest: { Key: keyOf(o.delete) } }));
        for (let attempt = 0; requests.length > 0; attempt++) {
          try {
            const r = await client.send(new sdk.BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
            requests = (r.UnprocessedItems?.[table] ?? []) as typeof requests;
          } catch (e) {
            throw fail('BatchWriteItem', e);
          }
          if (requests.length > 0) await sleep(20 * 2 ** Math.min(attempt, 6));
        }
      }
    },
    async nextIds(name, n) {
      const r = await db.update({ pk: 'COUNTER', sk: name }, 'ADD #n :k', { names: { '#n': 'n' }, values: { ':k': N(n) } });
      return num(r ?? {}, 'n');
    },
    async close() {
      if (loaded) (await loaded).client.destroy();
      loaded = null;
    },
  };
  return db;
}

/**
 * Create the state table (pk/sk strings, on-demand) and wait until it is active. Production
 * tables come from the CDK stack; this is for tests, DynamoDB Local and first-time setups.
 */
export async function createStateTable(target: DynamoStateTarget): Promise<void> {
  const sdk = await import('@aws-sdk/client-dynamodb');
  quietSdkNodeWarning();
  const client = new sdk.DynamoDBClient({ ...(target.endpoint ? { endpoint: target.endpoint } : {}), ...(target.region ? { region: target.region } : {}) });
  try {
    await client.send(
      new sdk.CreateTableCommand({
        TableName: target.table,
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await sdk.waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: target.table });
  } finally {
    client.destroy();
  }
}
