import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../shared/log/logger.js';
import { isRivetError } from '../../../shared/errors/rivet-error.js';
import { openPostgresSource, type PgReadOptions, type PgSource } from '../../../shared/source/postgres/pg-source.js';
import type { RecordBatch } from 'apache-arrow';
import { freshSchema, pgExec, testPgUrl } from '../../helpers/pg.js';
import { collect, int64At, valueAt } from './arrow-values.js';

let schema: string;
let source: PgSource;

async function backendState(): Promise<string[]> {
  const rows = await pgExec<{ state: string }>(
    "SELECT state FROM pg_stat_activity WHERE application_name = 'rivet' AND datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%' || $1 || '%'",
    [schema],
  );
  return rows.map((r) => r.state);
}

beforeAll(async () => {
  schema = await freshSchema('pgbatch');
  await pgExec(`CREATE TABLE ${schema}.big AS SELECT g::int8 AS id, md5(g::text) AS label FROM generate_series(1, 25000) g`);
  await pgExec(`CREATE TABLE ${schema}.zero (a int4, b text)`);
  source = await openPostgresSource({ connection: { engine: 'postgres', url: testPgUrl() }, log: silentLogger });
});

/** This file covers the cursor path (DECLARE … FETCH); pg-copy-read.test.ts covers COPY, now the default. */
function read(sql: string, options: PgReadOptions): AsyncIterable<RecordBatch> {
  return source.read(sql, { method: 'cursor', ...options });
}

afterAll(async () => {
  await source?.close();
  await pgExec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
});

describe('PostgreSQL read batching', () => {
  it('splits 25 000 rows into a 500-row probe, then 10k/10k/4.5k batches, in order', async () => {
    const batches = await collect(read(`SELECT * FROM ${schema}.big ORDER BY id`, { batchSize: 10_000 }));
    expect(batches.map((b) => b.numRows)).toEqual([500, 10_000, 10_000, 4_500]);
    expect(int64At(batches[0], 'id', 0)).toBe(1n);
    expect(int64At(batches[1], 'id', 0)).toBe(501n);
    expect(int64At(batches[2], 'id', 0)).toBe(10_501n);
    expect(int64At(batches[3], 'id', 4_499)).toBe(25_000n);
    expect(valueAt(batches[3], 'label', 4_499)).toHaveLength(32);
    for (const b of batches) expect(b.schema.fields.map((f) => f.name)).toEqual(['id', 'label']);
  });

  it('ends on an exact multiple with no empty trailing batch', async () => {
    const batches = await collect(read(`SELECT * FROM ${schema}.big WHERE id <= 20000`, { batchSize: 10_000 }));
    expect(batches.map((b) => b.numRows)).toEqual([500, 10_000, 9_500]);
  });

  it('yields no batch for a zero-row result', async () => {
    expect(await collect(read(`SELECT * FROM ${schema}.zero`, { batchSize: 100 }))).toEqual([]);
  });

  it('accepts a trailing semicolon and a trailing line comment', async () => {
    const batches = await collect(read(`SELECT id FROM ${schema}.big WHERE id < 3; -- two rows\n`, { batchSize: 10 }));
    expect(batches[0].numRows).toBe(2);
  });

  it('sleeps throttle_ms between full batches', async () => {
    const started = Date.now();
    const batches = await collect(read(`SELECT id FROM ${schema}.big WHERE id <= 300`, { batchSize: 100, throttleMs: 60 }));
    expect(batches).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(170);
  });

  it('describes a query without fetching rows', async () => {
    // Evaluating any row would divide by zero: a describe that fetched would fail.
    const schemaOut = await source.describe(`SELECT id, 1 / (id - id) AS boom, label FROM ${schema}.big`);
    expect(schemaOut.fields.map((f) => f.name)).toEqual(['id', 'boom', 'label']);
    expect(schemaOut.fields.map((f) => String(f.type))).toEqual(['Int64', 'Int64', 'Utf8']);
  });

  it('releases the cursor and transaction when the consumer stops early', async () => {
    for await (const b of read(`SELECT * FROM ${schema}.big ORDER BY id`, { batchSize: 1000 })) {
      expect(b.numRows).toBe(500); // the first batch is the 500-row probe
      break;
    }
    expect(await backendState()).not.toContain('idle in transaction');
    const again = await collect(read(`SELECT count(*)::int8 AS n FROM ${schema}.big`, { batchSize: 10 }));
    expect(int64At(again[0], 'n', 0)).toBe(25_000n);
  });

  it('stops on abort, rolls back, and leaves the source usable', async () => {
    const ac = new AbortController();
    let seen = 0;
    await expect(
      (async () => {
        for await (const b of read(`SELECT * FROM ${schema}.big ORDER BY id`, { batchSize: 1000, signal: ac.signal })) {
          seen += b.numRows;
          ac.abort(new Error('stop requested'));
        }
      })(),
    ).rejects.toThrow('stop requested');
    expect(seen).toBe(500);
    expect(await backendState()).not.toContain('idle in transaction');
    const open = await collect(read(`SELECT count(*)::int8 AS n FROM pg_cursors`, { batchSize: 10 }));
    // Only the cursor of this very read exists.
    expect(int64At(open[0], 'n', 0)).toBe(1n);
  });

  it('cancels a long-running fetch when aborted', async () => {
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(new Error('aborted mid-fetch')), 300);
    await expect(collect(read('SELECT 1::int4 AS s FROM (SELECT pg_sleep(20)) AS z', { batchSize: 10, signal: ac.signal }))).rejects.toThrow('aborted mid-fetch');
    expect(Date.now() - started).toBeLessThan(5_000);
    const after = await collect(read('SELECT 1::int4 AS one', { batchSize: 10 }));
    expect(valueAt(after[0], 'one', 0)).toBe(1);
  });

  it('honours statement_timeout', async () => {
    const err = await collect(read('SELECT 1::int4 AS s FROM (SELECT pg_sleep(5)) AS z', { batchSize: 10, statementTimeoutS: 0.3 })).catch((e) => e);
    expect(isRivetError(err)).toBe(true);
    expect(err.code).toBe('SOURCE_QUERY');
    expect(err.message).toMatch(/statement timeout/);
    expect(err.message).toMatch(/57014/);
    expect(err.hint).toMatch(/statement_timeout_s/);
    const after = await collect(read('SELECT 2::int4 AS two', { batchSize: 10 }));
    expect(valueAt(after[0], 'two', 0)).toBe(2);
  });

  it('rejects a value above max_value_mb naming the column, size and limit', async () => {
    const err = await collect(
      read(`SELECT 1::int4 AS id, repeat('x', 3 * 1024 * 1024) AS payload`, { batchSize: 10, maxValueMb: 2 }),
    ).catch((e) => e);
    expect(err.code).toBe('VALUE_TOO_LARGE');
    expect(err.message).toContain('"payload"');
    expect(err.message).toContain('3.0 MB');
    expect(err.message).toContain('2.0 MB');
    expect(err.hint).toContain('tuning.max_value_mb');
    // The connection stayed in sync.
    const after = await collect(read('SELECT 3::int4 AS three', { batchSize: 10 }));
    expect(valueAt(after[0], 'three', 0)).toBe(3);
  });

  it('reads a value larger than one socket chunk', async () => {
    const batches = await collect(read(`SELECT repeat('ab', 2 * 1024 * 1024) AS big, 7::int4 AS after`, { batchSize: 10 }));
    expect((valueAt(batches[0], 'big', 0) as string).length).toBe(4 * 1024 * 1024);
    expect(valueAt(batches[0], 'after', 0)).toBe(7);
  });

  it('checks table existence with to_regclass', async () => {
    expect(await source.tableExists(`${schema}.big`)).toBe(true);
    expect(await source.tableExists(`${schema}.nope`)).toBe(false);
    expect(source.quoteIdent('we"ird')).toBe('"we""ird"');
  });
});

describe('PostgreSQL batches are cut by bytes as well as rows', () => {
  it('shrinks batches of wide rows to the byte budget, identically for cursor and COPY', async () => {
    // 2,000 rows of 32 KiB: a 4 MiB budget fits 127 of them per batch, whatever batch_size says.
    const sql = `SELECT g AS id, repeat(md5(g::text), 1024) AS payload FROM generate_series(1, 2000) g`;
    const seen: number[][] = [];
    for (const method of ['cursor', 'copy'] as const) {
      const sizes = (await collect(read(sql, { batchSize: 50_000, batchMemoryMb: 4, method }))).map((b) => b.numRows);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(2000);
      expect(sizes[0]).toBe(500);
      expect(sizes.slice(1, -1).every((n) => n === 127)).toBe(true);
      expect(sizes.at(-1)).toBeLessThanOrEqual(127);
      seen.push(sizes);
    }
    expect(seen[1]).toEqual(seen[0]);
  });

  it('keeps full row-count batches for narrow rows', async () => {
    const batches = await collect(read(`SELECT * FROM ${schema}.big ORDER BY id`, { batchSize: 8_000, batchMemoryMb: 64 }));
    expect(batches.map((b) => b.numRows)).toEqual([500, 8_000, 8_000, 8_000, 500]);
  });
});
