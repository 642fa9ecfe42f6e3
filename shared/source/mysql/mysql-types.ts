import type { RivetType } from '../../types/rivet-type.js';

/** Column type codes of the MySQL protocol (ColumnDefinition41 `column_type`). */
export const MyType = {
  DECIMAL: 0,
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  NULL: 6,
  TIMESTAMP: 7,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  TIME: 11,
  DATETIME: 12,
  YEAR: 13,
  NEWDATE: 14,
  VARCHAR: 15,
  BIT: 16,
  TIMESTAMP2: 17,
  DATETIME2: 18,
  TIME2: 19,
  JSON: 245,
  NEWDECIMAL: 246,
  ENUM: 247,
  SET: 248,
  TINY_BLOB: 249,
  MEDIUM_BLOB: 250,
  LONG_BLOB: 251,
  BLOB: 252,
  VAR_STRING: 253,
  STRING: 254,
  GEOMETRY: 255,
} as const;

/** Column flags of the MySQL protocol. */
export const MyFlag = { UNSIGNED: 32, BINARY: 128, ENUM: 256, SET: 2048 } as const;

/** The `binary` pseudo character set: the bytes are not text. */
export const BINARY_CHARSET = 63;

/** What the server says about one result column (the subset of mysql2's ColumnDefinition rivet reads). */
export interface MyField {
  name: string;
  columnType: number;
  flags: number;
  characterSet: number;
  columnLength: number;
  decimals: number;
  /** MariaDB 10.5+ extended metadata: `json` marks a JSON (LONGTEXT) column, when the server keeps it. */
  extendedFormat?: string;
  extendedTypeName?: string;
}

/** How the value bytes of a column arrive in the text protocol. */
export type MyWire = 'text' | 'bytes' | 'bit';

export interface MyColumn {
  nativeType: string;
  rivetType: RivetType;
  wire: MyWire;
}

const BLOB_TYPES: ReadonlySet<number> = new Set([MyType.TINY_BLOB, MyType.MEDIUM_BLOB, MyType.LONG_BLOB, MyType.BLOB]);

const unsupported = (native: string, reason: string): RivetType => ({ kind: 'unsupported', native_type: native, reason });

/** docs/reference/types.md: the native type name and autodetected RivetType of one result column. */
export function autodetectMysqlType(f: MyField): MyColumn {
  const unsigned = (f.flags & MyFlag.UNSIGNED) !== 0;
  const u = unsigned ? ' unsigned' : '';
  const text = (nativeType: string, rivetType: RivetType): MyColumn => ({ nativeType, rivetType, wire: 'text' });
  switch (f.columnType) {
    case MyType.TINY:
      // BOOL / BOOLEAN are TINYINT(1); the display width survives in column_length.
      if (f.columnLength === 1) return text('tinyint(1)', { kind: 'bool' });
      return text(`tinyint${u}`, { kind: 'int16' });
    case MyType.SHORT:
      return text(`smallint${u}`, { kind: unsigned ? 'int32' : 'int16' });
    case MyType.INT24:
    case MyType.LONG:
      return text(`int${u}`, { kind: unsigned ? 'int64' : 'int32' });
    case MyType.LONGLONG:
      return text(`bigint${u}`, { kind: unsigned ? 'u_int64' : 'int64' });
    case MyType.FLOAT:
      return text('float', { kind: 'float32' });
    case MyType.DOUBLE:
      return text('double', { kind: 'float64' });
    case MyType.DECIMAL:
    case MyType.NEWDECIMAL: {
      const scale = f.decimals;
      const precision = f.columnLength - (scale > 0 ? 1 : 0) - (unsigned ? 0 : 1);
      if (precision < 1 || precision > 65) return text('decimal', unsupported('decimal', `precision ${precision} is outside 1..65`));
      return text('decimal', { kind: 'decimal', precision, scale });
    }
    case MyType.DATE:
    case MyType.NEWDATE:
      return text('date', { kind: 'date' });
    case MyType.TIME:
    case MyType.TIME2:
      return text('time', { kind: 'time', unit: 'microsecond' });
    case MyType.DATETIME:
    case MyType.DATETIME2:
      return text('datetime', { kind: 'timestamp', unit: 'microsecond', timezone: null });
    case MyType.TIMESTAMP:
    case MyType.TIMESTAMP2:
      return text('timestamp', { kind: 'timestamp', unit: 'microsecond', timezone: 'UTC' });
    case MyType.YEAR:
      return text('year', { kind: 'int16' });
    case MyType.BIT:
      return f.columnLength === 1 ? { nativeType: 'bit(1)', rivetType: { kind: 'bool' }, wire: 'bit' } : { nativeType: 'bit', rivetType: { kind: 'int64' }, wire: 'bit' };
    case MyType.JSON:
      return text('json', { kind: 'json' });
    case MyType.ENUM:
      return text('enum', { kind: 'enum' });
    case MyType.SET:
      return text('set', { kind: 'enum' });
    case MyType.VARCHAR:
    case MyType.VAR_STRING:
    case MyType.STRING: {
      if (f.flags & MyFlag.ENUM) return text('enum', { kind: 'enum' });
      if (f.flags & MyFlag.SET) return text('set', { kind: 'enum' });
      const fixed = f.columnType === MyType.STRING;
      if (f.characterSet === BINARY_CHARSET) return { nativeType: fixed ? 'binary' : 'varbinary', rivetType: { kind: 'binary' }, wire: 'bytes' };
      if (f.extendedTypeName) return text(f.extendedTypeName.toLowerCase(), { kind: 'string' });
      return text(fixed ? 'char' : 'varchar', { kind: 'string' });
    }
    default:
      if (BLOB_TYPES.has(f.columnType)) {
        if (f.characterSet === BINARY_CHARSET) return { nativeType: 'blob', rivetType: { kind: 'binary' }, wire: 'bytes' };
        // MariaDB's JSON is a LONGTEXT alias; extended metadata (10.5+) still names it.
        if (f.extendedFormat?.toLowerCase() === 'json') return text('json', { kind: 'json' });
        return text('blob', { kind: 'text' });
      }
      if (f.columnType === MyType.GEOMETRY) return { nativeType: 'geometry', rivetType: unsupported('geometry', 'spatial types are not exported; select ST_AsText(col) or ST_AsWKB(col)'), wire: 'bytes' };
      if (f.columnType === MyType.NULL) return text('null', unsupported('null', 'the column has no type (a bare NULL); CAST it in SQL'));
      return text('unknown', unsupported('unknown', `MySQL column type ${f.columnType} is not supported`));
  }
}
