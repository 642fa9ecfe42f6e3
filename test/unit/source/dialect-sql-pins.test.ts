import { readFileSync, writeFileSync } from 'node:fs';
import { Field, Schema, Utf8 } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { mssqlPartitionLabelsSql } from '../../../shared/source/mssql/mssql-partition.js';
import { mssqlDialect } from '../../../shared/source/mssql/mssql-dialect.js';
import { mysqlPartitionLabelsSql } from '../../../shared/source/mysql/mysql-partition.js';
import { mysqlDialect } from '../../../shared/source/mysql/mysql-dialect.js';
import { pgPartitionLabelsSql } from '../../../shared/source/postgres/pg-partition.js';
import { pgDialect } from '../../../shared/source/postgres/pg-dialect.js';
import type { Lookback, SqlDialect } from '../../../shared/source/sql-dialect.js';

/**
 * Every statement each engine's dialect emits for a fixed set of inputs, compared byte for
 * byte with dialect-sql-pins.json. A change to any engine's SQL shows up here as a diff of
 * that file; regenerate it (RIVET_WRITE_SQL_PINS=1) only for a change you mean.
 */
const PINS = new URL('./dialect-sql-pins.json', import.meta.url);

const BASE = 'SELECT * FROM s.t WHERE a = 1; -- trailing';
const BASE_BLOCK = 'select id, ts from "s"."t" /* c */ ;;';
const TABLES = [{ name: 'orders' }, { schema: 'sales', name: "o'rders" }];

const ENGINES: { name: string; d: SqlDialect; labels: (b: string, c: string, g: 'day' | 'month' | 'year') => string; types: string[]; literals: [string, string][] }[] = [
  {
    name: 'postgres',
    d: pgDialect,
    labels: pgPartitionLabelsSql,
    types: ['smallint', 'integer', 'bigint', 'numeric', 'text', 'uuid', 'BIGINT'],
    literals: [
      ['42', 'bigint'],
      ["it's \\ x", 'text'],
      ['2024-03-01 08:30:00.5+00', 'timestamp with time zone'],
    ],
  },
  {
    name: 'mysql',
    d: mysqlDialect,
    labels: mysqlPartitionLabelsSql,
    types: ['tinyint', 'int', 'BIGINT', 'decimal', 'varchar', 'year'],
    literals: [
      ['42', 'bigint unsigned'],
      ['1.5', 'decimal(10,2)'],
      ['2.5', 'double'],
      ['2024-03-01', 'date'],
      ['2024-03-01 08:30:00.500000', 'datetime(6)'],
      ['08:30:00', 'time'],
      ["it's", 'varchar(20)'],
      ['', 'varchar(20)'],
    ],
  },
  {
    name: 'mssql',
    d: mssqlDialect,
    labels: mssqlPartitionLabelsSql,
    types: ['tinyint', 'int', 'bigint', 'decimal(10,2)', 'nvarchar(50)', 'uniqueidentifier'],
    literals: [
      ['42', 'bigint'],
      ['1.5', 'decimal(10,2)'],
      ['2024-03-01T08:30:00.123', 'datetime'],
      ['2024-03-01T08:30:00.1234567', 'datetime2(7)'],
      ["it's", 'nvarchar(50)'],
    ],
  },
];

const LOOKBACKS: [string, Lookback][] = [
  ['seconds', { unit: 'seconds', seconds: 3600 }],
  ['number', { unit: 'number', amount: '10' }],
];

/** The lookback cursor types each engine accepts for a unit. */
const LOOKBACK_TYPES: Record<string, Record<string, string>> = {
  postgres: { seconds: 'timestamp with time zone', number: 'bigint' },
  mysql: { seconds: 'datetime(6)', number: 'bigint' },
  mssql: { seconds: 'datetime2(7)', number: 'bigint' },
};

async function statements(e: (typeof ENGINES)[number]): Promise<Record<string, string>> {
  const { d } = e;
  const q = d.quoteIdent;
  const col = q('i"d`]');
  const out: Record<string, string> = {};
  const put = (k: string, v: unknown) => {
    out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  };
  put('queryText', d.queryText(BASE));
  put('queryText block', d.queryText(BASE_BLOCK));
  put('quoteIdent', col);
  put('wrapBase', d.wrapBase(BASE));
  const input = { baseSql: BASE, column: col };
  put('chunk range', d.chunkSql(input, { kind: 'range', start: -5n, end: 9007199254740993n }));
  put('chunk null', d.chunkSql(input, { kind: 'null' }));
  put('chunk days', d.chunkSql(input, { kind: 'days', from: '2024-01-01', until: '2024-01-08' }));
  put('chunk dense', d.chunkSql({ ...input, columns: [q('a'), q('b')] }, { kind: 'dense', start: 1n, end: 10n }));
  put('chunk dense, no columns', d.chunkSql(input, { kind: 'dense', start: 11n, end: 20n }));
  put('chunk keyset both', d.chunkSql({ ...input, keyType: 'bigint' }, { kind: 'keyset', from: '10', until: '20' }));
  put('chunk keyset open start', d.chunkSql({ ...input, keyType: e.literals.at(-1)![1] }, { kind: 'keyset', from: null, until: "m'n" }));
  put('chunk keyset open end', d.chunkSql({ ...input, keyType: 'bigint' }, { kind: 'keyset', from: '10', until: null }));
  put('chunk keyset unbounded', d.chunkSql({ ...input, keyType: 'bigint' }, { kind: 'keyset', from: null, until: null }));
  put('keyStats', d.keyStatsSql(BASE, col));
  put('sparseStarts', d.sparseStartsSql(BASE, col, 1000n));
  put('dayStats', d.dayStatsSql(BASE, col));
  put('dayBuckets', d.dayBucketsSql(BASE, col, 7));
  put('count', d.countSql(BASE));
  for (const [i, t] of TABLES.entries()) {
    put(`primaryKey ${i}`, d.primaryKeySql(t));
    put(`keysetKeys ${i}`, d.keysetKeysSql(t));
    put(`avgRowBytes ${i}`, d.avgRowBytesSql(t));
  }
  put('isIntegerKeyType', e.types.map((t) => [t, d.isIntegerKeyType(t)]));
  const c = d.cursorSql(BASE, 'up"da`te]d');
  const cf = d.cursorSql(BASE, 'a', 'b');
  put('cursor expr', c.expr);
  put('cursor from', c.from);
  put('cursor coalesce expr', cf.expr);
  put('keysetBoundary first', d.keysetBoundarySql(c, null, 0n));
  put('keysetBoundary from', d.keysetBoundarySql(c, 'L', 5000n));
  const sent: string[] = [];
  const probe = {
    rows: async (sql: string) => {
      sent.push(sql);
      return [['bigint']];
    },
    describe: async (sql: string) => {
      sent.push(sql);
      return new Schema([new Field('c', new Utf8(), true, new Map([['rivet.native_type', 'bigint']]))]);
    },
  };
  put('cursorType result', await d.cursorType(c, probe));
  put('cursorType probe', sent);
  for (const [value, type] of e.literals) put(`typedLiteral ${type} ${JSON.stringify(value)}`, d.typedLiteral(value, type));
  put('upperBound first', d.upperBoundSql(c, null));
  put('upperBound after', d.upperBoundSql(c, 'L'));
  put('nullCursorCount', d.nullCursorCountSql(c));
  for (const lower of [null, 'L']) {
    for (const upper of [null, 'U']) {
      put(`window ${lower} ${upper}`, d.windowSql(c, lower, upper));
      put(`window ${lower} ${upper} boundary`, d.windowSql(c, lower, upper, { inclusive: true, reread: 'R', near: 'N' }));
      put(`window ${lower} ${upper} boundary, no reread`, d.windowSql(c, lower, upper, { inclusive: false, reread: null, near: 'N' }));
    }
  }
  for (const [unit, lb] of LOOKBACKS) {
    const type = LOOKBACK_TYPES[e.name][unit];
    put(`lookback ${unit}`, d.lookbackSql('U', null, type, lb));
    put(`lookback ${unit} floored`, d.lookbackSql('U', 'F', type, lb));
  }
  const cutoff = new Date('2026-03-07T00:00:00Z');
  put('timeWindow timestamp', d.timeWindowSql(BASE, 'created at', cutoff, 'timestamp'));
  put('timeWindow unix', d.timeWindowSql(BASE, 'created at', cutoff, 'unix'));
  for (const g of ['day', 'month', 'year'] as const) put(`partition labels ${g}`, e.labels(BASE, col, g));
  return out;
}

describe('the SQL each engine emits is pinned', async () => {
  const actual: Record<string, Record<string, string>> = {};
  for (const e of ENGINES) actual[e.name] = await statements(e);
  if (process.env.RIVET_WRITE_SQL_PINS === '1') writeFileSync(PINS, JSON.stringify(actual, null, 2) + '\n');
  const pinned = JSON.parse(readFileSync(PINS, 'utf8')) as Record<string, Record<string, string>>;

  for (const e of ENGINES) {
    it(`${e.name}: every statement byte for byte`, () => {
      expect(Object.keys(actual[e.name])).toEqual(Object.keys(pinned[e.name]));
      for (const [k, v] of Object.entries(pinned[e.name])) expect(actual[e.name][k], k).toBe(v);
    });
  }
});
