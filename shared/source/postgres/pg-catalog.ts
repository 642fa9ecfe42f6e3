import type pg from 'pg';
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
import { connectPg } from './pg-connect.js';
import { pgDialect } from './pg-dialect.js';
import { pgQueryError } from './pg-errors.js';
import { pgQueryText } from './pg-query-text.js';

const INDEX_NODE = /Index Scan|Index Only Scan|Bitmap Index Scan/;

/**
 * PostgreSQL catalog: pg_class (reltuples, relkind), pg_total_relation_size, pg_index,
 * pg_stats and information_schema.columns. The session is read-only and every statement
 * runs under `statement_timeout`, so nothing here can write or run for long.
 */
class PgCatalog implements SourceCatalog {
  readonly engine = 'postgres' as const;
  readonly dialect = pgDialect;

  constructor(private readonly client: pg.Client) {}

  private async q<T extends pg.QueryResultRow>(text: string, values: unknown[], action: string): Promise<T[]> {
    try {
      return (await this.client.query<T>(text, values)).rows;
    } catch (e) {
      throw pgQueryError(e, { action });
    }
  }

  async defaultSchema(): Promise<string | null> {
    const rows = await this.q<{ s: string | null }>('SELECT current_schema() AS s', [], 'reading the current schema');
    return rows[0]?.s ?? null;
  }

  async listTables(schema: string): Promise<CatalogTable[]> {
    // Partitions are left out: the parent covers them, and a scaffold per partition is noise.
    const rows = await this.q<{ name: string; kind: string; rows: number; bytes: number | null }>(
      `SELECT c.relname AS name, c.relkind::text AS kind, GREATEST(c.reltuples, 0)::float8 AS rows,
              CASE WHEN c.relkind IN ('r', 'p', 'm') THEN pg_total_relation_size(c.oid)::float8 END AS bytes
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
        ORDER BY c.relname`,
      [schema],
      `listing the tables of schema "${schema}"`,
    );
    return rows.map((r) => ({
      schema,
      name: r.name,
      kind: r.kind === 'v' ? 'view' : 'table',
      rowEstimate: Math.max(0, Math.round(r.rows)),
      ...(r.bytes === null ? {} : { totalBytes: r.bytes }),
    }));
  }

  async describeTable(schema: string, table: string): Promise<TableDescription | null> {
    const rel = await this.q<{ oid: number; kind: string; rows: number; bytes: number | null }>(
      `SELECT c.oid::int8::float8 AS oid, c.relkind::text AS kind, GREATEST(c.reltuples, 0)::float8 AS rows,
              CASE WHEN c.relkind IN ('r', 'p', 'm') THEN pg_total_relation_size(c.oid)::float8 END AS bytes
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2`,
      [schema, table],
      `looking up table "${schema}"."${table}"`,
    );
    const r = rel[0];
    if (!r) return null;
    const cols = await this.q<{ name: string; data_type: string; udt_name: string; nullable: string; precision: number | null; scale: number | null }>(
      `SELECT column_name AS name, data_type, udt_name, is_nullable AS nullable,
              numeric_precision::int AS precision, numeric_scale::int AS scale
         FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [schema, table],
      `reading the columns of "${schema}"."${table}"`,
    );
    if (cols.length === 0) return null;
    const indexes = await this.indexes(r.oid);
    const pk = indexes.find((i) => i.primary);
    return {
      schema,
      name: table,
      kind: r.kind === 'v' ? 'view' : 'table',
      rowEstimate: Math.max(0, Math.round(r.rows)),
      ...(r.bytes === null ? {} : { totalBytes: r.bytes }),
      columns: cols.map((c) => ({
        name: c.name,
        // Arrays and enums say ARRAY / USER-DEFINED; the udt name is what a reader recognises.
        dataType: c.data_type === 'ARRAY' || c.data_type === 'USER-DEFINED' ? c.udt_name : c.data_type.toLowerCase(),
        nullable: c.nullable === 'YES',
        numericPrecision: c.data_type === 'numeric' ? c.precision : null,
        numericScale: c.data_type === 'numeric' ? c.scale : null,
      })),
      primaryKey: pk ? pk.columns : [],
      indexes,
    };
  }

  private async indexes(relOid: number): Promise<CatalogIndex[]> {
    // Key columns only (INCLUDE columns cannot serve a range predicate); an expression key
    // shows as "(expression)" so it never passes for the column it mentions.
    const rows = await this.q<{ name: string; uniq: boolean; prim: boolean; am: string; columns: string[] }>(
      `SELECT ic.relname AS name, i.indisunique AS uniq, i.indisprimary AS prim, am.amname AS am,
              ARRAY(SELECT COALESCE(a.attname::text, '(expression)')
                      FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                      LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum AND k.attnum > 0
                     WHERE k.ord <= i.indnkeyatts ORDER BY k.ord) AS columns
         FROM pg_catalog.pg_index i
         JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
         JOIN pg_catalog.pg_am am ON am.oid = ic.relam
        WHERE i.indrelid = $1::int8::oid AND i.indisvalid
        ORDER BY i.indisprimary DESC, ic.relname`,
      [relOid],
      'reading indexes',
    );
    return rows.map((r) => ({ name: r.name, columns: r.columns, unique: r.uniq, primary: r.prim, ordered: r.am === 'btree' }));
  }

  async columnStats(schema: string, table: string, column: string): Promise<ColumnStats> {
    const q = pgDialect.quoteIdent;
    let min: string | null = null;
    let max: string | null = null;
    try {
      const rows = await this.client.query<{ mn: string | null; mx: string | null }>(
        `SELECT min(${q(column)})::text AS mn, max(${q(column)})::text AS mx FROM ${q(schema)}.${q(table)}`,
      );
      min = rows.rows[0]?.mn ?? null;
      max = rows.rows[0]?.mx ?? null;
    } catch {
      // A timeout or a type without ordering: the statistics below may still say something.
    }
    const stats = await this.q<{ null_frac: number | null; n_distinct: number | null; rows: number }>(
      `SELECT s.null_frac::float8 AS null_frac, s.n_distinct::float8 AS n_distinct, GREATEST(c.reltuples, 0)::float8 AS rows
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_catalog.pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = $3
        WHERE n.nspname = $1 AND c.relname = $2`,
      [schema, table, column],
      'reading column statistics',
    );
    const s = stats[0];
    const out: ColumnStats = { min, max };
    if (s && s.null_frac !== null) out.nullEstimate = Math.round(s.null_frac * s.rows);
    // Negative n_distinct is a fraction of the row count (the planner's way to say "scales with the table").
    if (s && s.n_distinct !== null) out.distinctEstimate = Math.round(s.n_distinct < 0 ? -s.n_distinct * s.rows : s.n_distinct);
    return out;
  }

  async queryRange(sql: string, column: string): Promise<{ min: string | null; max: string | null }> {
    const c = `_rivet.${pgDialect.quoteIdent(column)}`;
    try {
      const res = await this.client.query<{ mn: string | null; mx: string | null }>(
        `SELECT min(${c})::text AS mn, max(${c})::text AS mx FROM (\n${pgQueryText(sql)}\n) AS _rivet`,
      );
      return { min: res.rows[0]?.mn ?? null, max: res.rows[0]?.mx ?? null };
    } catch {
      return { min: null, max: null };
    }
  }

  async explain(sql: string): Promise<PlanEstimate> {
    const rows = await this.q<{ 'QUERY PLAN': string }>(`EXPLAIN ${pgQueryText(sql)}`, [], 'explaining the query');
    const lines = rows.map((r) => r['QUERY PLAN']);
    const m = /rows=(\d+)/.exec(lines[0] ?? '');
    const scanLine = lines.find((l) => /scan/i.test(l)) ?? lines[0] ?? 'unknown';
    return {
      rows: m ? Number(m[1]) : null,
      scan: scanLine.trim().replace(/^->\s*/, '').replace(/\s+\(cost=.*$/, ''),
      indexed: lines.some((l) => INDEX_NODE.test(l)),
    };
  }

  async maxConnections(): Promise<number | null> {
    try {
      const res = await this.client.query<{ m: number }>("SELECT current_setting('max_connections')::int AS m");
      return res.rows[0]?.m ?? null;
    } catch {
      return null;
    }
  }

  async resultColumns(sql: string): Promise<ResultColumn[]> {
    let fields: { name: string; dataTypeID: number }[];
    try {
      fields = (await this.client.query({ text: `SELECT * FROM (\n${pgQueryText(sql)}\n) AS _rivet_probe LIMIT 0`, rowMode: 'array' })).fields;
    } catch (e) {
      throw pgQueryError(e, { action: 'describing the query' });
    }
    const oids = [...new Set(fields.map((f) => f.dataTypeID))];
    const names = await this.q<{ oid: number; typname: string }>(
      'SELECT oid::int8::float8 AS oid, typname::text AS typname FROM pg_catalog.pg_type WHERE oid = ANY($1::oid[])',
      [oids],
      'reading type names',
    );
    const byOid = new Map(names.map((n) => [n.oid, n.typname]));
    return fields.map((f) => ({ name: f.name, nativeType: byOid.get(f.dataTypeID) ?? `oid ${f.dataTypeID}` }));
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {});
  }
}

/** Connect and make the session read-only with a statement timeout before any catalog query. */
export const openPostgresCatalog: OpenCatalog = async (options) => {
  const client = await connectPg(options.connection, options.log);
  try {
    const ms = Math.max(1, Math.round(options.statementTimeoutMs ?? DEFAULT_CATALOG_TIMEOUT_MS));
    await client.query(`SET statement_timeout = ${ms}`);
    await client.query('SET default_transaction_read_only = on');
  } catch (e) {
    await client.end().catch(() => {});
    throw pgQueryError(e, { action: 'preparing the introspection session' });
  }
  return new PgCatalog(client);
};
