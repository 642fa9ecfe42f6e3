import { DataType, DateUnit, IntervalUnit, TimeUnit, Type } from 'apache-arrow';

/**
 * A stable text rendering of an Arrow DataType, modelled on arrow-rs `Debug` output for the
 * simple types (`Int64`, `Decimal128(18, 2)`, `Timestamp(Microsecond, Some("UTC"))`) so that
 * type reports read the same as the reference. Nested types use our own fixed shape; the
 * reference does not promise its rendering of them either (docs/reference/types.md).
 */
export function arrowTypeName(t: DataType): string {
  switch (t.typeId) {
    case Type.Null:
      return 'Null';
    case Type.Bool:
      return 'Boolean';
    case Type.Int: {
      const it = t as DataType<Type.Int> & { isSigned: boolean; bitWidth: number };
      return `${it.isSigned ? 'Int' : 'UInt'}${it.bitWidth}`;
    }
    case Type.Float: {
      const ft = t as DataType<Type.Float> & { precision: number };
      return ['Float16', 'Float32', 'Float64'][ft.precision] ?? 'Float64';
    }
    case Type.Decimal: {
      const d = t as DataType<Type.Decimal> & { precision: number; scale: number; bitWidth: number };
      return `Decimal${d.bitWidth}(${d.precision}, ${d.scale})`;
    }
    case Type.Date:
      return (t as DataType<Type.Date> & { unit: DateUnit }).unit === DateUnit.DAY ? 'Date32' : 'Date64';
    case Type.Time: {
      const tt = t as DataType<Type.Time> & { unit: TimeUnit; bitWidth: number };
      return `Time${tt.bitWidth}(${unitName(tt.unit)})`;
    }
    case Type.Timestamp: {
      const ts = t as DataType<Type.Timestamp> & { unit: TimeUnit; timezone?: string | null };
      return `Timestamp(${unitName(ts.unit)}, ${ts.timezone ? `Some(${JSON.stringify(ts.timezone)})` : 'None'})`;
    }
    case Type.Duration:
      return `Duration(${unitName((t as DataType<Type.Duration> & { unit: TimeUnit }).unit)})`;
    case Type.Interval: {
      const unit = (t as DataType<Type.Interval> & { unit: IntervalUnit }).unit;
      return `Interval(${unit === IntervalUnit.YEAR_MONTH ? 'YearMonth' : unit === IntervalUnit.DAY_TIME ? 'DayTime' : 'MonthDayNano'})`;
    }
    case Type.Utf8:
      return 'Utf8';
    case Type.LargeUtf8:
      return 'LargeUtf8';
    case Type.Utf8View:
      return 'Utf8View';
    case Type.Binary:
      return 'Binary';
    case Type.LargeBinary:
      return 'LargeBinary';
    case Type.BinaryView:
      return 'BinaryView';
    case Type.FixedSizeBinary:
      return `FixedSizeBinary(${(t as DataType<Type.FixedSizeBinary> & { byteWidth: number }).byteWidth})`;
    case Type.List:
    case Type.LargeList: {
      const child = t.children[0];
      const kind = t.typeId === Type.List ? 'List' : 'LargeList';
      return `${kind}(Field { name: ${JSON.stringify(child.name)}, data_type: ${arrowTypeName(child.type)}, nullable: ${child.nullable} })`;
    }
    case Type.FixedSizeList: {
      const child = t.children[0];
      const size = (t as DataType<Type.FixedSizeList> & { listSize: number }).listSize;
      return `FixedSizeList(Field { name: ${JSON.stringify(child.name)}, data_type: ${arrowTypeName(child.type)}, nullable: ${child.nullable} }, ${size})`;
    }
    case Type.Struct:
      return `Struct(${t.children.map((c) => `${JSON.stringify(c.name)}: ${arrowTypeName(c.type)}`).join(', ')})`;
    default:
      return String(t);
  }
}

function unitName(unit: TimeUnit): string {
  switch (unit) {
    case TimeUnit.SECOND:
      return 'Second';
    case TimeUnit.MILLISECOND:
      return 'Millisecond';
    case TimeUnit.MICROSECOND:
      return 'Microsecond';
    case TimeUnit.NANOSECOND:
      return 'Nanosecond';
  }
}
