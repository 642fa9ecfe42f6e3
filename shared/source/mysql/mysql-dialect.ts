import { RivetError } from '../../errors/rivet-error.js';
import { META_NATIVE_TYPE } from '../../types/rivet-type.js';
import { defaultDialect } from '../default-dialect.js';
import type { CursorSql, SqlDialect, SqlProbe } from '../sql-dialect.js';
import { mysqlKeysetSql } from './mysql-keyset.js';
import { lookbackStep } from '../lookback-step.js';
import { mysqlQueryText } from './mysql-query-text.js';

function quoteIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

function wrapBase(baseSql: string): string {
  return `(\n${mysqlQueryText(baseSql)}\n) AS _rivet`;
}

/**
 * A string literal that means the same under every sql_mode (NO_BACKSLASH_ESCAPES and
 * ANSI_QUOTES change how quotes and backslashes read): a hex string with a charset
 * introducer. It stays a literal (coercible), so it takes the column's collation.
 */
export function mysqlTextLiteral(value: string): string {
  return value === '' ? "''" : `_utf8mb4 X'${Buffer.from(value, 'utf8').toString('hex')}'`;
}

/** How a cursor value is written back into SQL, by the cursor's native type (see `cursorType`). */
type CursorKind = 'integer' | 'decimal' | 'float' | 'date' | 'datetime' | 'time' | 'string';

const INTEGER_TYPES = ['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'year', 'bit'];

function cursorKind(nativeType: string): CursorKind {
  const base = nativeType.toLowerCase().replace(/\(.*$/, '').replace(/ unsigned$/, '').trim();
  if (INTEGER_TYPES.includes(base)) return 'integer';
  if (base === 'decimal') return 'decimal';
  if (base === 'float' || base === 'double') return 'float';
  if (base === 'date') return 'date';
  if (base === 'datetime' || base === 'timestamp') return 'datetime';
  if (base === 'time') return 'time';
  return 'string';
}

function badCursor(value: string, kind: string): RivetError {
  return new RivetError('STATE', `the stored cursor value ${JSON.stringify(value)} is not a valid ${kind} for this cursor column`, {
    hint: 'the cursor column changed type since the last run; reset the export state (`rivet state reset`) to start over',
  });
}

/**
 * MySQL / MariaDB SQL for the export modes. Sessions run with `time_zone = '+00:00'`, so
 * TIMESTAMP columns compare and print in UTC while DATETIME compares by wall clock.
 * Needs window functions (MySQL 8.0, MariaDB 10.2) for dense and sparse chunking only.
 */
export const mysqlDialect: SqlDialect = defaultDialect({
  engine: 'mysql',
  queryText: mysqlQueryText,
  quoteIdent,
  ...mysqlKeysetSql,
  keyText: (expr) => `CAST(${expr} AS CHAR)`,
  countText: (expr) => `CAST(COUNT(${expr}) AS CHAR)`,
  valueText: (expr) => `CAST(${expr} AS CHAR)`,
  /** The session zone is UTC, so a TIMESTAMP column is cut at UTC midnight and a DATETIME by wall clock. */
  midnightLiteral: (day) => `'${day} 00:00:00'`,

  // DATEDIFF takes the date part of DATETIME/TIMESTAMP; FLOOR keeps days before 1970 in the right bucket.
  dayBucketsSql: (baseSql, column, days) =>
    `SELECT DISTINCT CAST(FLOOR(DATEDIFF(${column}, '1970-01-01') / ${days}) AS SIGNED) AS b FROM ${wrapBase(baseSql)} WHERE ${column} IS NOT NULL ORDER BY b`,

  primaryKeySql(table) {
    const schema = table.schema ? mysqlTextLiteral(table.schema) : 'DATABASE()';
    return (
      'SELECT CAST(c.COLUMN_NAME AS CHAR), CAST(c.DATA_TYPE AS CHAR) FROM information_schema.KEY_COLUMN_USAGE k ' +
      'JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = k.TABLE_SCHEMA AND c.TABLE_NAME = k.TABLE_NAME AND c.COLUMN_NAME = k.COLUMN_NAME ' +
      `WHERE k.CONSTRAINT_NAME = 'PRIMARY' AND k.TABLE_SCHEMA = ${schema} AND k.TABLE_NAME = ${mysqlTextLiteral(table.name)}`
    );
  },

  isIntegerKeyType: (type) => ['tinyint', 'smallint', 'mediumint', 'int', 'bigint'].includes(type.toLowerCase()),

  /** MySQL has no typeof(): the type comes from the result metadata of a zero-row probe. */
  async cursorType(c: CursorSql, probe: SqlProbe): Promise<string> {
    const schema = await probe.describe(`SELECT ${c.expr} AS c ${c.from}`);
    return schema.fields[0]?.metadata.get(META_NATIVE_TYPE) ?? 'varchar';
  },

  /**
   * Integers and decimals are written bare (exact comparison; a quoted number would be
   * compared as a double), temporal values as CASTs, everything else as a text literal.
   */
  typedLiteral(value: string, type: string): string {
    const kind = cursorKind(type);
    switch (kind) {
      case 'integer':
        if (!/^-?\d+$/.test(value)) throw badCursor(value, 'integer');
        return value;
      case 'decimal':
        if (!/^-?\d+(\.\d+)?$/.test(value)) throw badCursor(value, 'decimal');
        return value;
      case 'float':
        if (!Number.isFinite(Number(value))) throw badCursor(value, 'number');
        return `CAST(${mysqlTextLiteral(value)} AS DOUBLE)`;
      case 'date':
        return `CAST(${mysqlTextLiteral(value)} AS DATE)`;
      case 'datetime':
        return `CAST(${mysqlTextLiteral(value)} AS DATETIME(6))`;
      case 'time':
        return `CAST(${mysqlTextLiteral(value)} AS TIME(6))`;
      case 'string':
        return mysqlTextLiteral(value);
    }
  },

  /** Date/time cursors step back with DATE_SUB (a DATE floors to its day), numbers by an amount. */
  lookbackSql(upper, floor, type, lookback) {
    const k = cursorKind(type);
    const back = lookbackStep(k === 'date' || k === 'datetime' ? 'time' : k === 'integer' || k === 'decimal' || k === 'float' ? 'number' : null, type, lookback);
    const value =
      back === 'time'
        ? `DATE_SUB(${upper}, INTERVAL ${(lookback as { seconds: number }).seconds} SECOND)`
        : `(${upper} - ${(lookback as { amount: string }).amount})`;
    const typed = k === 'date' ? `CAST(${value} AS DATE)` : value;
    return `SELECT CAST(${floor === null ? typed : `GREATEST(${typed}, ${floor})`} AS CHAR) AS since`;
  },
});
