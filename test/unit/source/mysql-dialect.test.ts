import { describe, expect, it } from 'vitest';
import { mysqlDialect, mysqlTextLiteral } from '../../../shared/source/mysql/mysql-dialect.js';
import { mysqlQueryText } from '../../../shared/source/mysql/mysql-query-text.js';
import { autodetectMysqlType, MyFlag, MyType } from '../../../shared/source/mysql/mysql-types.js';
import { daysFromCivil } from '../../../shared/source/mysql/mysql-decoders.js';
import { classifyMysqlError } from '../../../shared/source/mysql/mysql-errors.js';

describe('MySQL query text cleanup', () => {
  it('drops trailing semicolons and #, -- and /* */ comments, but not inside strings or identifiers', () => {
    expect(mysqlQueryText('SELECT 1;  ')).toBe('SELECT 1');
    expect(mysqlQueryText('SELECT 1; # note\n-- more\n/* block */')).toBe('SELECT 1');
    expect(mysqlQueryText("SELECT ';# x' AS `a;--b`;")).toBe("SELECT ';# x' AS `a;--b`");
    expect(mysqlQueryText("SELECT 'it\\'s; #' AS s")).toBe("SELECT 'it\\'s; #' AS s");
    // `--` without a following space is an operator in MySQL, not a comment.
    expect(mysqlQueryText('SELECT 1--1')).toBe('SELECT 1--1');
  });
});

describe('MySQL dialect', () => {
  const base = { baseSql: 'SELECT * FROM t; # x', column: '`id`' };
  it('quotes identifiers with backticks and wraps the base query on its own lines', () => {
    expect(mysqlDialect.quoteIdent('we`ird')).toBe('`we``ird`');
    expect(mysqlDialect.chunkSql(base, { kind: 'range', start: 1n, end: 100n })).toBe('SELECT * FROM (\nSELECT * FROM t\n) AS _rivet WHERE `id` BETWEEN 1 AND 100');
    expect(mysqlDialect.chunkSql(base, { kind: 'null' })).toMatch(/WHERE `id` IS NULL$/);
    const dense = mysqlDialect.chunkSql({ ...base, columns: ['`id`', '`v`'] }, { kind: 'dense', start: 1n, end: 10n });
    expect(dense).toMatch(/^SELECT _rivet_w\.`id`, _rivet_w\.`v` FROM \(SELECT _rivet_i\.\*, ROW_NUMBER\(\) OVER \(ORDER BY _rivet_i\.`id`\)/);
    expect(dense).toMatch(/BETWEEN 1 AND 10$/);
  });

  it('writes cursor values so they compare exactly: integers and decimals bare, temporals cast, text as hex literals', () => {
    expect(mysqlDialect.typedLiteral('9007199254740993', 'bigint unsigned')).toBe('9007199254740993');
    expect(mysqlDialect.typedLiteral('-12.50', 'decimal')).toBe('-12.50');
    expect(mysqlDialect.typedLiteral('2024-05-01 10:00:00.000040', 'datetime')).toBe("CAST(_utf8mb4 X'323032342d30352d30312031303a30303a30302e303030303430' AS DATETIME(6))");
    expect(mysqlDialect.typedLiteral("it's \\ ok", 'varchar')).toBe(`_utf8mb4 X'${Buffer.from("it's \\ ok").toString('hex')}'`);
    expect(mysqlTextLiteral('')).toBe("''");
    expect(() => mysqlDialect.typedLiteral('1; DROP TABLE t', 'int')).toThrow(/not a valid integer/);
  });

  it('time_window compares with a UTC-midnight literal (the session zone is UTC)', () => {
    const sql = mysqlDialect.timeWindowSql('SELECT * FROM r', 'ts', new Date('2026-03-07T00:00:00Z'), 'timestamp');
    expect(sql).toBe("SELECT _rivet.* FROM (\nSELECT * FROM r\n) AS _rivet WHERE _rivet.`ts` >= '2026-03-07 00:00:00'");
    expect(mysqlDialect.timeWindowSql('SELECT * FROM r', 'e', new Date('2026-03-07T00:00:00Z'), 'unix')).toMatch(/>= 1772841600$/);
  });
});

describe('MySQL type autodetect (docs/reference/types.md)', () => {
  const f = (columnType: number, extra: Partial<{ flags: number; characterSet: number; columnLength: number; decimals: number; extendedFormat: string }> = {}) =>
    autodetectMysqlType({ name: 'c', columnType, flags: 0, characterSet: 45, columnLength: 11, decimals: 0, ...extra });
  it('maps the integer family by width and signedness', () => {
    expect(f(MyType.TINY, { columnLength: 1 }).rivetType).toEqual({ kind: 'bool' });
    expect(f(MyType.TINY, { columnLength: 4 }).rivetType).toEqual({ kind: 'int16' });
    expect(f(MyType.SHORT, { flags: MyFlag.UNSIGNED }).rivetType).toEqual({ kind: 'int32' });
    expect(f(MyType.LONG, { flags: MyFlag.UNSIGNED }).nativeType).toBe('int unsigned');
    expect(f(MyType.LONGLONG, { flags: MyFlag.UNSIGNED }).rivetType).toEqual({ kind: 'u_int64' });
  });
  it('derives decimal precision from the wire length, sign and scale', () => {
    expect(f(MyType.NEWDECIMAL, { columnLength: 12, decimals: 2 }).rivetType).toEqual({ kind: 'decimal', precision: 10, scale: 2 });
    expect(f(MyType.NEWDECIMAL, { columnLength: 20, decimals: 0, flags: MyFlag.UNSIGNED }).rivetType).toEqual({ kind: 'decimal', precision: 20, scale: 0 });
  });
  it('tells binary from text by the character set, and MariaDB JSON by its extended format', () => {
    expect(f(MyType.BLOB, { characterSet: 63 }).rivetType).toEqual({ kind: 'binary' });
    expect(f(MyType.BLOB).rivetType).toEqual({ kind: 'text' });
    expect(f(MyType.BLOB, { extendedFormat: 'json' }).rivetType).toEqual({ kind: 'json' });
    expect(f(MyType.STRING, { flags: MyFlag.ENUM }).rivetType).toEqual({ kind: 'enum' });
    expect(f(MyType.TIMESTAMP).rivetType).toEqual({ kind: 'timestamp', unit: 'microsecond', timezone: 'UTC' });
    expect(f(MyType.DATETIME).rivetType).toEqual({ kind: 'timestamp', unit: 'microsecond', timezone: null });
    expect(f(MyType.GEOMETRY).rivetType.kind).toBe('unsupported');
  });
  it('counts days without Date (years below 100 stay themselves)', () => {
    expect(daysFromCivil(1970, 1, 1)).toBe(0);
    expect(daysFromCivil(2024, 2, 29)).toBe(19782);
    expect(daysFromCivil(1, 1, 1)).toBe(-719162);
    expect(daysFromCivil(9999, 12, 31)).toBe(2932896);
  });
});

describe('MySQL retry classification', () => {
  const server = (errno: number, sqlState = 'HY000') => Object.assign(new Error('x'), { errno, sqlState, code: 'ER_X' });
  it('retries deadlocks, lock waits, timeouts and lost connections; not syntax or access errors', () => {
    expect(classifyMysqlError(server(1213, '40001'))).toEqual({ transient: true, reconnect: false, extraDelayMs: 1000 });
    expect(classifyMysqlError(server(1205))).toMatchObject({ transient: true, reconnect: false });
    expect(classifyMysqlError(server(1969, '70100'))).toMatchObject({ transient: true });
    expect(classifyMysqlError(server(1040, '08004'))).toMatchObject({ transient: true, reconnect: true, extraDelayMs: 15000 });
    expect(classifyMysqlError(Object.assign(new Error('Connection lost'), { code: 'PROTOCOL_CONNECTION_LOST' }))).toMatchObject({ transient: true, reconnect: true });
    expect(classifyMysqlError(server(1064, '42000')).transient).toBe(false);
    expect(classifyMysqlError(server(1045, '28000')).transient).toBe(false);
  });
});
