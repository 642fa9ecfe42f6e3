import { createServer, type Server } from 'node:net';
import type { RecordBatch } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRivetError, type RivetError } from '../../../shared/errors/rivet-error.js';
import { silentLogger } from '../../../shared/log/logger.js';
import { classifySourceError, openSource } from '../../../shared/source/registry.js';
import { openMysqlSource } from '../../../shared/source/mysql/mysql-source.js';
import type { Source, TlsOptions } from '../../../shared/source/source.js';
import { FIRST_BATCH_ROWS } from '../../../shared/source/batch-sizing.js';
import { freshDatabase, mysqlExec, testMysqlCaFile, testMysqlUrl } from '../../helpers/mysql.js';
import { collect, decimalAt, int64At, valueAt } from '../postgres/arrow-values.js';

let db: string;
let source: Source;

async function open(url = testMysqlUrl(db), tls?: TlsOptions, columnOverrides?: Record<string, string>): Promise<Source> {
  return openMysqlSource({ connection: { engine: 'mysql', url, ...(tls ? { tls } : {}) }, columnOverrides, log: silentLogger });
}

async function caught(p: Promise<unknown>): Promise<RivetError> {
  try {
    await p;
  } catch (e) {
    if (isRivetError(e)) return e;
    throw e;
  }
  throw new Error('expected a failure');
}

async function all(s: Source, sql: string, batchSize = 1000): Promise<RecordBatch[]> {
  return collect(s.read(sql, { batchSize }));
}

beforeAll(async () => {
  db = await freshDatabase('mysrc');
  await mysqlExec(
    `CREATE TABLE big (id BIGINT PRIMARY KEY, label VARCHAR(40));
     INSERT INTO big SELECT seq, MD5(seq) FROM seq_1_to_25000;`,
    [],
    db,
  );
  source = await open();
});

afterAll(async () => {
  await source?.close();
  await mysqlExec(`DROP DATABASE IF EXISTS \`${db}\``);
});

describe('MySQL source: reading', () => {
  it('streams 25 000 rows as a 500-row probe, then 10k/10k/4.5k batches in order, with backpressure', async () => {
    const batches = await all(source, 'SELECT * FROM big ORDER BY id; -- trailing comment', 10_000);
    expect(batches.map((b) => b.numRows)).toEqual([FIRST_BATCH_ROWS, 10_000, 10_000, 4_500]);
    expect(int64At(batches[0], 'id', 0)).toBe(1n);
    expect(int64At(batches[1], 'id', 0)).toBe(501n);
    expect(int64At(batches[3], 'id', 4_499)).toBe(25_000n);
    expect(valueAt(batches[3], 'label', 4_499)).toHaveLength(32);
  });

  it('bounds batches by bytes as well as rows: ~10 KB rows come ~800 to a batch under the default 8 MiB budget', async () => {
    const batches = await all(source, "SELECT seq, REPEAT('x', 10000) AS pad FROM seq_1_to_3000", 10_000);
    expect(batches.map((b) => b.numRows)).toEqual([FIRST_BATCH_ROWS, 838, 838, 824]);
    const small = await collect(source.read("SELECT seq, REPEAT('x', 10000) AS pad FROM seq_1_to_3000", { batchSize: 10_000, batchMemoryMb: 1 }));
    expect(small[1].numRows).toBe(104);
    expect(small.reduce((n, b) => n + b.numRows, 0)).toBe(3_000);
  });

  it('stopping early drops the half-read result and the next read works on a fresh connection', async () => {
    for await (const b of source.read('SELECT * FROM big ORDER BY id', { batchSize: 100 })) {
      expect(b.numRows).toBe(100);
      break;
    }
    const [b] = await all(source, 'SELECT COUNT(*) AS n FROM big');
    expect(int64At(b, 'n', 0)).toBe(25_000n);
  });

  it('streams instead of buffering: with the consumer paused the server is still sending, and stopping early ends the statement', async () => {
    const s = await open();
    const marker = `rivet_stream_${Date.now()}`;
    const running = async () =>
      (await mysqlExec<{ n: number }>(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE '%${marker}%' AND INFO NOT LIKE '%PROCESSLIST%'`))[0].n;
    try {
      const rssBefore = process.memoryUsage().rss;
      // ~400 MB of rows: far more than any socket buffer.
      const it = s.read(`SELECT seq, REPEAT('x', 200) AS pad, '${marker}' AS m FROM seq_1_to_2000000`, { batchSize: 1000 })[Symbol.asyncIterator]();
      const first = await it.next();
      // The first batch is the 500-row probe of batch-sizing.ts.
      expect(first.value?.numRows).toBe(FIRST_BATCH_ROWS);
      await new Promise((r) => setTimeout(r, 500));
      expect(Number(await running())).toBe(1);
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(150 * 1024 * 1024);
      await it.return?.(undefined);
      let left = 1;
      for (let i = 0; i < 50 && left > 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = Number(await running());
      }
      expect(left).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('reads one consistent snapshot: rows committed mid-read are not seen', async () => {
    const s = await open();
    try {
      let rows = 0;
      let first = true;
      for await (const b of s.read('SELECT id FROM big', { batchSize: 5_000 })) {
        rows += b.numRows;
        if (first) {
          first = false;
          await mysqlExec('INSERT INTO big SELECT 100000 + seq, "late" FROM seq_1_to_50', [], db);
        }
      }
      expect(rows).toBe(25_000);
    } finally {
      await mysqlExec('DELETE FROM big WHERE id > 100000', [], db);
      await s.close();
    }
  });

  it('describes a query without reading rows, and tableExists sees tables and views', async () => {
    const schema = await source.describe('SELECT id, label AS l FROM big WHERE id < 0');
    expect(schema.fields.map((f) => [f.name, String(f.type), f.metadata.get('rivet.native_type')])).toEqual([
      ['id', 'Int64', 'bigint'],
      ['l', 'Utf8', 'varchar'],
    ]);
    await mysqlExec('CREATE OR REPLACE VIEW v_big AS SELECT id FROM big', [], db);
    expect(await source.tableExists('big')).toBe(true);
    expect(await source.tableExists(`${db}.v_big`)).toBe(true);
    expect(await source.tableExists('nope')).toBe(false);
  });

  it('a missing table is SOURCE_TABLE_NOT_FOUND', async () => {
    const err = await caught(all(source, 'SELECT * FROM no_such_table'));
    expect(err.code).toBe('SOURCE_TABLE_NOT_FOUND');
    expect(err.message).toMatch(/no_such_table' doesn't exist \(error 1146/);
  });

  it('statement_timeout_s stops a long statement (MariaDB max_statement_time) with a hint, and it is retryable', async () => {
    const err = await caught(
      collect(source.read('SELECT MAX(SHA2(seq, 256)) AS m FROM seq_1_to_1000000000', { batchSize: 10, statementTimeoutS: 0.5 })),
    );
    expect(err.code).toBe('SOURCE_QUERY');
    expect(err.message).toMatch(/max_statement_time|interrupted/i);
    expect(err.hint).toMatch(/statement_timeout_s/);
    expect(classifySourceError('mysql', err)).toMatchObject({ transient: true });
    // The limit is per read: the next read without one runs normally.
    const [b] = await all(source, 'SELECT SLEEP(0.6) AS s');
    expect(Number(valueAt(b, 's', 0))).toBe(0);
  });

  it('an abort signal stops a running statement on the server', async () => {
    const s = await open();
    try {
      const ac = new AbortController();
      const t0 = Date.now();
      setTimeout(() => ac.abort(new Error('stop now')), 300);
      await expect(collect(s.read('SELECT MAX(SHA2(seq, 256)) AS m FROM seq_1_to_1000000000', { batchSize: 10, signal: ac.signal }))).rejects.toThrow('stop now');
      expect(Date.now() - t0).toBeLessThan(5_000);
      const [b] = await all(s, 'SELECT 1 AS one');
      expect(valueAt(b, 'one', 0)).toBe(1);
    } finally {
      await s.close();
    }
  });

  it('a value over max_value_mb fails with VALUE_TOO_LARGE', async () => {
    const err = await caught(collect(source.read("SELECT REPEAT('x', 2 * 1024 * 1024) AS big_text", { batchSize: 10, maxValueMb: 1 })));
    expect(err.code).toBe('VALUE_TOO_LARGE');
  });
});

describe('MySQL source: overrides and edge values', () => {
  it('columns: uuid on CHAR(36) and BINARY(16), string on an out-of-day TIME, decimal on text (unparsable → NULL)', async () => {
    await mysqlExec(
      `CREATE TABLE ov (u CHAR(36), ub BINARY(16), dur TIME, amount VARCHAR(20));
       INSERT INTO ov VALUES ('0e0c3d4e-8a1b-4c2d-9e3f-001122334455', UNHEX('0E0C3D4E8A1B4C2D9E3F001122334455'), '-838:59:59', '12.345'),
                             ('not-a-uuid', NULL, '25:00:00', 'abc');`,
      [],
      db,
    );
    const s = await open(testMysqlUrl(db), undefined, { u: 'uuid', ub: 'uuid', dur: 'string', amount: 'decimal(10,2)' });
    try {
      const [b] = await all(s, 'SELECT * FROM ov');
      expect(b.schema.fields.map((f) => String(f.type))).toEqual(['FixedSizeBinary[16]', 'FixedSizeBinary[16]', 'Utf8', 'Decimal[10e+2]']);
      expect(Buffer.from(valueAt(b, 'u', 0) as Uint8Array).toString('hex')).toBe('0e0c3d4e8a1b4c2d9e3f001122334455');
      expect(Buffer.from(valueAt(b, 'ub', 0) as Uint8Array).toString('hex')).toBe('0e0c3d4e8a1b4c2d9e3f001122334455');
      expect(valueAt(b, 'u', 1)).toBeNull();
      expect(valueAt(b, 'dur', 0)).toBe('-838:59:59');
      expect(decimalAt(b, 'amount', 0)).toBe(1234n);
      expect(decimalAt(b, 'amount', 1)).toBeNull();
    } finally {
      await s.close();
    }
  });

  it('a TIME outside a day without an override fails and names the way out', async () => {
    const err = await caught(all(source, "SELECT CAST('-01:00:00' AS TIME) AS dur"));
    expect(err.message).toMatch(/"dur".*not a time of day/);
    expect(err.hint).toMatch(/columns: \{ dur: string \}/);
  });

  it('unsupported columns are listed together with a hint', async () => {
    const err = await caught(source.describe('SELECT POINT(1, 2) AS p, LINESTRING(POINT(0, 0), POINT(1, 1)) AS l, 1 AS ok'));
    expect(err.code).toBe('TYPE_UNSUPPORTED');
    expect(err.message).toMatch(/^2 columns cannot be mapped safely: `p` \(MySQL type geometry/);
    expect(err.hint).toMatch(/columns:/);
  });
});

describe('MySQL source: connecting', () => {
  const url = new URL(testMysqlUrl());

  it('connection refused names host and port', async () => {
    const err = await caught(open('mysql://rivet:s3cret-pw@127.0.0.1:1/x'));
    expect(err.code).toBe('SOURCE_CONNECT');
    expect(err.message).toBe('cannot connect to MySQL at 127.0.0.1:1: connection refused');
  });

  it('an unknown host is a DNS failure', async () => {
    const err = await caught(open('mysql://rivet:s3cret-pw@no-such-host.invalid:3306/x'));
    expect(err.message).toMatch(/^cannot connect to MySQL at no-such-host\.invalid:3306: host name could not be resolved/);
    expect(err.message).not.toContain('s3cret-pw');
  });

  it('a wrong password is an authentication failure that never shows the password', async () => {
    const err = await caught(open(`mysql://rivet:Wr0ng-pa55@${url.host}/rivet_test`));
    expect(err.code).toBe('SOURCE_CONNECT');
    // (the user name is masked too here: the test password equals it)
    expect(err.message).toMatch(/Access denied for user '.*'@'127\.0\.0\.1' \(using password: YES\) \(error 1045/);
    expect(err.message).not.toContain('Wr0ng-pa55');
    expect(err.hint).toMatch(/user name and password/);
    expect(classifySourceError('mysql', err).transient).toBe(false);
  });

  it('the registry opens mysql sources', async () => {
    const s = await openSource({ connection: { engine: 'mysql', url: testMysqlUrl() }, log: silentLogger });
    expect(s.engine).toBe('mysql');
    expect(s.dialect.engine).toBe('mysql');
    await s.close();
  });

  async function cipher(s: Source): Promise<string | null> {
    const [b] = await all(s, "SELECT VARIABLE_VALUE AS c FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher'");
    return (valueAt(b, 'c', 0) as string) || null;
  }

  it('tls disable is plaintext; require encrypts without checking the certificate', async () => {
    const plain = await open(testMysqlUrl(), { mode: 'disable' });
    expect(await cipher(plain)).toBeNull();
    await plain.close();
    const enc = await open(testMysqlUrl(), { mode: 'require' });
    expect(await cipher(enc)).toMatch(/TLS|AES|CHACHA/);
    await enc.close();
  });

  it('verify-ca and verify-full accept the server with the private CA and refuse it without', async () => {
    for (const mode of ['verify-ca', 'verify-full'] as const) {
      const s = await open(testMysqlUrl(), { mode, ca_file: testMysqlCaFile() });
      expect(await cipher(s)).toMatch(/TLS|AES|CHACHA/);
      await s.close();
      const err = await caught(open(testMysqlUrl(), { mode }));
      expect(err.code).toBe('SOURCE_CONNECT');
      expect(err.message).toMatch(/^cannot connect to MySQL at 127\.0\.0\.1:\d+: .*(self.signed|certificate)/i);
      expect(err.hint).toMatch(/tls settings/);
    }
    // accept_invalid_certs turns verification off explicitly.
    const lax = await open(testMysqlUrl(), { mode: 'verify-full', accept_invalid_certs: true });
    expect(await cipher(lax)).toMatch(/TLS|AES|CHACHA/);
    await lax.close();
  });

  it('verify-full checks the host name: the certificate is for localhost/127.0.0.1, so "localhost" passes too', async () => {
    const s = await open(testMysqlUrl().replace('127.0.0.1', 'localhost'), { mode: 'verify-full', ca_file: testMysqlCaFile() });
    expect(await cipher(s)).toMatch(/TLS|AES|CHACHA/);
    await s.close();
  });

  describe('against a server that offers no TLS', () => {
    // The test MariaDB has TLS on, so this one case uses a stand-in that sends only a
    // MySQL protocol-10 greeting without the CLIENT_SSL capability, then waits.
    let server: Server;
    let port = 0;
    beforeAll(async () => {
      server = createServer((sock) => {
        const authData = Buffer.from('abcdefghijklmnopqrst');
        const caps = 0x0001 | 0x0008 | 0x0200 | 0x8000 | 0x80000; // no CLIENT_SSL (0x0800)
        const payload = Buffer.concat([
          Buffer.from([10]),
          Buffer.from('5.5.5-10.11.0-NoTLS\0'),
          Buffer.from([1, 0, 0, 0]),
          authData.subarray(0, 8),
          Buffer.from([0]),
          Buffer.from([caps & 0xff, (caps >> 8) & 0xff]),
          Buffer.from([45, 2, 0]),
          Buffer.from([(caps >> 16) & 0xff, (caps >> 24) & 0xff]),
          Buffer.from([21]),
          Buffer.alloc(10),
          authData.subarray(8),
          Buffer.from([0]),
          Buffer.from('mysql_native_password\0'),
        ]);
        const header = Buffer.from([payload.length & 0xff, (payload.length >> 8) & 0xff, 0, 0]);
        sock.write(Buffer.concat([header, payload]));
        sock.on('error', () => undefined);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('tls require fails clearly instead of falling back to plaintext', async () => {
      const err = await caught(open(`mysql://rivet:pw-not-shown@127.0.0.1:${port}/x`, { mode: 'require' }));
      expect(err.code).toBe('SOURCE_CONNECT');
      expect(err.message).toBe(`cannot connect to MySQL at 127.0.0.1:${port}: TLS was required but the server does not offer TLS`);
      expect(err.hint).toMatch(/tls settings/);
    });
  });
});
