import { RivetError } from '../../errors/rivet-error.js';
import { META_NATIVE_TYPE } from '../../types/rivet-type.js';
import { BOUNDARY_FLAG_COLUMN, type ChunkPredicate, type ChunkSqlInput, type CursorSql, type SqlDialect, type SqlProbe } from '../sql-dialect.js';
import { keysetWhere } from '../keyset-condition.js';
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
export const mysqlDialect: SqlDialect = {
  engine: 'mysql',
  queryText: mysqlQueryText,
  quoteIdent,
  wrapBase,
  ...mysqlKeysetSql,

  chunkSql({ baseSql, column, columns, keyType }: ChunkSqlInput, p: ChunkPredicate): string {
    switch (p.kind) {
      case 'keyset':
        return `SELECT * FROM ${wrapBase(baseSql)}${keysetWhere(column, p, (v) => mysqlDialect.typedLiteral(v, keyType ?? 'text'))}`;
      case 'range':
        return `SELECT * FROM ${wrapBase(baseSql)} WHERE ${column} BETWEEN ${p.start} AND ${p.end}`;
      case 'null':
        return `SELECT * FROM ${wrapBase(baseSql)} WHERE ${column} IS NULL`;
      case 'days':
        return `SELECT * FROM ${wrapBase(baseSql)} WHERE ${column} >= '${p.from}' AND ${column} < '${p.until}'`;
      case 'dense': {
        const list = (columns ?? []).map((c) => `_rivet_w.${c}`).join(', ') || '_rivet_w.*';
        return (
          `SELECT ${list} FROM (SELECT _rivet_i.*, ROW_NUMBER() OVER (ORDER BY _rivet_i.${column}) AS _rivet_chunk_rn ` +
          `FROM (\n${mysqlQueryText(baseSql)}\n) AS _rivet_i) AS _rivet_w WHERE _rivet_w._rivet_chunk_rn BETWEEN ${p.start} AND ${p.end}`
        );
      }
    }
  },

  keyStatsSql: (baseSql, column) =>
    `SELECT CAST(MIN(${column}) AS CHAR), CAST(MAX(${column}) AS CHAR), CAST(COUNT(*) AS CHAR), CAST(COUNT(${column}) AS CHAR) FROM ${wrapBase(baseSql)}`,

  sparseStartsSql: (baseSql, column, size) =>
    `SELECT CAST(k AS CHAR) FROM (SELECT ${column} AS k, ROW_NUMBER() OVER (ORDER BY ${column}) AS rn FROM ${wrapBase(baseSql)} WHERE ${column} IS NOT NULL) AS _rivet_q WHERE (rn - 1) % ${size} = 0 ORDER BY k`,

  dayStatsSql: (baseSql, column) =>
    `SELECT CAST(MIN(${column}) AS CHAR), CAST(COUNT(*) AS CHAR), CAST(COUNT(${column}) AS CHAR) FROM ${wrapBase(baseSql)}`,

  // DATEDIFF takes the date part of DATETIME/TIMESTAMP; FLOOR keeps days before 1970 in the right bucket.
  dayBucketsSql: (baseSql, column, days) =>
    `SELECT DISTINCT CAST(FLOOR(DATEDIFF(${column}, '1970-01-01') / ${days}) AS SIGNED) AS b FROM ${wrapBase(baseSql)} WHERE ${column} IS NOT NULL ORDER BY b`,

  countSql: (baseSql) => `SELECT CAST(COUNT(*) AS CHAR) AS n FROM (\n${mysqlQueryText(baseSql)}\n) AS _rivet_count`,

  primaryKeySql(table) {
    const schema = table.schema ? mysqlTextLiteral(table.schema) : 'DATABASE()';
    return (
      'SELECT CAST(c.COLUMN_NAME AS CHAR), CAST(c.DATA_TYPE AS CHAR) FROM information_schema.KEY_COLUMN_USAGE k ' +
      'JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = k.TABLE_SCHEMA AND c.TABLE_NAME = k.TABLE_NAME AND c.COLUMN_NAME = k.COLUMN_NAME ' +
      `WHERE k.CONSTRAINT_NAME = 'PRIMARY' AND k.TABLE_SCHEMA = ${schema} AND k.TABLE_NAME = ${mysqlTextLiteral(table.name)}`
    );
  },

  isIntegerKeyType: (type) => ['tinyint', 'smallint', 'mediumint', 'int', 'bigint'].includes(type.toLowerCase()),

  cursorSql(baseSql: string, column: string, fallback?: string): CursorSql {
    const p = `_rivet.${quoteIdent(column)}`;
    return {
      expr: fallback ? `COALESCE(${p}, _rivet.${quoteIdent(fallback)})` : p,
      from: `FROM (\n${mysqlQueryText(baseSql)}\n) AS _rivet`,
    };
  },

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

  upperBoundSql(c, lower) {
    const where = lower === null ? `${c.expr} IS NOT NULL` : `${c.expr} > ${lower}`;
    return `SELECT CAST(${c.expr} AS CHAR) AS hi ${c.from} WHERE ${where} ORDER BY ${c.expr} DESC LIMIT 1`;
  },

  nullCursorCountSql: (c) => `SELECT CAST(COUNT(*) AS CHAR) AS n ${c.from} WHERE ${c.expr} IS NULL`,

  windowSql(c, lower, upper, boundary) {
    const conditions: string[] = [];
    if (lower !== null) conditions.push(`${c.expr} ${boundary?.inclusive ? '>=' : '>'} ${lower}`);
    if (upper !== null) conditions.push(lower === null ? `(${c.expr} <= ${upper} OR ${c.expr} IS NULL)` : `${c.expr} <= ${upper}`);
    const where = conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '';
    const flag = boundary
      ? `, (CASE WHEN ${boundary.reread === null ? '1 = 0' : `${c.expr} <= ${boundary.reread}`} THEN 1 ELSE 0 END + CASE WHEN ${c.expr} >= ${boundary.near} THEN 2 ELSE 0 END) AS ${BOUNDARY_FLAG_COLUMN}`
      : '';
    return `SELECT _rivet.*${flag} ${c.from}${where} ORDER BY ${c.expr}`;
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

  /** The session zone is UTC, so a TIMESTAMP column is cut at UTC midnight and a DATETIME by wall clock. */
  timeWindowSql(baseSql, column, cutoff, columnType) {
    const bound = columnType === 'unix' ? String(cutoff.getTime() / 1000) : `'${cutoff.toISOString().slice(0, 10)} 00:00:00'`;
    return `SELECT _rivet.* FROM (\n${mysqlQueryText(baseSql)}\n) AS _rivet WHERE _rivet.${quoteIdent(column)} >= ${bound}`;
  },
};
