import { DataType, TimeUnit as ArrowTimeUnit, type Field } from 'apache-arrow';
import { META_LOGICAL_TYPE, type RivetType, type TimeUnit } from '../types/rivet-type.js';

/**
 * The RivetType behind a field a Source described. Sources announce Arrow types plus
 * `rivet.logical_type` (docs/reference/types.md), which together determine the RivetType exactly, so the
 * type report reads what the export would write instead of keeping a second native-type map.
 * `string` and `text` both come back as `string`: they share Utf8 and the report labels
 * both `text`.
 */
export function rivetTypeOfField(field: Field): RivetType {
  const t = field.type;
  const logical = field.metadata.get(META_LOGICAL_TYPE);
  if (DataType.isBool(t)) return { kind: 'bool' };
  if (DataType.isInt(t)) {
    if (!t.isSigned && t.bitWidth === 64) return { kind: 'u_int64' };
    if (t.bitWidth <= 16) return { kind: 'int16' };
    return t.bitWidth === 32 ? { kind: 'int32' } : { kind: 'int64' };
  }
  if (DataType.isFloat(t)) return t.precision === 2 ? { kind: 'float64' } : { kind: 'float32' };
  if (DataType.isDecimal(t)) return { kind: 'decimal', precision: t.precision, scale: t.scale };
  if (DataType.isDate(t)) return { kind: 'date' };
  if (DataType.isTime(t)) return { kind: 'time', unit: unitOf(t.unit) };
  if (DataType.isTimestamp(t)) return { kind: 'timestamp', unit: unitOf(t.unit), timezone: t.timezone ? 'UTC' : null };
  if (DataType.isUtf8(t) || DataType.isLargeUtf8(t)) {
    if (logical === 'json' || logical === 'enum' || logical === 'interval') return { kind: logical };
    return { kind: 'string' };
  }
  if (DataType.isFixedSizeBinary(t) && (logical === 'uuid' || t.byteWidth === 16)) return { kind: 'uuid' };
  if (DataType.isBinary(t) || DataType.isLargeBinary(t) || DataType.isFixedSizeBinary(t)) return { kind: 'binary' };
  if (DataType.isList(t)) return { kind: 'list', inner: rivetTypeOfField(t.children[0]) };
  return { kind: 'unsupported', native_type: String(t), reason: `Arrow type ${String(t)} has no Rivet type` };
}

function unitOf(u: ArrowTimeUnit): TimeUnit {
  switch (u) {
    case ArrowTimeUnit.SECOND:
      return 'second';
    case ArrowTimeUnit.MILLISECOND:
      return 'millisecond';
    case ArrowTimeUnit.NANOSECOND:
      return 'nanosecond';
    default:
      return 'microsecond';
  }
}
