import type { Fidelity, RivetType } from '../types/rivet-type.js';

/**
 * How a Parquet column written by rivet lands in a warehouse (docs/reference/types.md): the native type it
 * should have, what the warehouse's schema autodetection would pick instead, whether that
 * is fine (`ok`), needs a cast after loading (`warn`), or cannot work (`fail`), and the
 * cast that recovers the native type.
 */
export type WarehouseTarget = 'bigquery' | 'duckdb' | 'snowflake';
export type TargetStatus = 'ok' | 'warn' | 'fail';

export interface TargetColumnSpec {
  column_name: string;
  target_type: string;
  autoload_type: string;
  status: TargetStatus;
  note?: string;
  /** With the column name already substituted for `{col}`. */
  cast_sql?: string;
}

interface Mapping {
  target: string;
  autoload?: string;
  status: TargetStatus;
  note?: string;
  cast?: string;
}

const ALIASES: Record<string, WarehouseTarget> = { bigquery: 'bigquery', bq: 'bigquery', duckdb: 'duckdb', duck: 'duckdb', snowflake: 'snowflake', sf: 'snowflake' };

/** `bigquery|bq`, `duckdb|duck`, `snowflake|sf`, any case; undefined for anything else. */
export function parseTarget(name: string | undefined): WarehouseTarget | undefined {
  return name === undefined ? undefined : ALIASES[name.trim().toLowerCase()];
}

export function targetColumn(target: WarehouseTarget, column: string, t: RivetType, fidelity: Fidelity): TargetColumnSpec {
  const m = target === 'bigquery' ? bigquery(t) : target === 'duckdb' ? duckdb(t) : snowflake(t);
  let status = m.status;
  // A lossy or unsupported source mapping is never "ok", whatever the warehouse makes of the result.
  if (status === 'ok' && (fidelity === 'lossy' || fidelity === 'unsupported')) status = 'warn';
  return {
    column_name: column,
    target_type: m.target,
    autoload_type: m.autoload ?? m.target,
    status,
    ...(m.note ? { note: m.note } : {}),
    ...(m.cast ? { cast_sql: m.cast.replaceAll('{col}', column) } : {}),
  };
}

function bigquery(t: RivetType): Mapping {
  switch (t.kind) {
    case 'bool':
      return { target: 'BOOL', status: 'ok' };
    case 'int16':
    case 'int32':
    case 'int64':
      return { target: 'INT64', status: 'ok' };
    case 'u_int64':
      return { target: 'NUMERIC', autoload: 'INT64', status: 'warn', note: 'values above 2^63-1 overflow INT64 on load and cannot be recovered; override the column as decimal(20,0)' };
    case 'float32':
    case 'float64':
      return { target: 'FLOAT64', status: 'ok' };
    case 'decimal':
      if (t.scale < 0) return { target: '-', status: 'fail', note: `negative scale is impossible in BigQuery (decimal(${t.precision},${t.scale}))` };
      if (t.precision <= 29 && t.scale <= 9) return { target: 'NUMERIC', status: 'ok' };
      if (t.precision <= 76 && t.scale <= 38) return { target: 'BIGNUMERIC', status: 'ok' };
      return { target: '-', status: 'fail', note: `decimal(${t.precision},${t.scale}) is beyond BIGNUMERIC's maximum of 76,38` };
    case 'date':
      return { target: 'DATE', status: 'ok' };
    case 'time':
      return { target: 'TIME', status: 'ok' };
    case 'timestamp':
      if (t.timezone !== null) return { target: 'TIMESTAMP', status: 'ok' };
      if (t.unit === 'nanosecond') return { target: 'INT64', status: 'warn', note: 'BigQuery has no nanosecond timestamp; the value loads as INT64' };
      return { target: 'DATETIME', autoload: 'TIMESTAMP', status: 'warn', note: 'a zone-less timestamp autoloads as TIMESTAMP (read as UTC)', cast: 'DATETIME({col})' };
    case 'string':
    case 'text':
    case 'enum':
    case 'interval':
      return { target: 'STRING', status: 'ok' };
    case 'binary':
      return { target: 'BYTES', status: 'ok' };
    case 'json':
      return { target: 'JSON', autoload: 'BYTES', status: 'warn', cast: 'PARSE_JSON(SAFE_CONVERT_BYTES_TO_STRING({col}))' };
    case 'uuid':
      return { target: 'STRING', autoload: 'BYTES', status: 'warn', cast: 'TO_HEX({col})' };
    case 'list': {
      const inner = bigquery(t.inner);
      if (inner.status === 'fail') return { target: '-', status: 'fail', note: `repeated of an unsupported element: ${inner.note ?? ''}`.trim() };
      return {
        target: `REPEATED ${inner.target}`,
        autoload: `REPEATED RECORD{item ${inner.autoload ?? inner.target}}`,
        status: 'warn',
        cast: 'ARRAY(SELECT el.item FROM UNNEST({col}) AS el)',
      };
    }
    case 'unsupported':
      return { target: '-', status: 'fail', note: t.reason };
  }
}

function duckdb(t: RivetType): Mapping {
  const ok = (target: string): Mapping => ({ target, status: 'ok' });
  switch (t.kind) {
    case 'bool':
      return ok('BOOLEAN');
    case 'int16':
      return ok('SMALLINT');
    case 'int32':
      return ok('INTEGER');
    case 'int64':
      return ok('BIGINT');
    case 'u_int64':
      return ok('UBIGINT');
    case 'float32':
      return ok('FLOAT');
    case 'float64':
      return ok('DOUBLE');
    case 'decimal':
      if (t.scale < 0) return { target: 'DECIMAL', status: 'warn', note: 'DuckDB has no negative scale' };
      if (t.precision <= 38) return ok(`DECIMAL(${t.precision},${t.scale})`);
      return { target: 'DECIMAL(38,*)', status: 'warn', note: 'DuckDB decimals stop at precision 38' };
    case 'date':
      return ok('DATE');
    case 'time':
      return ok('TIME');
    case 'timestamp':
      return ok(t.timezone !== null ? 'TIMESTAMPTZ' : t.unit === 'nanosecond' ? 'TIMESTAMP_NS' : 'TIMESTAMP');
    case 'string':
    case 'text':
    case 'enum':
      return ok('VARCHAR');
    case 'binary':
      return ok('BLOB');
    case 'json':
      return ok('JSON');
    case 'uuid':
      return ok('UUID');
    case 'interval':
      return ok('INTERVAL');
    case 'list': {
      const inner = duckdb(t.inner);
      if (inner.status === 'fail') return { target: '-', status: 'fail', note: `list of an unsupported element: ${inner.note ?? ''}`.trim() };
      return { target: `${inner.target}[]`, status: inner.status, note: inner.note };
    }
    case 'unsupported':
      return { target: '-', status: 'fail', note: t.reason };
  }
}

function snowflake(t: RivetType): Mapping {
  switch (t.kind) {
    case 'bool':
      return { target: 'BOOLEAN', status: 'ok' };
    case 'int16':
    case 'int32':
    case 'int64':
      return { target: 'NUMBER(38,0)', status: 'ok' };
    case 'u_int64':
      return { target: 'NUMBER(20,0)', autoload: 'NUMBER(38,0)', status: 'warn' };
    case 'float32':
    case 'float64':
      return { target: 'FLOAT', status: 'ok' };
    case 'decimal':
      return t.scale < 0 ? { target: 'NUMBER', status: 'warn', note: 'Snowflake has no negative scale' } : { target: `NUMBER(${t.precision},${t.scale})`, status: 'ok' };
    case 'date':
      return { target: 'DATE', status: 'ok' };
    case 'time':
      return { target: 'TIME', autoload: 'NUMBER(38,0)', status: 'warn', cast: 'TIME_FROM_PARTS(0,0,FLOOR("{col}"/1000000),MOD("{col}",1000000)*1000)' };
    case 'timestamp':
      if (t.timezone !== null) return { target: 'TIMESTAMP_TZ', autoload: 'TIMESTAMP_NTZ', status: 'warn' };
      return t.unit === 'nanosecond'
        ? { target: 'TIMESTAMP_NTZ', autoload: 'NUMBER(38,0)', status: 'warn', cast: 'TO_TIMESTAMP_NTZ("{col}", 9)' }
        : { target: 'TIMESTAMP_NTZ', autoload: 'NUMBER(38,0)', status: 'warn', cast: 'TO_TIMESTAMP_NTZ("{col}", 6)' };
    case 'string':
    case 'text':
    case 'enum':
    case 'interval':
      return { target: 'TEXT', status: 'ok' };
    case 'binary':
      return { target: 'BINARY', status: 'warn', note: 'load with BINARY_AS_TEXT=FALSE' };
    case 'json':
      return { target: 'VARIANT', autoload: 'TEXT', status: 'warn', cast: 'PARSE_JSON("{col}")' };
    case 'uuid':
      return {
        target: 'TEXT',
        autoload: 'BINARY',
        status: 'warn',
        cast: `REGEXP_REPLACE(LOWER(HEX_ENCODE("{col}")),'^(.{8})(.{4})(.{4})(.{4})(.{12})$','\\\\1-\\\\2-\\\\3-\\\\4-\\\\5')`,
      };
    case 'list':
      return { target: 'ARRAY', autoload: 'VARIANT', status: 'warn', cast: '"{col}"::ARRAY' };
    case 'unsupported':
      return { target: '-', status: 'fail', note: t.reason };
  }
}

/** The two statements that load the Parquet and rebuild native types (BigQuery only; docs/reference/types.md). */
export function bigqueryRecoverySql(table: string, columns: TargetColumnSpec[]): string | undefined {
  if (!columns.some((c) => c.cast_sql)) return undefined;
  const select = columns.filter((c) => c.status !== 'fail').map((c) => (c.cast_sql ? `${c.cast_sql} AS ${c.column_name}` : c.column_name));
  return [
    `-- 1) bq load --autodetect --parquet_enable_list_inference --source_format=PARQUET ${table}__staging <parquet>`,
    '-- 2) rebuild the native column types from the staging table:',
    `CREATE OR REPLACE TABLE \`${table}\` AS`,
    'SELECT',
    select.join(',\n'),
    `FROM \`${table}__staging\`;`,
  ].join('\n');
}
