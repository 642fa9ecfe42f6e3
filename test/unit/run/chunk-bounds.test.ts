import { describe, expect, it } from 'vitest';
import { chunksFromStarts, dayNumber, dayText, isSparse, parseKey, rangeChunks, sizeForCount, windowCount } from '../../../shared/run/chunk-bounds.js';
import { pgDialect } from '../../../shared/source/postgres/pg-dialect.js';

describe('chunk boundaries', () => {
  it('cuts [min, max] into inclusive windows, the last clipped', () => {
    expect(rangeChunks(1n, 250n, 100n)).toEqual([{ start: 1n, end: 100n }, { start: 101n, end: 200n }, { start: 201n, end: 250n }]);
    expect(rangeChunks(5n, 4n, 10n)).toEqual([]);
    expect(windowCount(1n, 250n, 100n)).toBe(3n);
    expect(windowCount(1n, 10n ** 12n, 100n)).toBe(10n ** 10n);
  });

  it('stays exact beyond 2^53 and at the int8 maximum', () => {
    const max = 9223372036854775807n;
    expect(rangeChunks(max - 5n, max, 4n)).toEqual([{ start: max - 5n, end: max - 2n }, { start: max - 1n, end: max }]);
  });

  it('chunk_count sizes windows by ceiling', () => {
    expect(sizeForCount(1n, 10n, 3)).toBe(4n);
    expect(rangeChunks(1n, 10n, sizeForCount(1n, 10n, 3))).toHaveLength(3);
  });

  it('flags a key as sparse only when windows far exceed what the rows could fill', () => {
    expect(isSparse(10n ** 10n, 1001n, 100n)).toBe(true);
    expect(isSparse(5n, 296n, 100n)).toBe(false);
    expect(isSparse(22n, 300n, 100n)).toBe(false);
    expect(isSparse(23n, 300n, 100n)).toBe(true);
    expect(isSparse(100n, 0n, 100n)).toBe(false);
  });

  it('builds contiguous chunks from distribution starts (duplicates dropped)', () => {
    expect(chunksFromStarts([1n, 101n, 101n, 1000000000000n], 1000000000000n)).toEqual([
      { start: 1n, end: 100n },
      { start: 101n, end: 999999999999n },
      { start: 1000000000000n, end: 1000000000000n },
    ]);
  });

  it('reads days and integer keys from their text form', () => {
    expect(dayNumber('1970-01-02')).toBe(1);
    expect(dayNumber('1969-12-31 23:00:00+00')).toBe(-1);
    expect(dayNumber('2024-03-01T10:00:00.5Z')).toBe(19783);
    expect(dayNumber('infinity')).toBeNull();
    expect(dayText(19783)).toBe('2024-03-01');
    expect(parseKey('-42')).toBe(-42n);
    expect(parseKey('1.5')).toBeNull();
    expect(parseKey(null)).toBeNull();
  });
});

describe('per-chunk SQL', () => {
  const base = { baseSql: 'SELECT * FROM s.t; -- trailing', column: '"id"' };
  it('is one predicate on the key, never OFFSET', () => {
    expect(pgDialect.chunkSql(base, { kind: 'range', start: 1n, end: 100n })).toBe('SELECT * FROM (SELECT * FROM s.t) AS _rivet WHERE "id" BETWEEN 1 AND 100');
    expect(pgDialect.chunkSql(base, { kind: 'null' })).toBe('SELECT * FROM (SELECT * FROM s.t) AS _rivet WHERE "id" IS NULL');
    expect(pgDialect.chunkSql(base, { kind: 'days', from: '2024-01-01', until: '2024-01-08' })).toBe(
      `SELECT * FROM (SELECT * FROM s.t) AS _rivet WHERE "id" >= '2024-01-01' AND "id" < '2024-01-08'`,
    );
  });
  it('dense chunks select the base columns only, not the synthetic row number', () => {
    const sql = pgDialect.chunkSql({ ...base, columns: ['"id"', '"val"'] }, { kind: 'dense', start: 1n, end: 10n });
    expect(sql.startsWith('SELECT _rivet_w."id", _rivet_w."val" FROM (SELECT _rivet_i.*, ROW_NUMBER() OVER (ORDER BY _rivet_i."id")')).toBe(true);
    expect(sql.endsWith('WHERE _rivet_w._rivet_chunk_rn BETWEEN 1 AND 10')).toBe(true);
  });
});
