import type { MssqlColumnMetadata } from './mssql-types.js';

/**
 * One row of `sp_describe_first_result_set` turned into the column metadata shape tedious
 * gives for a result (the "N" type names and byte lengths a nullable column arrives with),
 * so the same autodetect maps both and `describe` agrees with what `read` later sees.
 *
 * Used only when the query cannot be wrapped as `SELECT TOP 0 * FROM (<query>)` (ORDER BY,
 * a CTE, unnamed columns): T-SQL forbids those in a derived table, while the export itself
 * (mode `full`) sends the query as written.
 */
export interface DescribedColumn {
  name: string;
  /** e.g. `int`, `decimal(18,2)`, `nvarchar(50)`, `varchar(max)`, `datetime2(7)`, `geography`. */
  systemTypeName: string;
  precision: number;
  scale: number;
}

const MAX = 0xffff;

export function describedColumnMetadata(c: DescribedColumn): MssqlColumnMetadata {
  const m = /^\s*([a-z0-9_]+)\s*(?:\(\s*(max|\d+)\s*(?:,\s*(\d+)\s*)?\))?/i.exec(c.systemTypeName);
  const base = (m?.[1] ?? c.systemTypeName).toLowerCase();
  const arg = m?.[2]?.toLowerCase();
  const len = arg === 'max' ? MAX : arg !== undefined ? Number(arg) : undefined;
  const meta = (name: string, extra: Partial<MssqlColumnMetadata> = {}): MssqlColumnMetadata => ({ colName: c.name, type: { name }, ...extra });
  switch (base) {
    case 'bit':
      return meta('BitN', { dataLength: 1 });
    case 'tinyint':
      return meta('IntN', { dataLength: 1 });
    case 'smallint':
      return meta('IntN', { dataLength: 2 });
    case 'int':
      return meta('IntN', { dataLength: 4 });
    case 'bigint':
      return meta('IntN', { dataLength: 8 });
    case 'real':
      return meta('FloatN', { dataLength: 4 });
    case 'float':
      return meta('FloatN', { dataLength: 8 });
    case 'smallmoney':
      return meta('MoneyN', { dataLength: 4 });
    case 'money':
      return meta('MoneyN', { dataLength: 8 });
    case 'decimal':
      return meta('DecimalN', { precision: c.precision, scale: c.scale });
    case 'numeric':
      return meta('NumericN', { precision: c.precision, scale: c.scale });
    case 'date':
      return meta('Date');
    case 'time':
      return meta('Time', { scale: c.scale });
    case 'datetime':
      return meta('DateTimeN', { dataLength: 8 });
    case 'smalldatetime':
      return meta('DateTimeN', { dataLength: 4 });
    case 'datetime2':
      return meta('DateTime2', { scale: c.scale });
    case 'datetimeoffset':
      return meta('DateTimeOffset', { scale: c.scale });
    case 'char':
      return meta('Char', { dataLength: len });
    case 'varchar':
      return meta('VarChar', { dataLength: len });
    case 'nchar':
      return meta('NChar', { dataLength: len === undefined ? undefined : len * 2 });
    case 'nvarchar':
      return meta('NVarChar', { dataLength: len === undefined || len === MAX ? len : len * 2 });
    case 'text':
      return meta('Text');
    case 'ntext':
      return meta('NText');
    case 'xml':
      return meta('Xml');
    case 'binary':
      return meta('Binary', { dataLength: len });
    case 'varbinary':
      return meta('VarBinary', { dataLength: len });
    case 'image':
      return meta('Image');
    case 'timestamp':
    case 'rowversion':
      return meta('Binary', { dataLength: 8 });
    case 'uniqueidentifier':
      return meta('UniqueIdentifier', { dataLength: 16 });
    case 'sql_variant':
      return meta('Variant');
    default:
      // geography, geometry, hierarchyid and other CLR types arrive as UDTs.
      return meta('UDT', { udtInfo: { typeName: base } });
  }
}
