import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { RivetError } from '../../../shared/errors/rivet-error.js';
import { silentLogger } from '../../../shared/log/logger.js';
import { arrowTypeName } from '../../../shared/types/arrow-type-name.js';
import { classifyPgError } from '../../../shared/source/postgres/pg-errors.js';
import { openPostgresSource } from '../../../shared/source/postgres/pg-source.js';
import { openSource } from '../../../shared/source/registry.js';
import type { Source } from '../../../shared/source/source.js';
import { freshSchema, pgExec, testPgUrl } from '../../helpers/pg.js';
import { collect } from './arrow-values.js';

let schema: string;
let source: Source;

/** A local port with nothing listening on it. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function withCredentials(user: string, password: string, port?: number): string {
  const u = new URL(testPgUrl());
  u.username = user;
  u.password = password;
  if (port !== undefined) u.port = String(port);
  return u.toString();
}

async function caught(p: Promise<unknown>): Promise<RivetError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(RivetError);
    return e as RivetError;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  schema = await freshSchema('pgerr');
  await pgExec(`CREATE TABLE ${schema}.t (id int4, free numeric, amount numeric(12,2), shape point, tags int4[][], label text)`);
  await pgExec(`INSERT INTO ${schema}.t VALUES (1, 1.23456, 10.50, '(1,2)', '{{1,2},{3,4}}', 'a'), (2, -1.23456, NULL, NULL, NULL, 'b')`);
  source = await openPostgresSource({ connection: { engine: 'postgres', url: testPgUrl() }, log: silentLogger });
});

afterAll(async () => {
  await source?.close();
  await pgExec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
});

describe('PostgreSQL connection errors', () => {
  it('reports connection refused as SOURCE_CONNECT without the password', async () => {
    const port = await freePort();
    const url = withCredentials('rivet', 's3cr3t-Pa55', port);
    const err = await caught(openPostgresSource({ connection: { engine: 'postgres', url }, log: silentLogger }));
    expect(err.code).toBe('SOURCE_CONNECT');
    expect(err.message).toBe(`cannot connect to PostgreSQL at 127.0.0.1:${port}: connection refused`);
    expect(err.hint).toMatch(/host and port/);
    expect(JSON.stringify(err.toJSON())).not.toContain('s3cr3t');
    expect(classifyPgError(err)).toEqual({ transient: true, reconnect: true, extraDelayMs: 0 });
  });

  it('reports a wrong password as SOURCE_CONNECT with a credentials hint', async () => {
    const url = withCredentials('rivet', 'definitely-wrong');
    const err = await caught(openPostgresSource({ connection: { engine: 'postgres', url }, log: silentLogger }));
    expect(err.code).toBe('SOURCE_CONNECT');
    // The user name is masked too here: the test password equals it and passwords are registered secrets.
    expect(err.message).toMatch(/password authentication failed for user/);
    expect(err.message).toMatch(/28P01/);
    expect(err.message).not.toContain('definitely-wrong');
    expect(err.hint).toMatch(/user name and password/);
    expect(classifyPgError(err).transient).toBe(false);
  });

  it('reports an unknown host as SOURCE_CONNECT', async () => {
    const url = 'postgresql://rivet:pw-secret@no-such-host.invalid:5432/db';
    const err = await caught(openPostgresSource({ connection: { engine: 'postgres', url }, log: silentLogger }));
    expect(err.code).toBe('SOURCE_CONNECT');
    expect(err.message).toMatch(/^cannot connect to PostgreSQL at no-such-host\.invalid:5432: host name could not be resolved/);
    expect(err.message).not.toContain('pw-secret');
  });

  it('maps engines in the registry', async () => {
    const pgSource = await openSource({ connection: { engine: 'postgres', url: testPgUrl() }, log: silentLogger });
    expect(pgSource.engine).toBe('postgres');
    await pgSource.close();
  });

  it('a TLS verification failure names host:port and the TLS cause, not the password', async () => {
    // The test server's certificate is signed by up.sh's private CA, unknown to the system store.
    const err = await caught(
      openPostgresSource({ connection: { engine: 'postgres', url: testPgUrl(), tls: { mode: 'verify-ca' } }, log: silentLogger }),
    );
    expect(err.code).toBe('SOURCE_CONNECT');
    expect(err.message).toMatch(/^cannot connect to PostgreSQL at 127\.0\.0\.1:\d+: .*certificate/);
    expect(err.message).not.toContain(new URL(testPgUrl()).password);
    expect(err.hint).toMatch(/tls/);
  });
});

describe('PostgreSQL query errors', () => {
  it('reports a missing table as SOURCE_TABLE_NOT_FOUND naming it', async () => {
    const err = await caught(source.describe(`SELECT * FROM ${schema}.missing`));
    expect(err.code).toBe('SOURCE_TABLE_NOT_FOUND');
    expect(err.message).toContain(`"${schema}.missing"`);
    expect(err.hint).toMatch(/table:/);
    const viaRead = await caught(collect(source.read(`SELECT * FROM ${schema}.missing`, { batchSize: 10 })));
    expect(viaRead.code).toBe('SOURCE_TABLE_NOT_FOUND');
  });

  it('reports other SQL errors as SOURCE_QUERY with SQLSTATE and position in the user query', async () => {
    const err = await caught(source.describe(`SELECT nope FROM ${schema}.t`));
    expect(err.code).toBe('SOURCE_QUERY');
    expect(err.message).toMatch(/column "nope" does not exist at character 8 of the query \(SQLSTATE 42703\)/);
  });

  it('lists every unsupported column with its PG type and a hint', async () => {
    const err = await caught(source.describe(`SELECT * FROM ${schema}.t`));
    expect(err.code).toBe('TYPE_UNSUPPORTED');
    expect(err.message).toMatch(/^2 columns cannot be mapped safely: /);
    expect(err.message).toContain('"free" (PG type numeric: unbounded NUMERIC');
    expect(err.message).toContain('"shape" (PG type point: the PostgreSQL type has no Rivet mapping)');
    expect(err.message).not.toContain('"amount"');
    expect(err.hint).toContain('columns: { free: "decimal(38,9)" }');
    expect(err.hint).toContain('shape::text');
    expect(err.message.split('\n')).toHaveLength(1);
  });

  it('rejects a multi-dimensional array value at read time', async () => {
    const err = await caught(collect(source.read(`SELECT tags FROM ${schema}.t`, { batchSize: 10 })));
    expect(err.code).toBe('TYPE_UNSUPPORTED');
    expect(err.message).toMatch(/"tags".*2-dimensional/);
  });

  it('rejects NUMERIC NaN naming the column', async () => {
    const err = await caught(collect(source.read(`SELECT 'NaN'::numeric(10,2) AS amt`, { batchSize: 10 })));
    expect(err.code).toBe('TYPE_UNSUPPORTED');
    expect(err.message).toMatch(/column "amt".*NaN/);
  });

  it('rejects infinite timestamps rather than inventing a value', async () => {
    const err = await caught(collect(source.read(`SELECT 'infinity'::timestamptz AS ts`, { batchSize: 10 })));
    expect(err.code).toBe('TYPE_UNSUPPORTED');
    expect(err.message).toMatch(/column "ts".*infinity/);
    expect(err.hint).toMatch(/NULLIF/);
  });
});

describe('column overrides', () => {
  let withOverrides: Source;
  beforeAll(async () => {
    withOverrides = await openPostgresSource({
      connection: { engine: 'postgres', url: testPgUrl() },
      columnOverrides: { free: 'decimal(20,4)', amount: 'text', id: 'int8', label: 'json', ghost: 'int4' },
      log: silentLogger,
    });
  });
  afterAll(async () => withOverrides?.close());

  it('maps an unbounded numeric through a decimal override, truncating extra digits', async () => {
    const [b] = await collect(withOverrides.read(`SELECT id, free, amount FROM ${schema}.t ORDER BY id`, { batchSize: 10 }));
    expect(arrowTypeName(b.schema.fields[1].type)).toBe('Decimal128(20, 4)');
    const words = b.getChild('free')!.data[0].values as Uint32Array;
    const dec = (row: number) => {
      let x = 0n;
      for (let k = 3; k >= 0; k--) x = (x << 32n) | BigInt(words[row * 4 + k]);
      return BigInt.asIntN(128, x);
    };
    expect(dec(0)).toBe(12345n);
    expect(dec(1)).toBe(-12345n);
    expect(b.getChild('amount')!.get(0)).toBe('10.50');
    expect(b.getChild('amount')!.get(1)).toBeNull();
    expect(b.getChild('id')!.get(0)).toBe(1n);
    expect(Object.fromEntries(b.schema.fields[1].metadata)['rivet.native_type']).toBe('numeric');
  });

  it('applies timestamp_ns and narrowing integer overrides with range checks', async () => {
    const src = await openPostgresSource({
      connection: { engine: 'postgres', url: testPgUrl() },
      columnOverrides: { ts: 'timestamp_ns', small: 'int2' },
      log: silentLogger,
    });
    try {
      const [b] = await collect(src.read(`SELECT '1970-01-01 00:00:01.000002'::timestamp AS ts, 7::int8 AS small`, { batchSize: 10 }));
      expect(arrowTypeName(b.schema.fields[0].type)).toBe('Timestamp(Nanosecond, None)');
      expect((b.getChild('ts')!.data[0].values as BigInt64Array)[0]).toBe(1_000_002_000n);
      expect(b.getChild('small')!.get(0)).toBe(7);
      const err = await caught(collect(src.read(`SELECT 70000::int8 AS small`, { batchSize: 10 })));
      expect(err.code).toBe('TYPE_UNSUPPORTED');
      expect(err.message).toMatch(/"small".*70000 does not fit int16/);
      const late = await caught(collect(src.read(`SELECT '2300-01-01'::timestamp AS ts`, { batchSize: 10 })));
      expect(late.message).toMatch(/"ts".*nanosecond/);
    } finally {
      await src.close();
    }
  });

  it('rejects an override that does not fit the source type', async () => {
    const bad = await openPostgresSource({
      connection: { engine: 'postgres', url: testPgUrl() },
      columnOverrides: { shape: 'int4' },
      log: silentLogger,
    });
    try {
      const err = await caught(bad.describe(`SELECT shape FROM ${schema}.t`));
      expect(err.code).toBe('TYPE_UNSUPPORTED');
      expect(err.message).toMatch(/"shape" \(PG type point: override not applicable: int32 cannot be read from PostgreSQL type point\)/);
    } finally {
      await bad.close();
    }
  });

  it('rejects an invalid override before connecting', async () => {
    const err = await caught(
      openPostgresSource({
        connection: { engine: 'postgres', url: 'postgresql://x:y@127.0.0.1:1/db' },
        columnOverrides: { amount: 'decimal(10)' },
        log: silentLogger,
      }),
    );
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain("'decimal(10)'");
    expect(err.message).toContain('"amount"');
  });
});

describe('classifyPgError', () => {
  const server = (code: string, message = 'x') => Object.assign(new pg.DatabaseError(message, 0, 'error'), { code, severity: 'ERROR' });
  it.each([
    ['08006', { transient: true, reconnect: true, extraDelayMs: 0 }],
    ['57P01', { transient: true, reconnect: true, extraDelayMs: 15_000 }],
    ['57P03', { transient: true, reconnect: true, extraDelayMs: 15_000 }],
    ['53300', { transient: true, reconnect: true, extraDelayMs: 15_000 }],
    ['40001', { transient: true, reconnect: false, extraDelayMs: 1_000 }],
    ['40P01', { transient: true, reconnect: false, extraDelayMs: 1_000 }],
    ['57014', { transient: true, reconnect: false, extraDelayMs: 0 }],
    ['53200', { transient: true, reconnect: false, extraDelayMs: 5_000 }],
    ['28P01', { transient: false, reconnect: false, extraDelayMs: 0 }],
    ['42P01', { transient: false, reconnect: false, extraDelayMs: 0 }],
    ['22012', { transient: false, reconnect: false, extraDelayMs: 0 }],
  ])('classifies SQLSTATE %s', (code, expected) => {
    expect(classifyPgError(server(code))).toEqual(expected);
    // Also when wrapped by rivet.
    expect(classifyPgError(new RivetError('SOURCE_QUERY', 'wrapped', { cause: server(code) }))).toEqual(expected);
  });

  it.each([
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), { transient: true, reconnect: true, extraDelayMs: 0 }],
    [Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }), { transient: true, reconnect: true, extraDelayMs: 0 }],
    [new Error('Connection terminated unexpectedly'), { transient: true, reconnect: true, extraDelayMs: 0 }],
    [new Error('getaddrinfo ENOTFOUND db.example'), { transient: true, reconnect: true, extraDelayMs: 0 }],
    [new Error('Query read timeout'), { transient: true, reconnect: false, extraDelayMs: 0 }],
    [new Error('sorry, too many connections already'), { transient: true, reconnect: true, extraDelayMs: 15_000 }],
    [new Error('the database system is starting up'), { transient: true, reconnect: true, extraDelayMs: 15_000 }],
    [new Error('deadlock found'), { transient: true, reconnect: false, extraDelayMs: 1_000 }],
    [new Error('authentication failed'), { transient: false, reconnect: false, extraDelayMs: 0 }],
    [new Error('something odd'), { transient: false, reconnect: false, extraDelayMs: 0 }],
    [new RivetError('TYPE_UNSUPPORTED', 'connection reset in a column name'), { transient: false, reconnect: false, extraDelayMs: 0 }],
  ])('classifies %s by message', (err, expected) => {
    expect(classifyPgError(err)).toEqual(expected);
  });
});
