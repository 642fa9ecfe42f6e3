import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../shared/log/logger.js';
import { openPostgresSource } from '../../../shared/source/postgres/pg-source.js';
import type { Source } from '../../../shared/source/source.js';
import { testPgUrl } from '../../helpers/pg.js';
import { collect, decimalAt, valueAt } from './arrow-values.js';

/** Scale decimal text the way the spec says: truncate or right-pad the fraction, never round. */
function scaled(text: string, scale: number): bigint {
  const neg = text.startsWith('-');
  const [int, frac = ''] = text.replace(/^[-+]/, '').split('.');
  let v: bigint;
  if (scale >= 0) v = BigInt(int + frac.padEnd(scale, '0').slice(0, scale));
  else v = BigInt(int) / 10n ** BigInt(-scale);
  return neg ? -v : v;
}

let source: Source;

beforeAll(async () => {
  source = await openPostgresSource({
    connection: { engine: 'postgres', url: testPgUrl() },
    columnOverrides: { n4: 'decimal(38,4)', n0: 'decimal(38,0)', nneg: 'decimal(38,-3)', n60: 'decimal(70,20)', txt: 'text' },
    log: silentLogger,
  });
});
afterAll(async () => source?.close());

describe('NUMERIC → decimal', () => {
  it('matches the server text for thousands of random values at several scales', async () => {
    // Random magnitudes from 1e-12 to 1e25, both signs, exercising every base-10000 alignment.
    const sql = `
      SELECT n::text AS txt, n::numeric(38,10) AS n10, n AS n4, n AS n0, n AS nneg, n AS n60
      FROM (
        SELECT round((random() - 0.5)::numeric * power(10::numeric, (random() * 37 - 12)::int), (random() * 14)::int) AS n
        FROM generate_series(1, 3000)
        UNION ALL SELECT v FROM unnest(ARRAY[0, 1, -1, 0.5, -0.5, 9999, 10000, 10001, 0.0001, -0.0001, 123456789012345678901234567.8901]::numeric[]) v
      ) s`;
    const batches = await collect(source.read(sql, { batchSize: 1000 }));
    let rows = 0;
    for (const b of batches) {
      for (let r = 0; r < b.numRows; r++, rows++) {
        const text = valueAt(b, 'txt', r) as string;
        expect(decimalAt(b, 'n4', r), text).toBe(scaled(text, 4));
        expect(decimalAt(b, 'n0', r), text).toBe(scaled(text, 0));
        expect(decimalAt(b, 'nneg', r), text).toBe(scaled(text, -3));
        expect(decimalAt(b, 'n60', r), text).toBe(scaled(text, 20));
      }
    }
    expect(rows).toBe(3011);
  });

  it('renders numeric text exactly under a string override', async () => {
    const [b] = await collect(source.read(`SELECT v::numeric AS txt FROM unnest(ARRAY['0.00', '-12.3400', '1e20', 'NaN']) v`, { batchSize: 10 }));
    expect([0, 1, 2, 3].map((r) => valueAt(b, 'txt', r))).toEqual(['0.00', '-12.3400', '100000000000000000000', 'NaN']);
  });

  it('rejects a value that does not fit the declared precision', async () => {
    const err = await collect(source.read(`SELECT 1e40::numeric AS n4`, { batchSize: 10 })).catch((e) => e);
    expect(err.code).toBe('TYPE_UNSUPPORTED');
    expect(err.message).toMatch(/"n4".*does not fit decimal\(38,4\)/);
  });
});
