import { describe, expect, it } from 'vitest';
import { RivetError } from '../../../shared/errors/rivet-error.js';
import { canonicalLabel } from '../../../shared/types/rivet-type.js';
import { parseColumnOverrides } from '../../../shared/types/column-override.js';
import { mssqlReadPlan } from '../../../shared/source/mssql/mssql-read-plan.js';
import { describedColumnMetadata } from '../../../shared/source/mssql/mssql-described-column.js';
import { autodetectMssqlType, type MssqlColumnMetadata } from '../../../shared/source/mssql/mssql-types.js';

const mssqlPlanForTest = (meta: MssqlColumnMetadata[], overrides?: Record<string, string>) => mssqlReadPlan(meta, parseColumnOverrides(overrides));

/** Column metadata shaped the way tedious emits it in `columnMetadata` events. */
const m = (name: string, extra: Partial<MssqlColumnMetadata> = {}): MssqlColumnMetadata => ({ colName: 'c', type: { name }, ...extra });

describe('SQL Server autodetect (docs/reference/types.md)', () => {
  it.each([
    [m('Bit'), 'bit', 'bool'],
    [m('BitN', { dataLength: 1 }), 'bit', 'bool'],
    [m('TinyInt'), 'tinyint', 'int16'],
    [m('IntN', { dataLength: 1 }), 'tinyint', 'int16'],
    [m('SmallInt'), 'smallint', 'int16'],
    [m('IntN', { dataLength: 2 }), 'smallint', 'int16'],
    [m('Int'), 'int', 'int32'],
    [m('IntN', { dataLength: 4 }), 'int', 'int32'],
    [m('BigInt'), 'bigint', 'int64'],
    [m('IntN', { dataLength: 8 }), 'bigint', 'int64'],
    [m('Real'), 'real', 'float32'],
    [m('FloatN', { dataLength: 4 }), 'real', 'float32'],
    [m('Float'), 'float', 'float64'],
    [m('FloatN', { dataLength: 8 }), 'float', 'float64'],
    [m('Money'), 'money', 'decimal(19,4)'],
    [m('MoneyN', { dataLength: 8 }), 'money', 'decimal(19,4)'],
    [m('SmallMoney'), 'smallmoney', 'decimal(10,4)'],
    [m('MoneyN', { dataLength: 4 }), 'smallmoney', 'decimal(10,4)'],
    [m('DecimalN', { precision: 18, scale: 2 }), 'decimal(18,2)', 'decimal(18,2)'],
    [m('NumericN', { precision: 38, scale: 0 }), 'numeric(38,0)', 'decimal(38,0)'],
    [m('Date'), 'date', 'date'],
    [m('Time', { scale: 3 }), 'time(3)', 'time(microsecond)'],
    [m('DateTime'), 'datetime', 'timestamp(microsecond)'],
    [m('DateTimeN', { dataLength: 8 }), 'datetime', 'timestamp(microsecond)'],
    [m('SmallDateTime'), 'smalldatetime', 'timestamp(microsecond)'],
    [m('DateTimeN', { dataLength: 4 }), 'smalldatetime', 'timestamp(microsecond)'],
    [m('DateTime2', { scale: 7 }), 'datetime2(7)', 'timestamp(microsecond)'],
    [m('DateTimeOffset', { scale: 7 }), 'datetimeoffset(7)', 'timestamp_tz(microsecond,UTC)'],
    [m('Char', { dataLength: 10 }), 'char(10)', 'string'],
    [m('VarChar', { dataLength: 50 }), 'varchar(50)', 'string'],
    [m('VarChar', { dataLength: 0xffff }), 'varchar(max)', 'string'],
    [m('NChar', { dataLength: 20 }), 'nchar(10)', 'string'],
    [m('NVarChar', { dataLength: 100 }), 'nvarchar(50)', 'string'],
    [m('NVarChar', { dataLength: 0xffff }), 'nvarchar(max)', 'string'],
    [m('Text'), 'text', 'string'],
    [m('NText'), 'ntext', 'string'],
    [m('Xml'), 'xml', 'string'],
    [m('Binary', { dataLength: 16 }), 'binary(16)', 'binary'],
    [m('VarBinary', { dataLength: 0xffff }), 'varbinary(max)', 'binary'],
    [m('Image'), 'image', 'binary'],
    [m('UniqueIdentifier'), 'uniqueidentifier', 'uuid'],
  ])('%j → %s → %s', (meta, native, label) => {
    const c = autodetectMssqlType(meta);
    expect(c.nativeType).toBe(native);
    expect(canonicalLabel(c.rivetType)).toBe(label);
  });

  it.each([
    [m('Variant'), 'sql_variant', /CAST it to one type/],
    [m('UDT', { udtInfo: { typeName: 'geography' } }), 'geography', /STAsText\(\)/],
    [m('UDT', { udtInfo: { typeName: 'hierarchyid' } }), 'hierarchyid', /ToString\(\)/],
    [m('Null'), 'null', /bare NULL/],
  ])('%j is unsupported with advice', (meta, native, reason) => {
    const c = autodetectMssqlType(meta);
    expect(c.rivetType).toMatchObject({ kind: 'unsupported', native_type: native });
    expect((c.rivetType as { reason: string }).reason).toMatch(reason);
  });
});

describe('schema planning with columns: overrides', () => {
  it('rejects unsupported columns all at once, with a columns: hint', () => {
    let err: RivetError | undefined;
    try {
      mssqlPlanForTest([
        { colName: 'id', type: { name: 'Int' } },
        { colName: 'shape', type: { name: 'UDT' }, udtInfo: { typeName: 'geometry' } },
        { colName: 'v', type: { name: 'Variant' } },
      ]);
    } catch (e) {
      err = e as RivetError;
    }
    expect(err?.code).toBe('TYPE_UNSUPPORTED');
    expect(err?.message).toMatch(/^2 columns cannot be mapped safely: `shape` \(SQL Server type geometry: .*\); `v` \(SQL Server type sql_variant/);
    expect(err?.hint).toMatch(/columns: \{ shape: string \}/);
  });

  it('applies overrides that the wire value can feed', () => {
    const plan = mssqlPlanForTest(
      [
        { colName: 'amount', type: { name: 'DecimalN' }, precision: 38, scale: 10 },
        { colName: 'ts', type: { name: 'DateTime2' }, scale: 7 },
        { colName: 'code', type: { name: 'VarChar' }, dataLength: 36 },
        { colName: 'n', type: { name: 'IntN' }, dataLength: 8 },
      ],
      { amount: 'decimal(20,2)', ts: 'timestamp_ns', code: 'uuid', n: 'string' },
    );
    expect(plan.schema.fields.map((f) => [f.name, String(f.type)])).toEqual([
      ['amount', 'Decimal[20e+2]'],
      ['ts', 'Timestamp<NANOSECOND>'],
      ['code', 'FixedSizeBinary[16]'],
      ['n', 'Utf8'],
    ]);
    // native type stays the source's
    expect(plan.schema.fields[0].metadata.get('rivet.native_type')).toBe('decimal(38,10)');
  });

  it('refuses overrides the wire value cannot feed', () => {
    expect(() => mssqlPlanForTest([{ colName: 'b', type: { name: 'VarBinary' }, dataLength: 10 }], { b: 'date' })).toThrow(/override not applicable: date cannot be read from SQL Server type varbinary\(10\)/);
  });
});

describe('sp_describe_first_result_set rows (describe fallback)', () => {
  it.each([
    ['bit', 0, 0, 'bit', 'bool'],
    ['tinyint', 3, 0, 'tinyint', 'int16'],
    ['bigint', 19, 0, 'bigint', 'int64'],
    ['real', 24, 0, 'real', 'float32'],
    ['float', 53, 0, 'float', 'float64'],
    ['money', 19, 4, 'money', 'decimal(19,4)'],
    ['smallmoney', 10, 4, 'smallmoney', 'decimal(10,4)'],
    ['decimal(18,2)', 18, 2, 'decimal(18,2)', 'decimal(18,2)'],
    ['numeric(38,10)', 38, 10, 'numeric(38,10)', 'decimal(38,10)'],
    ['time(3)', 12, 3, 'time(3)', 'time(microsecond)'],
    ['datetime', 23, 3, 'datetime', 'timestamp(microsecond)'],
    ['smalldatetime', 16, 0, 'smalldatetime', 'timestamp(microsecond)'],
    ['datetime2(7)', 27, 7, 'datetime2(7)', 'timestamp(microsecond)'],
    ['datetimeoffset(7)', 34, 7, 'datetimeoffset(7)', 'timestamp_tz(microsecond,UTC)'],
    ['char(10)', 0, 0, 'char(10)', 'string'],
    ['varchar(max)', 0, 0, 'varchar(max)', 'string'],
    ['nvarchar(50)', 0, 0, 'nvarchar(50)', 'string'],
    ['nvarchar(max)', 0, 0, 'nvarchar(max)', 'string'],
    ['nchar(4)', 0, 0, 'nchar(4)', 'string'],
    ['binary(16)', 0, 0, 'binary(16)', 'binary'],
    ['varbinary(max)', 0, 0, 'varbinary(max)', 'binary'],
    ['uniqueidentifier', 0, 0, 'uniqueidentifier', 'uuid'],
    ['xml', 0, 0, 'xml', 'string'],
    ['timestamp', 0, 0, 'binary(8)', 'binary'],
    ['geography', 0, 0, 'geography', 'unsupported(geography)'],
    ['sql_variant', 0, 0, 'sql_variant', 'unsupported(sql_variant)'],
  ])('%s maps like the result metadata would', (systemTypeName, precision, scale, native, label) => {
    const c = autodetectMssqlType(describedColumnMetadata({ name: 'c', systemTypeName, precision, scale }));
    expect(c.nativeType).toBe(native);
    expect(canonicalLabel(c.rivetType)).toBe(label);
  });
});
