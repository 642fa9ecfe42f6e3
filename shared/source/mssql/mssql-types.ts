import { MAX_DECIMAL_PRECISION, type RivetType } from '../../types/rivet-type.js';

/**
 * SQL Server result columns (TDS COLMETADATA, as tedious exposes it) → RivetType (docs/reference/types.md).
 *
 * Nullable columns arrive as the TDS "N" types (IntN, FloatN, MoneyN, DateTimeN, BitN) whose
 * `dataLength` says which SQL type it is, so the native type name is rebuilt from type +
 * length. Native type strings are SQL Server's own names (`int`, `decimal(18,2)`,
 * `datetime2(7)`, `nvarchar(max)`), not the reference's driver enum names.
 *
 * Differences from the reference, on purpose: decimal/numeric keep their declared
 * precision and scale (the reference guesses the scale from the first batch), tinyint is
 * int16 (0..255 fits), xml is exported as a string.
 */
export interface MssqlColumnMetadata {
  colName: string;
  type: { name: string };
  precision?: number;
  scale?: number;
  dataLength?: number;
  udtInfo?: { typeName?: string };
}

/** How values of a column arrive from tedious (after `installExactDecimals`). */
export type MssqlWire =
  | 'bool'
  | 'number'
  /** bigint arrives as a decimal string */
  | 'bigint-string'
  /** decimal/numeric/money as an unscaled bigint */
  | 'exact-decimal'
  | 'date'
  | 'time'
  /** datetime, smalldatetime, datetime2: wall clock in the UTC fields of a Date */
  | 'datetime'
  /** datetimeoffset: the UTC instant */
  | 'datetimeoffset'
  | 'string'
  | 'buffer'
  | 'guid'
  | 'other';

export interface MssqlColumn {
  nativeType: string;
  rivetType: RivetType;
  wire: MssqlWire;
  /** Scale of exact decimals as they arrive (decimal scale, 4 for money). */
  wireScale?: number;
}

const MAX_LEN = 0xffff;

const unsupported = (native: string, reason: string): RivetType => ({ kind: 'unsupported', native_type: native, reason });

function charType(name: string, dataLength: number | undefined, unicode: boolean): string {
  if (dataLength === undefined) return name;
  if (dataLength === MAX_LEN) return `${name}(max)`;
  return `${name}(${unicode ? dataLength / 2 : dataLength})`;
}

/** docs/reference/types.md: native type name, RivetType and wire form of one result column. */
export function autodetectMssqlType(m: MssqlColumnMetadata): MssqlColumn {
  const len = m.dataLength;
  const col = (nativeType: string, rivetType: RivetType, wire: MssqlWire, wireScale?: number): MssqlColumn => ({
    nativeType,
    rivetType,
    wire,
    ...(wireScale !== undefined ? { wireScale } : {}),
  });
  switch (m.type.name) {
    case 'Bit':
    case 'BitN':
      return col('bit', { kind: 'bool' }, 'bool');
    case 'TinyInt':
      return col('tinyint', { kind: 'int16' }, 'number');
    case 'SmallInt':
      return col('smallint', { kind: 'int16' }, 'number');
    case 'Int':
      return col('int', { kind: 'int32' }, 'number');
    case 'BigInt':
      return col('bigint', { kind: 'int64' }, 'bigint-string');
    case 'IntN':
      switch (len) {
        case 1:
          return col('tinyint', { kind: 'int16' }, 'number');
        case 2:
          return col('smallint', { kind: 'int16' }, 'number');
        case 4:
          return col('int', { kind: 'int32' }, 'number');
        default:
          return col('bigint', { kind: 'int64' }, 'bigint-string');
      }
    case 'Real':
      return col('real', { kind: 'float32' }, 'number');
    case 'Float':
      return col('float', { kind: 'float64' }, 'number');
    case 'FloatN':
      return len === 4 ? col('real', { kind: 'float32' }, 'number') : col('float', { kind: 'float64' }, 'number');
    case 'SmallMoney':
      return col('smallmoney', { kind: 'decimal', precision: 10, scale: 4 }, 'exact-decimal', 4);
    case 'Money':
      return col('money', { kind: 'decimal', precision: 19, scale: 4 }, 'exact-decimal', 4);
    case 'MoneyN':
      return len === 4
        ? col('smallmoney', { kind: 'decimal', precision: 10, scale: 4 }, 'exact-decimal', 4)
        : col('money', { kind: 'decimal', precision: 19, scale: 4 }, 'exact-decimal', 4);
    case 'Decimal':
    case 'DecimalN':
    case 'Numeric':
    case 'NumericN': {
      const base = m.type.name.startsWith('Numeric') ? 'numeric' : 'decimal';
      const p = m.precision ?? 0;
      const s = m.scale ?? 0;
      const native = `${base}(${p},${s})`;
      if (!(p >= 1 && p <= MAX_DECIMAL_PRECISION && s >= 0 && s <= p)) {
        return col(native, unsupported(native, `precision ${p} / scale ${s} do not fit an Arrow decimal`), 'exact-decimal', s);
      }
      return col(native, { kind: 'decimal', precision: p, scale: s }, 'exact-decimal', s);
    }
    case 'Date':
      return col('date', { kind: 'date' }, 'date');
    case 'Time':
      return col(`time(${m.scale ?? 7})`, { kind: 'time', unit: 'microsecond' }, 'time');
    case 'DateTime':
      return col('datetime', { kind: 'timestamp', unit: 'microsecond', timezone: null }, 'datetime');
    case 'SmallDateTime':
      return col('smalldatetime', { kind: 'timestamp', unit: 'microsecond', timezone: null }, 'datetime');
    case 'DateTimeN':
      return col(len === 4 ? 'smalldatetime' : 'datetime', { kind: 'timestamp', unit: 'microsecond', timezone: null }, 'datetime');
    case 'DateTime2':
      return col(`datetime2(${m.scale ?? 7})`, { kind: 'timestamp', unit: 'microsecond', timezone: null }, 'datetime');
    case 'DateTimeOffset':
      return col(`datetimeoffset(${m.scale ?? 7})`, { kind: 'timestamp', unit: 'microsecond', timezone: 'UTC' }, 'datetimeoffset');
    case 'Char':
      return col(charType('char', len, false), { kind: 'string' }, 'string');
    case 'VarChar':
      return col(charType('varchar', len, false), { kind: 'string' }, 'string');
    case 'NChar':
      return col(charType('nchar', len, true), { kind: 'string' }, 'string');
    case 'NVarChar':
      return col(charType('nvarchar', len, true), { kind: 'string' }, 'string');
    case 'Text':
      return col('text', { kind: 'string' }, 'string');
    case 'NText':
      return col('ntext', { kind: 'string' }, 'string');
    case 'Xml':
      return col('xml', { kind: 'string' }, 'string');
    case 'Binary':
      return col(charType('binary', len, false), { kind: 'binary' }, 'buffer');
    case 'VarBinary':
      return col(charType('varbinary', len, false), { kind: 'binary' }, 'buffer');
    case 'Image':
      return col('image', { kind: 'binary' }, 'buffer');
    case 'UniqueIdentifier':
      return col('uniqueidentifier', { kind: 'uuid' }, 'guid');
    case 'Variant':
      return col('sql_variant', unsupported('sql_variant', 'sql_variant holds values of mixed types; CAST it to one type in the query'), 'other');
    case 'UDT': {
      const name = (m.udtInfo?.typeName ?? 'udt').toLowerCase();
      const how =
        name === 'geography' || name === 'geometry'
          ? `select ${m.colName}.STAsText() (WKT) or ${m.colName}.STAsBinary() (WKB) instead`
          : name === 'hierarchyid'
            ? `select ${m.colName}.ToString() instead`
            : 'convert it to a standard type in the query';
      return col(name, unsupported(name, `CLR type ${name} has no Rivet mapping; ${how}`), 'buffer');
    }
    case 'Null':
      return col('null', unsupported('null', 'the column has no type (a bare NULL); CAST it in the query'), 'other');
    default:
      return col(m.type.name.toLowerCase(), unsupported(m.type.name.toLowerCase(), `SQL Server type ${m.type.name} is not supported`), 'other');
  }
}
