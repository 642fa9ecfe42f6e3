import { Field, Schema, Utf8 } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { mssqlDialect as d } from '../../../shared/source/mssql/mssql-dialect.js';
import { mssqlQueryText } from '../../../shared/source/mssql/mssql-query-text.js';

const BASE = 'SELECT * FROM dbo.orders -- all of them\n;';

describe('T-SQL query text', () => {
  it.each([
    ['SELECT 1;', 'SELECT 1'],
    ['SELECT 1 ;; -- done\n', 'SELECT 1'],
    ["SELECT ';--' AS a;", "SELECT ';--' AS a"],
    ["SELECT N'it''s' AS a /* note; /* nested */ still */ ;", "SELECT N'it''s' AS a"],
    ['SELECT [a;]]b] FROM t;', 'SELECT [a;]]b] FROM t'],
    ['SELECT "x--y" FROM t', 'SELECT "x--y" FROM t'],
  ])('%j → %j', (input, out) => {
    expect(mssqlQueryText(input)).toBe(out);
  });
});

describe('mssql dialect SQL shapes', () => {
  it('quotes identifiers with brackets, doubling ]', () => {
    expect(d.quoteIdent('order id')).toBe('[order id]');
    expect(d.quoteIdent('a]b')).toBe('[a]]b]');
  });

  it('wraps the cleaned base query on its own lines', () => {
    expect(d.wrapBase(BASE)).toBe('(\nSELECT * FROM dbo.orders\n) AS _rivet');
  });

  it('range / null / days chunk predicates, never OFFSET/FETCH or LIMIT', () => {
    const input = { baseSql: BASE, column: '[id]' };
    expect(d.chunkSql(input, { kind: 'range', start: 1n, end: 10_000_000_000n })).toBe(
      'SELECT * FROM (\nSELECT * FROM dbo.orders\n) AS _rivet WHERE [id] BETWEEN 1 AND 10000000000',
    );
    expect(d.chunkSql(input, { kind: 'null' })).toBe('SELECT * FROM (\nSELECT * FROM dbo.orders\n) AS _rivet WHERE [id] IS NULL');
    // 'YYYYMMDD' reads the same under every DATEFORMAT/LANGUAGE
    expect(d.chunkSql({ baseSql: BASE, column: '[created]' }, { kind: 'days', from: '2024-01-01', until: '2024-01-08' })).toBe(
      "SELECT * FROM (\nSELECT * FROM dbo.orders\n) AS _rivet WHERE [created] >= '20240101' AND [created] < '20240108'",
    );
    for (const p of [{ kind: 'range', start: 1n, end: 2n }, { kind: 'null' }, { kind: 'dense', start: 1n, end: 2n }] as const) {
      const sql = d.chunkSql({ ...input, columns: ['[id]'] }, p);
      expect(sql).not.toMatch(/\bOFFSET\b|\bFETCH\b|\bLIMIT\b/i);
    }
  });

  it('dense chunks number rows with ROW_NUMBER and select only the base columns', () => {
    expect(d.chunkSql({ baseSql: BASE, column: '[sku]', columns: ['[sku]', '[qty]'] }, { kind: 'dense', start: 1001n, end: 2000n })).toBe(
      'SELECT _rivet_w.[sku], _rivet_w.[qty] FROM (SELECT _rivet_i.*, ROW_NUMBER() OVER (ORDER BY _rivet_i.[sku]) AS _rivet_chunk_rn ' +
        'FROM (\nSELECT * FROM dbo.orders\n) AS _rivet_i) AS _rivet_w WHERE _rivet_w._rivet_chunk_rn BETWEEN 1001 AND 2000',
    );
  });

  it('probe queries return NVARCHAR text and use COUNT_BIG', () => {
    expect(d.countSql(BASE)).toBe('SELECT CAST(COUNT_BIG(*) AS NVARCHAR(20)) AS n FROM (\nSELECT * FROM dbo.orders\n) AS _rivet_count');
    expect(d.keyStatsSql(BASE, '[id]')).toBe(
      'SELECT CAST(MIN([id]) AS NVARCHAR(100)), CAST(MAX([id]) AS NVARCHAR(100)), CAST(COUNT_BIG(*) AS NVARCHAR(20)), CAST(COUNT_BIG([id]) AS NVARCHAR(20)) FROM (\nSELECT * FROM dbo.orders\n) AS _rivet',
    );
    expect(d.sparseStartsSql(BASE, '[id]', 500n)).toMatch(/ROW_NUMBER\(\) OVER \(ORDER BY \[id\]\) AS rn .* WHERE \(rn - 1\) % 500 = 0 ORDER BY k$/s);
    expect(d.dayStatsSql(BASE, '[ts]')).toMatch(/^SELECT CONVERT\(NVARCHAR\(10\), CONVERT\(date, SWITCHOFFSET\(CONVERT\(datetimeoffset, MIN\(\[ts\]\)\), '\+00:00'\)\), 23\)/);
    expect(d.dayBucketsSql(BASE, '[ts]', 7)).toMatch(/FLOOR\(DATEDIFF\(DAY, '19700101', CONVERT\(date, SWITCHOFFSET\(CONVERT\(datetimeoffset, \[ts\]\), '\+00:00'\)\)\) \/ 7\.0\)/);
    for (const sql of [d.countSql(BASE), d.keyStatsSql(BASE, '[id]'), d.sparseStartsSql(BASE, '[id]', 5n), d.dayBucketsSql(BASE, '[ts]', 1)]) {
      expect(sql).not.toMatch(/\bLIMIT\b|::/);
    }
  });

  it('primary key probe reads sys.indexes for a bracket-quoted name', () => {
    const sql = d.primaryKeySql({ schema: 'sales', name: "o'rders" });
    expect(sql).toContain("OBJECT_ID(N'[sales].[o''rders]')");
    expect(sql).toContain('i.is_primary_key = 1');
    expect(sql).toContain('ORDER BY ic.key_ordinal');
    expect(['tinyint', 'smallint', 'int', 'bigint', 'INT'].every(d.isIntegerKeyType)).toBe(true);
    expect(['decimal', 'uniqueidentifier', 'nvarchar'].some(d.isIntegerKeyType)).toBe(false);
  });

  it('incremental: cursor expression, TOP 1 upper bound, window, null count', () => {
    const c = d.cursorSql(BASE, 'updated_at', 'created_at');
    expect(c).toEqual({ expr: 'COALESCE(_rivet.[updated_at], _rivet.[created_at])', from: 'FROM (\nSELECT * FROM dbo.orders\n) AS _rivet' });
    const single = d.cursorSql(BASE, 'id');
    expect(d.upperBoundSql(single, null)).toBe(
      'SELECT TOP 1 CONVERT(NVARCHAR(4000), _rivet.[id], 126) AS hi FROM (\nSELECT * FROM dbo.orders\n) AS _rivet WHERE _rivet.[id] IS NOT NULL ORDER BY _rivet.[id] DESC',
    );
    expect(d.upperBoundSql(single, '42')).toContain('WHERE _rivet.[id] > 42 ORDER BY _rivet.[id] DESC');
    expect(d.upperBoundSql(single, '42')).not.toMatch(/LIMIT/);
    expect(d.windowSql(single, '10', '42')).toBe('SELECT _rivet.* FROM (\nSELECT * FROM dbo.orders\n) AS _rivet WHERE _rivet.[id] > 10 AND _rivet.[id] <= 42 ORDER BY _rivet.[id]');
    expect(d.windowSql(single, null, '42')).toContain('WHERE (_rivet.[id] <= 42 OR _rivet.[id] IS NULL) ORDER BY _rivet.[id]');
    expect(d.windowSql(single, null, null)).toBe('SELECT _rivet.* FROM (\nSELECT * FROM dbo.orders\n) AS _rivet ORDER BY _rivet.[id]');
    expect(d.nullCursorCountSql(single)).toBe('SELECT CAST(COUNT_BIG(*) AS NVARCHAR(20)) AS n FROM (\nSELECT * FROM dbo.orders\n) AS _rivet WHERE _rivet.[id] IS NULL');
  });

  it('typed literals: bare exact numbers, CAST to the column type otherwise, quotes doubled', () => {
    expect(d.typedLiteral('-42', 'bigint')).toBe('-42');
    expect(d.typedLiteral('12.50', 'decimal(18,2)')).toBe('12.50');
    expect(() => d.typedLiteral('1; DROP TABLE x', 'int')).toThrow(/not a valid integer/);
    expect(d.typedLiteral('2024-01-02T03:04:05.123456', 'datetime2(7)')).toBe("CAST(N'2024-01-02T03:04:05.123456' AS datetime2(7))");
    expect(d.typedLiteral('2024-01-02T03:04:05.123456', 'datetimeoffset(7)')).toBe("CAST(N'2024-01-02T03:04:05.123456' AS datetimeoffset(7))");
    expect(d.typedLiteral('2024-01-02T03:04:05.003000', 'datetime')).toBe("CAST(CAST(N'2024-01-02T03:04:05.003000' AS datetime2(7)) AS datetime)");
    expect(d.typedLiteral("O'Brien", 'nvarchar(50)')).toBe("CAST(N'O''Brien' AS nvarchar(50))");
    expect(d.typedLiteral('abc', 'varchar(max)')).toBe("CAST(N'abc' AS varchar(max))");
    expect(d.typedLiteral('6f9619ff-8b86-d011-b42d-00c04fc964ff', 'uniqueidentifier')).toBe("CAST(N'6f9619ff-8b86-d011-b42d-00c04fc964ff' AS uniqueidentifier)");
    expect(() => d.typedLiteral('x', 'int); DROP TABLE t; --')).toThrow(/unexpected SQL Server type name/);
  });

  it('cursor type comes from a describe probe, not from data', async () => {
    const seen: string[] = [];
    const type = await d.cursorType(d.cursorSql(BASE, 'id'), {
      rows: async () => {
        throw new Error('must not read rows');
      },
      describe: async (sql) => {
        seen.push(sql);
        return new Schema([new Field('c', new Utf8(), true, new Map([['rivet.native_type', 'datetime2(3)']]))]);
      },
    });
    expect(type).toBe('datetime2(3)');
    expect(seen).toEqual(['SELECT _rivet.[id] AS c FROM (\nSELECT * FROM dbo.orders\n) AS _rivet']);
  });

  it('time window: YYYYMMDD literal or epoch seconds', () => {
    const cutoff = new Date('2024-05-06T00:00:00Z');
    expect(d.timeWindowSql(BASE, 'ts', cutoff, 'timestamp')).toBe("SELECT _rivet.* FROM (\nSELECT * FROM dbo.orders\n) AS _rivet WHERE _rivet.[ts] >= '20240506'");
    expect(d.timeWindowSql(BASE, 'epoch', cutoff, 'unix')).toBe('SELECT _rivet.* FROM (\nSELECT * FROM dbo.orders\n) AS _rivet WHERE _rivet.[epoch] >= 1714953600');
  });
});
