import { keysetWhere } from './keyset-condition.js';
import { BOUNDARY_FLAG_COLUMN, type ChunkPredicate, type ChunkSqlInput, type CursorSql, type SqlDialect } from './sql-dialect.js';

/**
 * What an engine must say for the default builder to write its SQL: the statements that
 * read its catalog or its type system (its own), plus small hooks for the pieces of text the
 * shared statements differ in — how a value becomes text, how a day is written, how one row
 * of an ordered result is kept.
 */
export interface DialectHooks
  extends Pick<
    SqlDialect,
    | 'engine'
    | 'queryText'
    | 'quoteIdent'
    | 'typedLiteral'
    | 'cursorType'
    | 'dayBucketsSql'
    | 'primaryKeySql'
    | 'isIntegerKeyType'
    | 'keysetKeysSql'
    | 'avgRowBytesSql'
    | 'lookbackSql'
  > {
  /** A key (or MIN/MAX of one) as the engine's text, for key statistics and chunk starts. */
  keyText(expr: string): string;
  /** `COUNT(expr)` as the engine's text. */
  countText(expr: string): string;
  /** A cursor or key value as text that `typedLiteral` reads back as the same value. */
  valueText(expr: string): string;
  /** The literal for UTC midnight of `day` (`YYYY-MM-DD`) that a time_window column compares with. */
  midnightLiteral(day: string): string;
  /** A `YYYY-MM-DD` day as a chunk bound; default `'YYYY-MM-DD'`. */
  dayLiteral?(day: string): string;
  /** The earliest key's day as text whose first 10 characters are `YYYY-MM-DD`; default `keyText`. */
  dayText?(expr: string): string;
  /** Keeps the row at 0-based `offset` of an ordered result; default ` LIMIT 1 OFFSET <offset>`. */
  rowAt?(offset: bigint): string;
  /**
   * The cleaned base query in parentheses, inside chunk statements; default with a newline
   * on each side, so a trailing `--` comment the cleaning missed cannot swallow the `)`.
   */
  subquery?(cleaned: string): string;
}

/**
 * The SQL the three dialects share, written once: chunk predicates, key statistics, sparse
 * starts, counts, the incremental window and its probes, the time-window filter. An engine
 * builds its `SqlDialect` as `defaultDialect(hooks)` and overrides a statement only where its
 * grammar differs (SQL Server's TOP, for one).
 */
export function defaultDialect(h: DialectHooks): SqlDialect {
  const subquery = h.subquery ?? ((cleaned: string) => `(\n${cleaned}\n)`);
  const dayLiteral = h.dayLiteral ?? ((day: string) => `'${day}'`);
  const dayText = h.dayText ?? h.keyText;
  const rowAt = h.rowAt ?? ((offset: bigint) => ` LIMIT 1 OFFSET ${offset}`);
  const wrapBase = (baseSql: string) => `${subquery(h.queryText(baseSql))} AS _rivet`;
  // Newlines around the body: a trailing `--` comment must not swallow the closing parenthesis.
  const framed = (baseSql: string) => `(\n${h.queryText(baseSql)}\n)`;

  return {
    engine: h.engine,
    queryText: h.queryText,
    quoteIdent: h.quoteIdent,
    typedLiteral: h.typedLiteral,
    cursorType: h.cursorType,
    dayBucketsSql: h.dayBucketsSql,
    primaryKeySql: h.primaryKeySql,
    isIntegerKeyType: h.isIntegerKeyType,
    keysetKeysSql: h.keysetKeysSql,
    avgRowBytesSql: h.avgRowBytesSql,
    lookbackSql: h.lookbackSql,
    wrapBase,

    chunkSql({ baseSql, column, columns, keyType }: ChunkSqlInput, p: ChunkPredicate): string {
      switch (p.kind) {
        case 'keyset':
          return `SELECT * FROM ${wrapBase(baseSql)}${keysetWhere(column, p, (v) => h.typedLiteral(v, keyType ?? 'text'))}`;
        case 'range':
          return `SELECT * FROM ${wrapBase(baseSql)} WHERE ${column} BETWEEN ${p.start} AND ${p.end}`;
        case 'null':
          return `SELECT * FROM ${wrapBase(baseSql)} WHERE ${column} IS NULL`;
        case 'days':
          return `SELECT * FROM ${wrapBase(baseSql)} WHERE ${column} >= ${dayLiteral(p.from)} AND ${column} < ${dayLiteral(p.until)}`;
        case 'dense': {
          const list = (columns ?? []).map((c) => `_rivet_w.${c}`).join(', ') || '_rivet_w.*';
          return (
            `SELECT ${list} FROM (SELECT _rivet_i.*, ROW_NUMBER() OVER (ORDER BY _rivet_i.${column}) AS _rivet_chunk_rn ` +
            `FROM ${subquery(h.queryText(baseSql))} AS _rivet_i) AS _rivet_w WHERE _rivet_w._rivet_chunk_rn BETWEEN ${p.start} AND ${p.end}`
          );
        }
      }
    },

    keyStatsSql: (baseSql, column) =>
      `SELECT ${h.keyText(`MIN(${column})`)}, ${h.keyText(`MAX(${column})`)}, ${h.countText('*')}, ${h.countText(column)} FROM ${wrapBase(baseSql)}`,

    sparseStartsSql: (baseSql, column, size) =>
      `SELECT ${h.keyText('k')} FROM (SELECT ${column} AS k, ROW_NUMBER() OVER (ORDER BY ${column}) AS rn FROM ${wrapBase(baseSql)} WHERE ${column} IS NOT NULL) AS _rivet_q WHERE (rn - 1) % ${size} = 0 ORDER BY k`,

    dayStatsSql: (baseSql, column) => `SELECT ${dayText(`MIN(${column})`)}, ${h.countText('*')}, ${h.countText(column)} FROM ${wrapBase(baseSql)}`,

    countSql: (baseSql) => `SELECT ${h.countText('*')} AS n FROM ${framed(baseSql)} AS _rivet_count`,

    keysetBoundarySql: (c, from, offset) =>
      `SELECT ${h.valueText(c.expr)} AS k ${c.from} WHERE ${c.expr} IS NOT NULL${from === null ? '' : ` AND ${c.expr} >= ${from}`} ORDER BY ${c.expr}${rowAt(offset)}`,

    cursorSql(baseSql: string, column: string, fallback?: string): CursorSql {
      const p = `_rivet.${h.quoteIdent(column)}`;
      return {
        expr: fallback ? `COALESCE(${p}, _rivet.${h.quoteIdent(fallback)})` : p,
        from: `FROM ${framed(baseSql)} AS _rivet`,
      };
    },

    // ORDER BY … LIMIT 1 rather than MAX() so any ordered type works (PostgreSQL's uuid has no max()).
    upperBoundSql(c, lower) {
      const where = lower === null ? `${c.expr} IS NOT NULL` : `${c.expr} > ${lower}`;
      return `SELECT ${h.valueText(c.expr)} AS hi ${c.from} WHERE ${where} ORDER BY ${c.expr} DESC LIMIT 1`;
    },

    nullCursorCountSql: (c) => `SELECT ${h.countText('*')} AS n ${c.from} WHERE ${c.expr} IS NULL`,

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

    timeWindowSql(baseSql, column, cutoff, columnType) {
      const bound = columnType === 'unix' ? String(cutoff.getTime() / 1000) : h.midnightLiteral(cutoff.toISOString().slice(0, 10));
      return `SELECT _rivet.* FROM ${framed(baseSql)} AS _rivet WHERE _rivet.${h.quoteIdent(column)} >= ${bound}`;
    },
  };
}
