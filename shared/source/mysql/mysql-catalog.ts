import type mysql from 'mysql2';
import {
  DEFAULT_CATALOG_TIMEOUT_MS,
  type CatalogIndex,
  type CatalogTable,
  type ColumnStats,
  type OpenCatalog,
  type PlanEstimate,
  type ResultColumn,
  type SourceCatalog,
  type TableDescription,
} from '../source-catalog.js';
import { connectMysql, queryAsync } from './mysql-connect.js';
import { mysqlDialect } from './mysql-dialect.js';
import { mysqlQueryError } from './mysql-errors.js';
import { mysqlQueryText } from './mysql-query-text.js';
import { autodetectMysqlType, type MyField } from './mysql-types.js';

/** EXPLAIN access types that read through an index (the rest scan the table). */
const INDEX_ACCESS = new Set(['ref', 'range', 'index', 'eq_ref', 'const']);

type Row = Record<string, unknown>;

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/**
 * MySQL / MariaDB catalog from information_schema (tables, columns, statistics). The
 * session is READ ONLY and every SELECT has a time ceiling (`max_statement_time` on MariaDB,
 * `max_execution_time` on MySQL).
 */
class MysqlCatalog implements SourceCatalog {
  readonly engine = 'mysql' as const;
  readonly dialect = mysqlDialect;

  constructor(private readonly conn: mysql.Connection) {}

  private q(sql: string, values: unknown[], action: string): Promise<Row[]> {
    return new Promise((resolve, reject) => {
      this.conn.query(sql, values, (err, rows) => (err ? reject(mysqlQueryError(err, { action })) : resolve(rows as Row[])));
    });
  }

  async defaultSchema(): Promise<string | null> {
    const rows = await this.q('SELECT DATABASE() AS db', [], 'reading the current database');
    return str(rows[0]?.db);
  }

  async listTables(schema: string): Promise<CatalogTable[]> {
    const rows = await this.q(
      `SELECT TABLE_NAME AS name, TABLE_TYPE AS kind, TABLE_ROWS AS row_count, DATA_LENGTH + INDEX_LENGTH AS bytes
         FROM information_schema.tables WHERE TABLE_SCHEMA = ? AND TABLE_TYPE IN ('BASE TABLE', 'VIEW') ORDER BY TABLE_NAME`,
      [schema],
      `listing the tables of database \`${schema}\``,
    );
    return rows.map((r) => tableOf(schema, r));
  }

  async describeTable(schema: string, table: string): Promise<TableDescription | null> {
    const t = await this.q(
      `SELECT TABLE_NAME AS name, TABLE_TYPE AS kind, TABLE_ROWS AS row_count, DATA_LENGTH + INDEX_LENGTH AS bytes
         FROM information_schema.tables WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`,
      [schema, table],
      `looking up table \`${schema}\`.\`${table}\``,
    );
    if (!t[0]) return null;
    const cols = await this.q(
      `SELECT COLUMN_NAME AS name, DATA_TYPE AS data_type, IS_NULLABLE AS nullable, NUMERIC_PRECISION AS prec,
              NUMERIC_SCALE AS scale, COLUMN_KEY AS col_key
         FROM information_schema.columns WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
      [schema, table],
      `reading the columns of \`${schema}\`.\`${table}\``,
    );
    if (cols.length === 0) return null;
    const stats = await this.q(
      `SELECT INDEX_NAME AS name, SEQ_IN_INDEX AS seq, COLUMN_NAME AS col, NON_UNIQUE AS non_unique, INDEX_TYPE AS itype
         FROM information_schema.statistics WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
      [schema, table],
      'reading indexes',
    );
    const byName = new Map<string, CatalogIndex>();
    for (const s of stats) {
      const name = String(s.name);
      let idx = byName.get(name);
      if (!idx) {
        idx = { name, columns: [], unique: num(s.non_unique) === 0, primary: name === 'PRIMARY', ordered: String(s.itype).toUpperCase() === 'BTREE' };
        byName.set(name, idx);
      }
      // A functional key part has no column name.
      idx.columns.push(str(s.col) ?? '(expression)');
    }
    const indexes = [...byName.values()].sort((a, b) => Number(b.primary) - Number(a.primary) || a.name.localeCompare(b.name));
    const isDecimal = (t: string) => t === 'decimal' || t === 'numeric';
    return {
      ...tableOf(schema, t[0]),
      columns: cols.map((c) => {
        const dataType = String(c.data_type).toLowerCase();
        return {
          name: String(c.name),
          dataType,
          nullable: c.nullable === 'YES',
          numericPrecision: isDecimal(dataType) ? num(c.prec) : null,
          numericScale: isDecimal(dataType) ? num(c.scale) : null,
        };
      }),
      primaryKey: cols.filter((c) => c.col_key === 'PRI').map((c) => String(c.name)),
      indexes,
    };
  }

  async columnStats(schema: string, table: string, column: string): Promise<ColumnStats> {
    const q = mysqlDialect.quoteIdent;
    let min: string | null = null;
    let max: string | null = null;
    try {
      const rows = await this.q(`SELECT CAST(MIN(${q(column)}) AS CHAR) AS mn, CAST(MAX(${q(column)}) AS CHAR) AS mx FROM ${q(schema)}.${q(table)}`, [], 'reading the column range');
      min = str(rows[0]?.mn);
      max = str(rows[0]?.mx);
    } catch {
      // timed out or not orderable: leave the range unknown
    }
    const card = await this.q(
      `SELECT MAX(CARDINALITY) AS card FROM information_schema.statistics
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = ? AND SEQ_IN_INDEX = 1`,
      [schema, table, column],
      'reading index statistics',
    );
    const out: ColumnStats = { min, max };
    if (card[0]?.card !== null && card[0]?.card !== undefined) out.distinctEstimate = num(card[0].card);
    return out;
  }

  async queryRange(sql: string, column: string): Promise<{ min: string | null; max: string | null }> {
    const c = `_rivet.${mysqlDialect.quoteIdent(column)}`;
    try {
      const rows = await this.q(`SELECT CAST(MIN(${c}) AS CHAR) AS mn, CAST(MAX(${c}) AS CHAR) AS mx FROM (\n${mysqlQueryText(sql)}\n) AS _rivet`, [], 'reading the range');
      return { min: str(rows[0]?.mn), max: str(rows[0]?.mx) };
    } catch {
      return { min: null, max: null };
    }
  }

  async explain(sql: string): Promise<PlanEstimate> {
    const rows = await this.q(`EXPLAIN ${mysqlQueryText(sql)}`, [], 'explaining the query');
    const first = rows[0] ?? {};
    const type = str(first.type);
    const key = str(first.key);
    return {
      rows: first.rows === null || first.rows === undefined ? null : num(first.rows),
      scan: type ? (key ? `${type} using ${key}` : type) : 'unknown',
      indexed: type !== null && INDEX_ACCESS.has(type),
    };
  }

  async maxConnections(): Promise<number | null> {
    try {
      const rows = await this.q('SELECT @@max_connections AS m', [], 'reading max_connections');
      return rows[0] ? num(rows[0].m) : null;
    } catch {
      return null;
    }
  }

  async resultColumns(sql: string): Promise<ResultColumn[]> {
    const fields = await new Promise<MyField[]>((resolve, reject) => {
      this.conn.query(`SELECT * FROM (\n${mysqlQueryText(sql)}\n) AS _rivet_probe LIMIT 0`, (err, _rows, f) =>
        err ? reject(mysqlQueryError(err, { action: 'describing the query' })) : resolve((f ?? []) as unknown as MyField[]),
      );
    });
    return fields.map((f) => ({ name: f.name, nativeType: autodetectMysqlType(f).nativeType }));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.conn.end(() => resolve()));
  }
}

function tableOf(schema: string, r: Row): CatalogTable {
  const view = r.kind === 'VIEW';
  return {
    schema,
    name: String(r.name),
    kind: view ? 'view' : 'table',
    rowEstimate: Math.max(0, num(r.row_count)),
    ...(view || r.bytes === null || r.bytes === undefined ? {} : { totalBytes: num(r.bytes) }),
  };
}

export const openMysqlCatalog: OpenCatalog = async (options) => {
  const session = await connectMysql(options.connection, options.log);
  const ms = Math.max(1, Math.round(options.statementTimeoutMs ?? DEFAULT_CATALOG_TIMEOUT_MS));
  try {
    await queryAsync(session.conn, 'SET SESSION TRANSACTION READ ONLY');
    await queryAsync(
      session.conn,
      session.mariadb ? `SET SESSION max_statement_time = ${(ms / 1000).toFixed(3)}` : `SET SESSION max_execution_time = ${ms}`,
    );
  } catch (e) {
    session.conn.destroy();
    throw mysqlQueryError(e, { action: 'preparing the introspection session' });
  }
  return new MysqlCatalog(session.conn);
};
