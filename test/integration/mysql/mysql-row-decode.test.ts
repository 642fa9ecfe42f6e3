import mysql from 'mysql2';
import { type RecordBatch } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../shared/log/logger.js';
import { openMysqlSource } from '../../../shared/source/mysql/mysql-source.js';
import { mysqlConnectionOptions } from '../../../shared/source/mysql/mysql-connect.js';
import { routeRawRows } from '../../../shared/source/mysql/mysql-raw-rows.js';
import type { Source } from '../../../shared/source/source.js';
import { freshDatabase, mysqlExec, testMysqlUrl } from '../../helpers/mysql.js';
import { col, collect, decimalAt, int64At, isNull, valueAt } from '../postgres/arrow-values.js';

/**
 * Rows are decoded straight from the text-protocol row packets (issue 18). These tests pin
 * that path down: the hook into mysql2 hands over whole packets, and every value decodes to
 * exactly what mysql2's per-value Buffers decode to (RIVET_MYSQL_ROW_DECODE=driver), on the
 * edges of each type and on values whose length prefix takes 1, 3 and 4 bytes.
 */

let db: string;
let source: Source;

const LONG_64K = 70_000; // a 0xFD (3-byte) length prefix
const LONG_300 = 300; // a 0xFC (2-byte) length prefix

beforeAll(async () => {
  db = await freshDatabase('myrows');
  await mysqlExec(
    `SET SESSION sql_mode = '';
     CREATE TABLE edge (
       id BIGINT PRIMARY KEY,
       bi BIGINT, biu BIGINT UNSIGNED, i INT, flag TINYINT(1),
       amount DECIMAL(15,4), wide_dec DECIMAL(38,10), huge_dec DECIMAL(65,30),
       d DOUBLE, f FLOAT,
       dt DATETIME(6), ts TIMESTAMP(6) NULL DEFAULT NULL, day DATE,
       label VARCHAR(100), body MEDIUMTEXT, raw VARBINARY(20)
     ) CHARACTER SET utf8mb4;
     INSERT INTO edge VALUES
       (1, 9223372036854775807, 18446744073709551615, 2147483647, 1,
        -0.0001, -1234567890123456789012345678.0123456789, -12345678901234567890123456789012345.123456789012345678901234567890,
        0.1, 1.5, '2021-01-01 00:00:00.000001', '2038-01-19 03:14:07.999999', '2024-02-29',
        'utf8mb4: 日本語 😀 é', REPEAT('x', ${LONG_300}), X'00FF10'),
       (2, -9223372036854775808, 0, -2147483648, 0,
        -99999999999.9999, 0.0000000001, 0.000000000000000000000000000001,
        -0.0, -3.40282e38, '9999-12-31 23:59:59.999999', '1970-01-01 00:00:01', '1000-01-01',
        '', REPEAT('é', ${LONG_64K / 2}), X''),
       (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
       (4, 0, 9223372036854775808, 0, -1,
        99999999999.9999, 0, 0,
        0.30000000000000004, 1.17549e-38, '0000-00-00 00:00:00', NULL, '0000-00-00',
        'a\\tb\\nc', '', X'61'),
       (5, 1234567890123456, 1, 1, 0,
        0, 12.5, 1.5,
        1.7976931348623157e308, 0, '1000-01-01 00:00:00', '2021-06-30 12:34:56.5', '1969-12-31',
        'x', REPEAT('ab', ${LONG_64K}), NULL),
       (6, -1, 2, -1, 1,
        1234.5, -0.5, -0.000000000000000000000000000001,
        5e-324, -1.5, '1969-12-31 23:59:59.999999', '2000-02-29 00:00:00', '2000-02-29',
        'y', 'z', X'FF'),
       (7, 1, 3, 2, 0,
        -5.55, 99999999999999999999999999.9999999999, 1,
        123456789012345680000, 3.25, '2262-04-11 23:47:16.854775', NULL, '2262-04-11',
        'w', 'v', X'00');`,
    [],
    db,
  );
  source = await openMysqlSource({ connection: { engine: 'mysql', url: testMysqlUrl(db) }, log: silentLogger });
});

afterAll(async () => {
  await source?.close();
  await mysqlExec(`DROP DATABASE IF EXISTS \`${db}\``);
});

async function readWith(mode: 'packet' | 'driver', sql: string, batchSize = 1000): Promise<RecordBatch[]> {
  const before = process.env.RIVET_MYSQL_ROW_DECODE;
  process.env.RIVET_MYSQL_ROW_DECODE = mode;
  try {
    return await collect(source.read(sql, { batchSize }));
  } finally {
    if (before === undefined) delete process.env.RIVET_MYSQL_ROW_DECODE;
    else process.env.RIVET_MYSQL_ROW_DECODE = before;
  }
}

/** Every cell of every column as exact text: validity, then the raw bytes of fixed-width values or the value itself. */
function cells(batches: RecordBatch[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const b of batches) {
    for (const field of b.schema.fields) {
      const v = col(b, field.name);
      const data = v.data[0];
      const values = data.values as ArrayBufferView | undefined;
      const perRow = values && data.length > 0 && !('valueOffsets' in data && data.valueOffsets) ? values.byteLength / data.length : 0;
      const list = (out[field.name] ??= []);
      for (let r = 0; r < b.numRows; r++) {
        if (!v.isValid(r)) list.push('NULL');
        else if (perRow >= 1 && Number.isInteger(perRow)) list.push(Buffer.from(values!.buffer, values!.byteOffset + r * perRow, perRow).toString('hex'));
        else {
          const x = v.get(r) as unknown;
          list.push(x instanceof Uint8Array ? `0x${Buffer.from(x).toString('hex')}` : String(x));
        }
      }
    }
  }
  return out;
}

describe('MySQL rows decoded from the row packets', () => {
  it('routeRawRows hands over each row packet payload and nothing goes through mysql2’s row parser', async () => {
    const conn = mysql.createConnection(mysqlConnectionOptions({ engine: 'mysql', url: testMysqlUrl(db) }));
    try {
      const payloads: string[] = [];
      let driverRows = 0;
      const q = conn.query({ sql: "SELECT 1 AS a, NULL AS b, 'xy' AS c UNION ALL SELECT 22, 'z', ''", rowsAsArray: true, typeCast: false });
      q.on('result', () => driverRows++);
      expect(routeRawRows(q, (buf, start, end) => payloads.push(buf.toString('hex', start, end)))).toBe(true);
      await new Promise<void>((resolve, reject) => {
        q.on('end', () => resolve());
        q.on('error', reject);
      });
      // Length-encoded strings: 01 '1' | FB (NULL) | 02 'xy'; then 02 '22' | 01 'z' | 00 ''.
      expect(payloads).toEqual(['0131fb027879', '023232017a00']);
      expect(driverRows).toBe(0);
    } finally {
      conn.destroy();
    }
  });

  it('decodes every edge value exactly as the per-value Buffers do (NULLs, extreme integers, decimals, doubles, datetimes, utf8mb4, long texts)', async () => {
    const sql = 'SELECT * FROM edge ORDER BY id';
    const packet = await readWith('packet', sql);
    const driver = await readWith('driver', sql);
    expect(packet.reduce((n, b) => n + b.numRows, 0)).toBe(7);
    expect(cells(packet)).toEqual(cells(driver));
  });

  it('keeps the values themselves exact on the packet path', async () => {
    const [b] = await readWith('packet', 'SELECT * FROM edge ORDER BY id');
    expect(int64At(b, 'bi', 0)).toBe(9223372036854775807n);
    expect(int64At(b, 'bi', 1)).toBe(-9223372036854775808n);
    expect(BigInt.asUintN(64, int64At(b, 'biu', 0)!)).toBe(18446744073709551615n);
    expect(BigInt.asUintN(64, int64At(b, 'biu', 3)!)).toBe(9223372036854775808n);
    expect(int64At(b, 'bi', 4)).toBe(1234567890123456n);
    expect(valueAt(b, 'flag', 0)).toBe(true);
    expect(valueAt(b, 'flag', 3)).toBe(true); // TINYINT(1) -1 is true
    expect(valueAt(b, 'flag', 4)).toBe(false);
    expect(decimalAt(b, 'amount', 0)).toBe(-1n);
    expect(decimalAt(b, 'amount', 1)).toBe(-999999999999999n);
    expect(decimalAt(b, 'amount', 3)).toBe(999999999999999n);
    expect(decimalAt(b, 'amount', 5)).toBe(12345000n);
    expect(decimalAt(b, 'amount', 6)).toBe(-55500n);
    expect(decimalAt(b, 'wide_dec', 0)).toBe(-12345678901234567890123456780123456789n);
    expect(decimalAt(b, 'wide_dec', 1)).toBe(1n);
    expect(decimalAt(b, 'wide_dec', 5)).toBe(-5000000000n);
    expect(decimalAt(b, 'huge_dec', 5)).toBe(-1n);
    expect(decimalAt(b, 'huge_dec', 0)).toBe(-12345678901234567890123456789012345123456789012345678901234567890n);
    expect(valueAt(b, 'd', 0)).toBe(0.1);
    expect(valueAt(b, 'd', 1)).toBe(0); // MariaDB stores -0.0 as 0
    expect(valueAt(b, 'd', 3)).toBe(0.30000000000000004);
    expect(valueAt(b, 'd', 4)).toBe(1.7976931348623157e308);
    expect(valueAt(b, 'd', 5)).toBe(5e-324);
    expect(valueAt(b, 'd', 6)).toBe(123456789012345680000);
    expect(valueAt(b, 'f', 0)).toBe(1.5);
    expect(valueAt(b, 'f', 1)).toBe(Math.fround(-3.40282e38));
    // DATETIME(6): microseconds since the epoch, wall clock as stored; the zero date is NULL.
    expect(int64At(b, 'dt', 0)).toBe(1609459200000001n);
    expect(int64At(b, 'dt', 1)).toBe(253402300799999999n);
    expect(isNull(b, 'dt', 3)).toBe(true);
    expect(int64At(b, 'dt', 5)).toBe(-1n);
    expect(int64At(b, 'ts', 0)).toBe(2147483647999999n);
    expect(int64At(b, 'ts', 4)).toBe(1625056496500000n);
    expect(isNull(b, 'day', 3)).toBe(true);
    expect(valueAt(b, 'label', 0)).toBe('utf8mb4: 日本語 😀 é');
    expect(valueAt(b, 'label', 1)).toBe('');
    expect(valueAt(b, 'label', 3)).toBe('a\tb\nc');
    expect(valueAt(b, 'body', 0)).toBe('x'.repeat(LONG_300));
    expect(valueAt(b, 'body', 1)).toBe('é'.repeat(LONG_64K / 2));
    expect(valueAt(b, 'body', 4)).toBe('ab'.repeat(LONG_64K));
    expect(Buffer.from(valueAt(b, 'raw', 0) as Uint8Array).toString('hex')).toBe('00ff10');
    expect((valueAt(b, 'raw', 1) as Uint8Array).length).toBe(0);
    for (const name of b.schema.fields.map((f) => f.name).filter((n) => n !== 'id')) expect(isNull(b, name, 2), name).toBe(true);
  });

  it('splits into batches the same way and stops cleanly at the end of the rows', async () => {
    const batches = await readWith('packet', 'SELECT * FROM edge ORDER BY id', 3);
    expect(batches.map((x) => x.numRows)).toEqual([3, 3, 1]);
    expect(int64At(batches[2], 'id', 0)).toBe(7n);
    // The connection is still usable: the end-of-rows packet finished the command.
    const again = await readWith('packet', 'SELECT COUNT(*) AS n FROM edge');
    expect(valueAt(again[0], 'n', 0)).toBe(7n);
  });
});
