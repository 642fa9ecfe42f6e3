import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../shared/log/logger.js';
import { openPostgresSource, type PgSource } from '../../../shared/source/postgres/pg-source.js';
import { testPgUrl } from '../../helpers/pg.js';
import { collect, valueAt } from './arrow-values.js';

/**
 * The `string` override renders binary inet/cidr/macaddr/bit/timetz/… values itself; each
 * rendering must equal the server's own output function (format('%s', v) uses it), for
 * both read paths.
 */

const CASES: Record<string, string[]> = {
  inet: [
    '0.0.0.0', '255.255.255.255', '10.1.2.3/8', '192.168.1.0/24', '1.2.3.4/32', '::', '::1', '::/0', '1::', 'fe80::1',
    '2001:db8::1', '2001:db8:0:0:1:0:0:1', '2001:0:0:1:0:0:0:1', '1:2:3:4:5:6:7:8', '1:0:3:4:5:6:7:8', '::ffff:10.0.0.1', '::ffff:0.0.0.0',
    '::1.2.3.4', '::ffff:1.2.3.4/120', '2001:db8::/32', '0:0:1::', 'abcd:ef01:2345:6789:abcd:ef01:2345:6789/64',
  ],
  cidr: ['10.0.0.0/8', '192.168.0.0/16', '0.0.0.0/0', '::/0', '2001:db8::/32', '::ffff:1.2.3.0/120', '1.2.3.4/32', '::1/128'],
  macaddr: ['08:00:2b:01:02:03', '00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', 'a1b2.c3d4.e5f6'],
  macaddr8: ['08:00:2b:01:02:03:04:05', '08:00:2b:01:02:03', '00:00:00:00:00:00:00:00'],
  'bit(12)': ['101010101010', '000000000000', '111111111111', '100000000001'],
  varbit: ['', '1', '0', '10101', '1111111100000000', '1'.repeat(77)],
  timetz: [
    '00:00:00+00', '23:59:59.999999+14', '12:00:00-12', '12:34:56.5+05:30', '01:02:03.000001-03:30:15', '24:00:00+00', '08:00:00.1+00:00:01',
  ],
  xml: ['<a/>', '<a b="1">ü ✓</a>', 'plain text', ''],
  '"char"': ['a', 'Z', '0', ' '],
  int4range: ['empty', '[1,10)', '(,5]', '[-2147483648,)', '(,)', '[3,3]'],
  int8range: ['[-9223372036854775807,9223372036854775807)', '(,0)'],
  numrange: ['[1.50,2.250]', '(-0.001,)', '(,1e20)', 'empty'],
  daterange: ['[2024-01-01,2024-02-01)', '[0044-03-15 BC,0001-01-01)', '(-infinity,infinity)', '[,2024-01-01]'],
  tsrange: ['[2024-01-01 00:00:00,2024-01-01 12:34:56.789)', '["1999-12-31 23:59:59.999999",)', '[-infinity,0001-01-01 00:00:00 BC]'],
  tstzrange: ['[2024-03-10 01:30:00-05,2024-03-10 03:30:00-04)', '(,2000-01-01 00:00:00.5+00]', 'empty'],
};

let source: PgSource;

beforeAll(async () => {
  source = await openPostgresSource({
    connection: { engine: 'postgres', url: testPgUrl() },
    columnOverrides: { v: 'string' },
    log: silentLogger,
  });
});

afterAll(async () => {
  await source?.close();
});

function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

describe.each(['cursor', 'copy'] as const)('binary → server text (%s)', (method) => {
  for (const [type, values] of Object.entries(CASES)) {
    it(`${type} renders as the server's output function`, async () => {
      const rows = values.map((v, i) => `(${i}, ${literal(v)}::${type})`).join(', ');
      const sql = `SELECT i, v, format('%s', v) AS want FROM (VALUES ${rows}, (${values.length}, NULL::${type})) t(i, v) ORDER BY i`;
      const [batch] = await collect(source.read(sql, { batchSize: 1000, method }));
      const got: unknown[] = [];
      const want: unknown[] = [];
      for (let r = 0; r < batch.numRows; r++) {
        got.push(valueAt(batch, 'v', r));
        want.push(r === values.length ? null : valueAt(batch, 'want', r));
      }
      expect(got).toEqual(want);
    });
  }
});
