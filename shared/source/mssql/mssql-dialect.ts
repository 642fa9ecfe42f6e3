import { RivetError } from '../../errors/rivet-error.js';
import { META_NATIVE_TYPE } from '../../types/rivet-type.js';
import { defaultDialect } from '../default-dialect.js';
import type { CursorSql, SqlDialect, SqlProbe } from '../sql-dialect.js';
import { mssqlKeysetSql } from './mssql-keyset.js';
import { lookbackStep } from '../lookback-step.js';
import { mssqlQueryText } from './mssql-query-text.js';

function quoteIdent(name: string): string {
  return `[${name.replace(/]/g, ']]')}]`;
}

/** Newlines around the body: a trailing `--` comment must not swallow the closing parenthesis. */
function wrapBase(baseSql: string): string {
  return `(\n${mssqlQueryText(baseSql)}\n) AS _rivet`;
}

/** A Unicode string literal with quotes doubled (T-SQL has no backslash escapes). */
export function mssqlTextLiteral(value: string): string {
  return `N'${value.replace(/'/g, "''")}'`;
}

/**
 * `YYYY-MM-DD` as `'YYYYMMDD'`: the one date literal SQL Server reads the same under every
 * SET DATEFORMAT / SET LANGUAGE, for date, datetime, smalldatetime, datetime2 and
 * datetimeoffset (where it means midnight UTC). A bare literal converts to the column's
 * type, so an index on the column is still used.
 */
function dayLiteral(day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`internal: not a YYYY-MM-DD day: ${day}`);
  return `'${day.replace(/-/g, '')}'`;
}

/** The UTC calendar date of any date/time expression (zone-less values are taken as they are). */
function utcDate(expr: string): string {
  return `CONVERT(date, SWITCHOFFSET(CONVERT(datetimeoffset, ${expr}), '+00:00'))`;
}

const count = (expr: string) => `CAST(COUNT_BIG(${expr}) AS NVARCHAR(20))`;

/** Style 126 is ISO 8601, which CAST reads back exactly. */
const valueText = (expr: string) => `CONVERT(NVARCHAR(4000), ${expr}, 126)`;

const INTEGER_TYPES = ['tinyint', 'smallint', 'int', 'bigint'];
const EXACT_NUMBER_TYPES = ['decimal', 'numeric', 'money', 'smallmoney'];

function baseTypeName(type: string): string {
  return type.toLowerCase().replace(/\(.*$/, '').trim();
}

function badCursor(value: string, kind: string): RivetError {
  return new RivetError('STATE', `the stored cursor value ${JSON.stringify(value)} is not a valid ${kind} for this cursor column`, {
    hint: 'the cursor column changed type since the last run; reset the export state (`rivet state reset`) to start over',
  });
}

const dialect = defaultDialect({
  engine: 'mssql',
  queryText: mssqlQueryText,
  quoteIdent,
  ...mssqlKeysetSql,
  keyText: (expr) => `CAST(${expr} AS NVARCHAR(100))`,
  countText: count,
  valueText,
  dayLiteral,
  /**
   * `'YYYYMMDD'` converts to the column's type: a datetimeoffset column is cut at UTC
   * midnight, datetime/datetime2/date columns by wall clock.
   */
  midnightLiteral: dayLiteral,
  dayText: (expr) => `CONVERT(NVARCHAR(10), ${utcDate(expr)}, 23)`,
  rowAt: (offset) => ` OFFSET ${offset} ROWS FETCH NEXT 1 ROWS ONLY`,

  // FLOOR over a decimal quotient keeps days before 1970 in the right bucket (integer division truncates toward zero).
  dayBucketsSql: (baseSql, column, days) =>
    `SELECT CAST(b AS NVARCHAR(20)) FROM (SELECT DISTINCT CAST(FLOOR(DATEDIFF(DAY, '19700101', ${utcDate(column)}) / ${days}.0) AS BIGINT) AS b FROM ${wrapBase(baseSql)} WHERE ${column} IS NOT NULL) AS _rivet_d ORDER BY b`,

  primaryKeySql(table) {
    const qualified = table.schema ? `${quoteIdent(table.schema)}.${quoteIdent(table.name)}` : quoteIdent(table.name);
    return (
      'SELECT CAST(c.name AS NVARCHAR(128)), CAST(TYPE_NAME(c.system_type_id) AS NVARCHAR(128)) FROM sys.indexes i ' +
      'JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id ' +
      'JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id ' +
      `WHERE i.is_primary_key = 1 AND i.object_id = OBJECT_ID(${mssqlTextLiteral(qualified)}) ORDER BY ic.key_ordinal`
    );
  },

  isIntegerKeyType: (type) => INTEGER_TYPES.includes(baseTypeName(type)),

  /** The type comes from the result metadata of a zero-row (TOP 0) probe: `int`, `datetime2(7)`, `nvarchar(50)`… */
  async cursorType(c: CursorSql, probe: SqlProbe): Promise<string> {
    const schema = await probe.describe(`SELECT ${c.expr} AS c ${c.from}`);
    return schema.fields[0]?.metadata.get(META_NATIVE_TYPE) ?? 'nvarchar(max)';
  },

  /**
   * Integers and exact decimals are written bare (exact comparison); everything else is a
   * Unicode literal CAST to the column's own type, so the column is not converted and its
   * index is still used. datetime/smalldatetime take no more than 3 fraction digits from a
   * string, so they go through datetime2 first.
   */
  typedLiteral(value: string, type: string): string {
    const base = baseTypeName(type);
    if (INTEGER_TYPES.includes(base)) {
      if (!/^-?\d+$/.test(value)) throw badCursor(value, 'integer');
      return value;
    }
    if (EXACT_NUMBER_TYPES.includes(base)) {
      if (!/^-?\d+(\.\d+)?$/.test(value)) throw badCursor(value, 'decimal');
      return value;
    }
    if (base === 'datetime' || base === 'smalldatetime') return `CAST(CAST(${mssqlTextLiteral(value)} AS datetime2(7)) AS ${base})`;
    if (!/^[a-z0-9_ ]+(\(\s*(max|\d+)(\s*,\s*\d+)?\s*\))?$/i.test(type)) throw new Error(`internal: unexpected SQL Server type name ${JSON.stringify(type)}`);
    return `CAST(${mssqlTextLiteral(value)} AS ${type})`;
  },

  /** Date/time cursors step back with DATEADD, numbers by an amount (no GREATEST before SQL Server 2022: a CASE). */
  lookbackSql(upper, floor, type, lookback) {
    const base = baseTypeName(type);
    const kind = ['date', 'datetime', 'datetime2', 'smalldatetime', 'datetimeoffset'].includes(base)
      ? 'time'
      : [...INTEGER_TYPES, ...EXACT_NUMBER_TYPES, 'float', 'real'].includes(base)
        ? 'number'
        : null;
    const back = lookbackStep(kind, type, lookback);
    const value =
      back === 'time'
        ? `CAST(DATEADD(second, -${(lookback as { seconds: number }).seconds}, ${upper}) AS ${type})`
        : `CAST(${upper} - ${(lookback as { amount: string }).amount} AS ${type})`;
    const bounded = floor === null ? value : `CASE WHEN ${value} > ${floor} THEN ${value} ELSE ${floor} END`;
    return `SELECT CONVERT(NVARCHAR(4000), ${bounded}, 126) AS since`;
  },
});

/**
 * SQL Server (T-SQL) for the export modes. Row limits use TOP, never LIMIT; chunks are
 * predicates on the key (BETWEEN / >= <) or ROW_NUMBER() ordinals, never OFFSET/FETCH
 * windows. Probe queries return NVARCHAR text; date/time values are printed with style 126
 * (ISO 8601), which CAST reads back exactly.
 */
export const mssqlDialect: SqlDialect = {
  ...dialect,
  upperBoundSql(c, lower) {
    const where = lower === null ? `${c.expr} IS NOT NULL` : `${c.expr} > ${lower}`;
    return `SELECT TOP 1 ${valueText(c.expr)} AS hi ${c.from} WHERE ${where} ORDER BY ${c.expr} DESC`;
  },
};
