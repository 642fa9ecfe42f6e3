import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordBatch } from 'apache-arrow';
import pg from 'pg';
import { silentLogger } from '../../../shared/log/logger.js';
import { isRivetError } from '../../../shared/errors/rivet-error.js';
import { openPostgresSource, type PgSource } from '../../../shared/source/postgres/pg-source.js';
import { arrowTypeName } from '../../../shared/types/arrow-type-name.js';
import { freshSchema, pgExec, testPgUrl } from '../../helpers/pg.js';
import { col, collect, int64At, valueAt } from './arrow-values.js';

let schema: string;
let source: PgSource;

/** Every value of a batch list as plain data (bigints, typed arrays and nested vectors flattened), column by column. */
function norm(x: unknown): unknown {
  if (x === null || x === undefined) return null;
  if (typeof x === 'bigint') return `${x}n`;
  if (typeof x === 'number' && Number.isNaN(x)) return 'NaN';
  if (ArrayBuffer.isView(x)) return Array.from(x as unknown as ArrayLike<unknown>, norm);
  if (typeof x === 'object' && Symbol.iterator in x) return Array.from(x as Iterable<unknown>, norm);
  return x;
}

function columns(batches: RecordBatch[]): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const b of batches) {
    for (const f of b.schema.fields) {
      const v = col(b, f.name);
      const values = (out[f.name] ??= []);
      for (let i = 0; i < b.numRows; i++) values.push(v.isValid(i) ? norm(v.get(i)) : null);
    }
  }
  return out;
}

function describeSchema(b: RecordBatch) {
  return b.schema.fields.map((f) => ({ name: f.name, type: arrowTypeName(f.type), meta: Object.fromEntries(f.metadata) }));
}

async function backendStates(marker: string): Promise<{ state: string; wait: string | null }[]> {
  return pgExec<{ state: string; wait: string | null }>(
    "SELECT state, wait_event AS wait FROM pg_stat_activity WHERE application_name = 'rivet' AND datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%' || $1 || '%'",
    [marker],
  );
}

beforeAll(async () => {
  schema = await freshSchema('pgcopy');
  await pgExec(`
    CREATE TYPE ${schema}.mood AS ENUM ('sad', 'happy');
    CREATE DOMAIN ${schema}.posint AS int4 CHECK (VALUE > 0);
    CREATE TABLE ${schema}.all_types (
      id int4 PRIMARY KEY,
      b bool, i2 int2, i4 int4, i8 int8, o oid, f4 float4, f8 float8,
      n38 numeric(38,10), n10 numeric(10,0), n52 numeric(5,2),
      d date, t time, ts timestamp, tstz timestamptz,
      txt text, vc varchar(20), bp char(5), nm name,
      by bytea, js json, jb jsonb, u uuid, iv interval, mood ${schema}.mood, arr int4[], tarr text[], dom ${schema}.posint
    );
    CREATE TABLE ${schema}.big AS SELECT g::int8 AS id, md5(g::text) AS label FROM generate_series(1, 25000) g;
  `);
  const c = new pg.Client({ connectionString: testPgUrl() });
  await c.connect();
  try {
    await c.query("SET TimeZone = 'America/New_York'");
    await c.query(`INSERT INTO ${schema}.all_types VALUES
      (1, true, 12, 123456, 1234567890123, 4000000000, 1.5, 2.25,
       12345.6789, 42, 123.45,
       '2024-02-29', '13:14:15.123456', '2024-02-29 13:14:15.123456', '2024-03-10 01:30:00.000001',
       'héllo wörld ✓ 😀', 'abc', 'ab', 'some_name',
       '\\x00ff0001', '{"a" : [1, 2.50], "b":"x y"}', '{"b": 1, "a": "x\\" y", "c": 12345678901234567890.5}',
       'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '1 year 2 months 3 days 04:05:06.789', 'happy', '{1,NULL,3}', '{"x",NULL,""}', 7),
      (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (3, false, -32768, -2147483648, -9223372036854775808, 0, '-0', 'NaN',
       -1234567890123456789012345678.0123456789, -9999999999, -999.99,
       '1900-01-01', '00:00:00', '1969-07-20 20:17:40.123456', '1969-12-31 18:59:59.999999',
       '', '', '', '',
       '\\x', '[]', '{}',
       '00000000-0000-0000-0000-000000000000', '-1 days -00:00:01.5', 'sad', '{}', '{}', 1),
      (4, true, 32767, 2147483647, 9223372036854775807, 4294967295, 'Infinity', '-Infinity',
       0.0000000001, 0, 0,
       '2262-04-11', '23:59:59.999999', '0001-01-01 00:00:00', '9999-12-31 23:59:59.999999',
       repeat('x', 10000), 'z', 'abcde', 'n',
       decode(repeat('00', 100), 'hex'), 'null', '"str"',
       'ffffffff-ffff-ffff-ffff-ffffffffffff', '0 seconds', NULL, '{-5}', '{"a,b"}', 2147483647),
      (5, NULL, 1, 1, 1, 1, 1, 1,
       -0.0000000001, 1, -0.01,
       '1970-01-01', '12:00:00', '1970-01-01 00:00:00', '1970-01-01 00:00:00+00',
       'x', NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, '-1 year -1 month', NULL, NULL, NULL, NULL)`);
  } finally {
    await c.end();
  }
  source = await openPostgresSource({ connection: { engine: 'postgres', url: testPgUrl() }, log: silentLogger });
});

afterAll(async () => {
  await source?.close();
  await pgExec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
});

// The stream parser itself (payload splits, header/trailer, garbage) is covered by test/unit/source/pg-copy-parser.test.ts.

describe('PostgreSQL read through binary COPY', () => {
  it('reads every common type, NULLs and edge values exactly as the cursor does', async () => {
    const sql = `SELECT * FROM ${schema}.all_types ORDER BY id`;
    const viaCursor = await collect(source.read(sql, { batchSize: 2, method: 'cursor' }));
    const viaCopy = await collect(source.read(sql, { batchSize: 2, method: 'copy' }));
    expect(viaCopy.map((b) => b.numRows)).toEqual([2, 2, 1]);
    expect(viaCopy.map((b) => b.numRows)).toEqual(viaCursor.map((b) => b.numRows));
    expect(describeSchema(viaCopy[0])).toEqual(describeSchema(viaCursor[0]));
    const copyValues = columns(viaCopy);
    expect(copyValues).toEqual(columns(viaCursor));
    // Spot checks, so "equal" cannot mean "equally empty".
    expect(copyValues.txt).toEqual(['héllo wörld ✓ 😀', null, '', 'x'.repeat(10000), 'x']);
    expect(copyValues.i8).toEqual(['1234567890123n', null, '-9223372036854775808n', '9223372036854775807n', '1n']);
    expect(copyValues.dom).toEqual([7, null, 1, 2147483647, null]);
    expect(copyValues.f8[2]).toBe('NaN');
  });

  it('reads 25 000 rows identically to the cursor', async () => {
    const sql = `SELECT id, label, (id % 7 = 0) AS flag, (CASE WHEN id % 3 = 0 THEN NULL ELSE id * 1.5 END)::numeric(12,1) AS half FROM ${schema}.big ORDER BY id`;
    const a = columns(await collect(source.read(sql, { batchSize: 4096, method: 'cursor' })));
    const b = columns(await collect(source.read(sql, { batchSize: 4096, method: 'copy' })));
    expect(b.id).toHaveLength(25_000);
    expect(b).toEqual(a);
  });

  it('splits 25 000 rows into a 500-row probe, then 10k/10k/4.5k batches, in order', async () => {
    const batches = await collect(source.read(`SELECT * FROM ${schema}.big ORDER BY id`, { batchSize: 10_000, method: 'copy' }));
    expect(batches.map((b) => b.numRows)).toEqual([500, 10_000, 10_000, 4_500]);
    expect(int64At(batches[0], 'id', 0)).toBe(1n);
    expect(int64At(batches[1], 'id', 0)).toBe(501n);
    expect(int64At(batches[2], 'id', 0)).toBe(10_501n);
    expect(int64At(batches[3], 'id', 4_499)).toBe(25_000n);
    expect(valueAt(batches[3], 'label', 4_499)).toHaveLength(32);
  });

  it('yields no batch for a zero-row result and no empty trailing batch', async () => {
    expect(await collect(source.read(`SELECT * FROM ${schema}.big WHERE id < 0`, { batchSize: 10, method: 'copy' }))).toEqual([]);
    const even = await collect(source.read(`SELECT * FROM ${schema}.big WHERE id <= 20000`, { batchSize: 10_000, method: 'copy' }));
    expect(even.map((b) => b.numRows)).toEqual([500, 10_000, 9_500]);
  });

  it('reads a multi-MB value that spans many socket chunks and CopyData-sized pieces', async () => {
    const batches = await collect(
      source.read(`SELECT 1::int4 AS before, repeat('ab', 3 * 1024 * 1024) AS big, 7::int4 AS after UNION ALL SELECT 2, 'small', 8`, {
        batchSize: 10,
        method: 'copy',
      }),
    );
    expect((valueAt(batches[0], 'big', 0) as string).length).toBe(6 * 1024 * 1024);
    expect((valueAt(batches[0], 'big', 0) as string).slice(0, 4)).toBe('abab');
    expect(valueAt(batches[0], 'after', 0)).toBe(7);
    expect(valueAt(batches[0], 'big', 1)).toBe('small');
    expect(valueAt(batches[0], 'after', 1)).toBe(8);
  });

  it('rejects a value above max_value_mb and stays usable', async () => {
    const err = await collect(
      source.read(`SELECT 1::int4 AS id, repeat('x', 3 * 1024 * 1024) AS payload`, { batchSize: 10, maxValueMb: 2, method: 'copy' }),
    ).catch((e) => e);
    expect(err.code).toBe('VALUE_TOO_LARGE');
    expect(err.message).toContain('"payload"');
    const after = await collect(source.read('SELECT 3::int4 AS three', { batchSize: 10, method: 'copy' }));
    expect(valueAt(after[0], 'three', 0)).toBe(3);
  });

  it('applies backpressure: the server waits on the client while the consumer is busy', async () => {
    const marker = `bp_${schema}`;
    const sql = `SELECT g::int8 AS id, md5(g::text) || md5((g + 1)::text) AS label, '${marker}' AS tag FROM generate_series(1, 3000000) g`;
    let waits: { state: string; wait: string | null }[] = [];
    const started = Date.now();
    for await (const b of source.read(sql, { batchSize: 1000, method: 'copy' })) {
      expect(b.numRows).toBe(500); // the first batch is the 500-row probe
      // Not consuming: the socket is paused, the kernel buffers fill, the server blocks in ClientWrite.
      for (let i = 0; i < 40; i++) {
        await new Promise((r) => setTimeout(r, 50));
        waits = await backendStates(marker);
        if (waits.some((w) => w.wait === 'ClientWrite')) break;
      }
      break;
    }
    expect(waits.map((w) => w.wait)).toContain('ClientWrite');
    // Stopping early cancelled the COPY instead of draining 3M rows.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await backendStates(marker)).map((w) => w.state)).not.toContain('idle in transaction');
    const after = await collect(source.read('SELECT 4::int4 AS four', { batchSize: 10, method: 'copy' }));
    expect(valueAt(after[0], 'four', 0)).toBe(4);
  });

  it('stops on abort mid-stream, rolls back, and leaves the source usable', async () => {
    const ac = new AbortController();
    let seen = 0;
    await expect(
      (async () => {
        for await (const b of source.read(`SELECT * FROM ${schema}.big ORDER BY id`, { batchSize: 1000, signal: ac.signal, method: 'copy' })) {
          seen += b.numRows;
          ac.abort(new Error('stop requested'));
        }
      })(),
    ).rejects.toThrow('stop requested');
    expect(seen).toBe(500);
    expect((await backendStates(schema)).map((w) => w.state)).not.toContain('idle in transaction');
    const again = await collect(source.read(`SELECT count(*)::int8 AS n FROM ${schema}.big`, { batchSize: 10, method: 'copy' }));
    expect(int64At(again[0], 'n', 0)).toBe(25_000n);
  });

  it('cancels a long-running COPY when aborted', async () => {
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(new Error('aborted mid-copy')), 300);
    await expect(
      collect(source.read('SELECT 1::int4 AS s FROM (SELECT pg_sleep(20)) AS z', { batchSize: 10, signal: ac.signal, method: 'copy' })),
    ).rejects.toThrow('aborted mid-copy');
    expect(Date.now() - started).toBeLessThan(5_000);
    const after = await collect(source.read('SELECT 1::int4 AS one', { batchSize: 10, method: 'copy' }));
    expect(valueAt(after[0], 'one', 0)).toBe(1);
  });

  it('honours statement_timeout', async () => {
    const err = await collect(
      source.read('SELECT 1::int4 AS s FROM (SELECT pg_sleep(5)) AS z', { batchSize: 10, statementTimeoutS: 0.3, method: 'copy' }),
    ).catch((e) => e);
    expect(isRivetError(err)).toBe(true);
    expect(err.code).toBe('SOURCE_QUERY');
    expect(err.message).toMatch(/statement timeout/);
    expect(err.message).toMatch(/57014/);
    const after = await collect(source.read('SELECT 2::int4 AS two', { batchSize: 10, method: 'copy' }));
    expect(valueAt(after[0], 'two', 0)).toBe(2);
  });

  describe('auto: COPY unless the read is throttled or under a statement timeout', () => {
    /** Reads the first batch and reports whether the server is running this query as a COPY. */
    async function readsWithCopy(options: { throttleMs?: number; statementTimeoutS?: number }): Promise<boolean> {
      const marker = `auto_${Math.random().toString(36).slice(2)}`;
      const sql = `SELECT g::int8 AS id, '${marker}' AS tag FROM generate_series(1, 2000000) g`;
      let copying = false;
      for await (const b of source.read(sql, { batchSize: 1000, method: 'auto', ...options })) {
        expect(b.numRows).toBe(500);
        const rows = await pgExec<{ query: string }>("SELECT query FROM pg_stat_activity WHERE application_name = 'rivet' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()", [marker]);
        copying = rows.some((r) => r.query.startsWith('COPY ('));
        if (!copying) {
          // Then it is a cursor: some rivet backend sits between FETCHes.
          const fetching = await pgExec("SELECT 1 FROM pg_stat_activity WHERE application_name = 'rivet' AND state = 'idle in transaction' AND query LIKE 'FETCH % FROM _rivet'");
          expect(fetching.length).toBeGreaterThan(0);
        }
        break;
      }
      return copying;
    }

    it('reads with COPY when neither applies (the fast profile)', async () => {
      expect(await readsWithCopy({})).toBe(true);
    });

    it('reads with the cursor when throttled', async () => {
      expect(await readsWithCopy({ throttleMs: 1 })).toBe(false);
    });

    it('reads with the cursor under statement_timeout_s, so the timeout bounds each FETCH and not the export', async () => {
      expect(await readsWithCopy({ statementTimeoutS: 60 })).toBe(false);
      // Five FETCHes of 0.4 s each pass a 1 s timeout that one 2 s COPY would not.
      const slow = 'SELECT g::int4 AS g FROM generate_series(1, 5) g, LATERAL (SELECT pg_sleep(0.4 + g * 0)) s';
      const rows = (await collect(source.read(slow, { batchSize: 1, statementTimeoutS: 1, method: 'auto' }))).reduce((n, b) => n + b.numRows, 0);
      expect(rows).toBe(5);
      const err = await collect(source.read(slow, { batchSize: 1, statementTimeoutS: 1, method: 'copy' })).catch((e) => e);
      expect(err.message).toMatch(/statement timeout/);
    });

    it("reads with the cursor when the server's own statement_timeout applies", async () => {
      // A per-connection server default (as ALTER ROLE … SET would give), without touching the shared role.
      const url = new URL(testPgUrl());
      url.searchParams.set('options', '-c statement_timeout=600000');
      const own = await openPostgresSource({ connection: { engine: 'postgres', url: url.toString() }, log: silentLogger });
      try {
        const marker = `role_${Math.random().toString(36).slice(2)}`;
        for await (const b of own.read(`SELECT g::int8 AS id, '${marker}' AS tag FROM generate_series(1, 2000000) g`, { batchSize: 1000, method: 'auto' })) {
          expect(b.numRows).toBe(500);
          const rows = await pgExec<{ query: string }>("SELECT query FROM pg_stat_activity WHERE application_name = 'rivet' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()", [marker]);
          expect(rows.map((r) => r.query.slice(0, 6))).not.toContain('COPY (');
          break;
        }
        // The setting did reach the server, and the read above was a cursor's (its FETCH is what that backend runs now).
        const setting = await collect(own.read("SELECT current_setting('statement_timeout') AS st", { batchSize: 10, method: 'auto' }));
        expect(valueAt(setting[0], 'st', 0)).toBe('10min');
      } finally {
        await own.close();
      }
    });
  });

  it('rejects an unknown method', async () => {
    const err = await collect(source.read('SELECT 1::int4 AS one', { batchSize: 10, method: 'bogus' as 'copy' })).catch((e) => e);
    expect(err.code).toBe('CONFIG_INVALID');
  });
});
