import { describe, expect, it } from 'vitest';
import { keysetKeys, keysetLabel, keysetPredicate } from '../../../shared/run/chunk-keyset.js';
import { rowsForMemory } from '../../../shared/run/chunk-memory.js';
import { mysqlDialect } from '../../../shared/source/mysql/mysql-dialect.js';
import { pgDialect } from '../../../shared/source/postgres/pg-dialect.js';
import { mssqlDialect } from '../../../shared/source/mssql/mssql-dialect.js';

describe('keyset chunk bounds', () => {
  it('round-trip through their stored form, keys that look like markers included', () => {
    for (const range of [
      { from: null, until: null },
      { from: null, until: 'b' },
      { from: '-inf', until: '+inf' },
      { from: 'NULL', until: '"quoted"\\' },
      { from: '', until: null },
    ]) {
      const stored = keysetKeys(range);
      expect(keysetPredicate(stored.startKey, stored.endKey)).toEqual({ kind: 'keyset', ...range });
    }
    expect(keysetKeys({ from: null, until: null })).toEqual({ startKey: '-inf', endKey: '+inf' });
    expect(keysetPredicate('12', '+inf')).toBeNull();
    expect(keysetPredicate('NULL', 'NULL')).toBeNull();
  });

  it('labels say which side is open', () => {
    expect(keysetLabel('k', { from: null, until: 'm' })).toBe('k < "m"');
    expect(keysetLabel('k', { from: 'a', until: 'm' })).toBe('k "a"..<"m"');
    expect(keysetLabel('k', { from: 'm', until: null })).toBe('k >= "m"');
    expect(keysetLabel('k', { from: null, until: null })).toBe('k (all)');
  });
});

describe('keyset chunk SQL per dialect', () => {
  const p = { kind: 'keyset', from: "it's", until: 'z\\' } as const;
  it('PostgreSQL casts both bounds to the key type; an open side has no condition', () => {
    expect(pgDialect.chunkSql({ baseSql: 'SELECT * FROM t', column: '"k"', keyType: 'uuid' }, p)).toBe(
      `SELECT * FROM (SELECT * FROM t) AS _rivet WHERE "k" >= CAST(E'it''s' AS uuid) AND "k" < CAST(E'z\\\\' AS uuid)`,
    );
    expect(pgDialect.chunkSql({ baseSql: 'SELECT * FROM t', column: '"k"', keyType: 'text' }, { kind: 'keyset', from: null, until: null })).toBe('SELECT * FROM (SELECT * FROM t) AS _rivet');
  });
  it('MySQL writes integers bare and text as a hex literal that takes the column collation', () => {
    expect(mysqlDialect.chunkSql({ baseSql: 'SELECT * FROM t', column: '`k`', keyType: 'bigint' }, { kind: 'keyset', from: '-5', until: null })).toMatch(/WHERE `k` >= -5$/);
    expect(mysqlDialect.chunkSql({ baseSql: 'SELECT * FROM t', column: '`k`', keyType: 'varchar(10)' }, { kind: 'keyset', from: null, until: 'ab' })).toMatch(/WHERE `k` < _utf8mb4 X'6162'$/);
  });
  it('SQL Server seeks with OFFSET … FETCH and compares typed literals', () => {
    const c = mssqlDialect.cursorSql('SELECT * FROM t', 'k');
    expect(mssqlDialect.keysetBoundarySql(c, null, 100n)).toMatch(/ORDER BY _rivet\.\[k\] OFFSET 100 ROWS FETCH NEXT 1 ROWS ONLY$/);
    expect(mssqlDialect.chunkSql({ baseSql: 'SELECT * FROM t', column: '[k]', keyType: 'int' }, { kind: 'keyset', from: '3', until: '9' })).toMatch(/WHERE \[k\] >= 3 AND \[k\] < 9$/);
  });
});

describe('chunk_size_memory_mb', () => {
  it('rows = budget / row width, clamped to 10 000..5 000 000', () => {
    expect(rowsForMemory(64, 100)).toBe(671_088);
    expect(rowsForMemory(1, 512)).toBe(10_000);
    expect(rowsForMemory(100_000, 10)).toBe(5_000_000);
    expect(rowsForMemory(8, 0)).toBe(5_000_000);
  });
});
