import type { RecordBatch } from 'apache-arrow';
import { Request } from 'tedious';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RivetError } from '../../../shared/errors/rivet-error.js';
import { silentLogger } from '../../../shared/log/logger.js';
import type { Source } from '../../../shared/source/source.js';
import { classifySourceError, openSource } from '../../../shared/source/registry.js';
import { col, startFakeTds, type FakeAnswer, type FakeTdsServer } from './fake-tds-server.js';

/**
 * rivet's SQL Server read loop against a FAKE TDS server (fake-tds-server.ts) driven by the
 * real tedious driver over real sockets: login over TLS, batching, pause/resume, cancel,
 * statement timeouts, server error tokens. What a real server would add (SQL semantics,
 * real types in metadata, isolation) is covered by `npm run test:mssql` only.
 */

const BIG = [col.bigint('id'), col.nvarchar('name'), col.decimal('amount', 38, 10)];
const bigRows = (n: number) => Array.from({ length: n }, (_, i) => [BigInt(i + 1), i % 10 === 0 ? null : `row ${i + 1}`, 10n ** 37n + BigInt(i)]);
const ROWS_10K5 = bigRows(10_500);
const ROWS_200K = bigRows(200_000);

function answer(sql: string): FakeAnswer {
  if (/sys\.databases/.test(sql)) return { columns: [col.int('s'), col.int('r')], rows: [[1, 1]] };
  if (/^\s*SET /i.test(sql)) return 'done';
  if (/OBJECT_ID\(N'\[dbo\]\.\[big\]'/.test(sql)) return { columns: [col.int('e')], rows: [[1]] };
  if (/OBJECT_ID/.test(sql)) return { columns: [col.int('e')], rows: [[0]] };
  if (/^SELECT TOP 0 .*ORDER BY/s.test(sql)) return { error: { number: 1033, message: 'The ORDER BY clause is invalid in views, inline functions, derived tables, subqueries, and common table expressions, unless TOP, OFFSET or FOR XML is also specified.' } };
  if (/sp_describe_first_result_set/.test(sql)) {
    return {
      columns: [col.int('is_hidden'), col.int('column_ordinal'), col.nvarchar('name'), col.nvarchar('system_type_name'), col.int('precision'), col.int('scale')],
      rows: [
        [0, 2, 'amount', 'decimal(38,10)', 38, 10],
        [0, 1, 'id', 'bigint', 19, 0],
        [1, 3, 'hidden_key', 'int', 10, 0],
      ],
    };
  }
  if (/\bhuge\b/.test(sql)) return { columns: BIG, rows: ROWS_200K };
  if (/\bbig\b/.test(sql)) return { columns: BIG, rows: ROWS_10K5 };
  if (/\bslow\b/.test(sql)) return { columns: BIG, rows: bigRows(3), delayMs: 5_000 };
  return { error: { number: 208, message: "Invalid object name 'nope'." } };
}

let server: FakeTdsServer;
let source: Source;
const PASSWORD = 'Fake-Passw0rd!';

beforeAll(async () => {
  server = await startFakeTds(answer);
  // encrypt=strict (TDS 8.0) always verifies the certificate: trust the fake server's own, by host name.
  source = await openSource({
    connection: { engine: 'mssql', url: `sqlserver://sa:${PASSWORD}@localhost:${server.port}/shop?encrypt=strict`, tls: { mode: 'verify-full', ca_file: server.caFile } },
    log: silentLogger,
  });
});

afterAll(async () => {
  await source?.close();
  await server?.close();
});

async function collect(it: AsyncIterable<RecordBatch>): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

describe('SQL Server source against a fake TDS server', () => {
  it('sets the session up: isolation from sys.databases, SNAPSHOT when allowed', () => {
    expect(server.batches.some((b) => /sys\.databases/.test(b))).toBe(true);
    expect(server.batches).toContain('SET TRANSACTION ISOLATION LEVEL SNAPSHOT');
  });

  it('describes with a TOP 0 probe', async () => {
    const schema = await source.describe('SELECT * FROM dbo.big;');
    expect(server.batches.at(-1)).toBe('SELECT TOP 0 * FROM (\nSELECT * FROM dbo.big\n) AS _rivet_probe');
    expect(schema.fields.map((f) => [f.name, f.metadata.get('rivet.native_type')])).toEqual([
      ['id', 'bigint'],
      ['name', 'nvarchar(100)'],
      ['amount', 'decimal(38,10)'],
    ]);
  });

  it('describes a query SQL Server cannot wrap (ORDER BY, CTE) through sp_describe_first_result_set', async () => {
    const schema = await source.describe("SELECT id, amount FROM dbo.big WHERE name <> 'it''s' ORDER BY id; -- sorted");
    expect(server.batches.slice(-2)).toEqual([
      "SELECT TOP 0 * FROM (\nSELECT id, amount FROM dbo.big WHERE name <> 'it''s' ORDER BY id\n) AS _rivet_probe",
      "EXEC sp_describe_first_result_set @tsql = N'SELECT id, amount FROM dbo.big WHERE name <> ''it''''s'' ORDER BY id'",
    ]);
    expect(schema.fields.map((f) => [f.name, f.metadata.get('rivet.native_type'), String(f.type)])).toEqual([
      ['id', 'bigint', 'Int64'],
      ['amount', 'decimal(38,10)', 'Decimal[38e+10]'],
    ]);
  });

  it('tableExists', async () => {
    expect(await source.tableExists('dbo.big')).toBe(true);
    expect(await source.tableExists('dbo.other')).toBe(false);
  });

  it('streams batches of at most batchSize rows, exact values, lock timeout set first', async () => {
    const batches = await collect(source.read('SELECT * FROM dbo.big', { batchSize: 1000, lockTimeoutS: 3 }));
    expect(server.batches.slice(-2)).toEqual(['SET LOCK_TIMEOUT 3000', 'SELECT * FROM dbo.big']);
    expect(batches.map((b) => b.numRows)).toEqual([...Array(10).fill(1000), 500]);
    const ids = batches.flatMap((b) => Array.from(b.getChild('id')!.toArray() as BigInt64Array, Number));
    expect(ids).toEqual(Array.from({ length: 10_500 }, (_, i) => i + 1));
    expect(batches[0].getChild('name')!.get(0)).toBeNull();
    expect(batches[0].getChild('name')!.get(1)).toBe('row 2');
    // 10^37 + 5 at scale 10 is exact: read the 128-bit words back
    const words = batches[0].getChild('amount')!.data[0].values as Uint32Array;
    const v = words.slice(20, 24).reduceRight((acc, w) => (acc << 32n) | BigInt(w), 0n);
    expect(v).toBe(10n ** 37n + 5n);
  });

  it('pauses the request between batches: no rows are parsed while the consumer holds a batch', async () => {
    // Watch tedious itself: count `row` events delivered while the request is paused.
    const proto = Request.prototype as unknown as { emit: (this: { paused?: boolean }, ev: string, ...a: unknown[]) => boolean };
    const emit = proto.emit;
    let whilePaused = 0;
    let pauses = 0;
    proto.emit = function (ev, ...a) {
      if (ev === 'row' && this.paused) whilePaused++;
      if (ev === 'pause') pauses++;
      return emit.call(this, ev, ...a);
    };
    let consumed = 0;
    try {
      for await (const b of source.read('SELECT * FROM dbo.huge', { batchSize: 1000 })) {
        consumed += b.numRows;
        if (consumed % 50_000 === 0) await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      proto.emit = emit;
    }
    expect(consumed).toBe(200_000);
    expect(pauses).toBeGreaterThanOrEqual(199);
    expect(whilePaused).toBe(0);
  });

  it('a consumer that stops early cancels the request and the connection stays usable', async () => {
    const attentions = server.attentions;
    let seen = 0;
    for await (const b of source.read('SELECT * FROM dbo.huge', { batchSize: 500 })) {
      seen += b.numRows;
      if (seen >= 1000) break;
    }
    expect(server.attentions).toBe(attentions + 1);
    const again = await collect(source.read('SELECT * FROM dbo.big', { batchSize: 5000 }));
    expect(again.reduce((n, b) => n + b.numRows, 0)).toBe(10_500);
  });

  it('abort via signal cancels the running request', async () => {
    const controller = new AbortController();
    const reason = new Error('stop now');
    const read = (async () => {
      let n = 0;
      for await (const b of source.read('SELECT * FROM dbo.huge', { batchSize: 1000, signal: controller.signal })) {
        n += b.numRows;
        if (n === 2000) controller.abort(reason);
      }
    })();
    await expect(read).rejects.toBe(reason);
    expect((await collect(source.read('SELECT * FROM dbo.big', { batchSize: 20_000 })))[0].numRows).toBe(10_500);
  });

  it('statement timeout: the request is cancelled and reported with a hint; transient on the same connection', async () => {
    let err: RivetError | undefined;
    try {
      await collect(source.read('SELECT * FROM dbo.slow', { batchSize: 10, statementTimeoutS: 0.5 }));
    } catch (e) {
      err = e as RivetError;
    }
    expect(err?.code).toBe('SOURCE_QUERY');
    expect(err?.message).toMatch(/Timeout: Request failed to complete in 500ms/);
    expect(err?.hint).toMatch(/statement_timeout_s/);
    expect(classifySourceError('mssql', err)).toEqual({ transient: true, reconnect: false, extraDelayMs: 0 });
    expect((await collect(source.read('SELECT * FROM dbo.big', { batchSize: 20_000 })))[0].numRows).toBe(10_500);
  });

  it('server error tokens become clean errors (208 → SOURCE_TABLE_NOT_FOUND)', async () => {
    let err: RivetError | undefined;
    try {
      await collect(source.read('SELECT * FROM nope', { batchSize: 10 }));
    } catch (e) {
      err = e as RivetError;
    }
    expect(err).toBeInstanceOf(RivetError);
    expect(err?.code).toBe('SOURCE_TABLE_NOT_FOUND');
    expect(err?.message).toBe("SQL Server reading the query: Invalid object name 'nope'. (error 208, state 1)");
    expect(classifySourceError('mssql', err)).toMatchObject({ transient: false });
  });
});

describe('encryption is not optional', () => {
  it('encrypt=strict verifies the certificate even without a tls block', async () => {
    let err: RivetError | undefined;
    try {
      const s = await openSource({ connection: { engine: 'mssql', url: `sqlserver://sa:${PASSWORD}@localhost:${server.port}/shop?encrypt=strict` }, log: silentLogger });
      await s.close();
    } catch (e) {
      err = e as RivetError;
    }
    expect(err?.code).toBe('SOURCE_CONNECT');
    expect(err?.message).toMatch(/self-signed certificate/);
    expect(err?.hint).toMatch(/ca_file/);
  });

  it('refuses a server that answers the prelogin without TLS', async () => {
    const plain = await startFakeTds(answer, { tls: 'none' });
    try {
      let err: RivetError | undefined;
      try {
        const s = await openSource({ connection: { engine: 'mssql', url: `sqlserver://sa:${PASSWORD}@127.0.0.1:${plain.port}/shop` }, log: silentLogger });
        await s.close();
      } catch (e) {
        err = e as RivetError;
      }
      expect(err?.code).toBe('SOURCE_CONNECT');
      expect(err?.message).toBe(`cannot connect to SQL Server at 127.0.0.1:${plain.port}: the server did not negotiate TLS`);
      expect(err?.message).not.toContain(PASSWORD);
      // The login (and its password) was never sent in clear text... tedious sends LOGIN7 before
      // rivet can check, so the server saw it: the guarantee is that no query and no row flows.
      expect(plain.batches.filter((b) => !/^set /i.test(b.trim()))).toEqual([]);
    } finally {
      await plain.close();
    }
  });
});
