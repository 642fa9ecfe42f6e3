import { describe, expect, it } from 'vitest';
import { arrowTypeName } from '../../../shared/types/arrow-type-name.js';
import {
  canonicalLabel,
  fidelityOf,
  fieldMetadata,
  rivetField,
  toArrowType,
  typeReportLabel,
  type RivetType,
} from '../../../shared/types/rivet-type.js';

const cases: Array<[RivetType, string | null, string, string, string]> = [
  // type, Arrow, canonical, type-report, fidelity
  [{ kind: 'bool' }, 'Boolean', 'bool', 'bool', 'exact'],
  [{ kind: 'int16' }, 'Int16', 'int16', 'int2', 'exact'],
  [{ kind: 'int32' }, 'Int32', 'int32', 'int4', 'exact'],
  [{ kind: 'int64' }, 'Int64', 'int64', 'int8', 'exact'],
  [{ kind: 'u_int64' }, 'UInt64', 'uint64', 'uint8', 'exact'],
  [{ kind: 'float32' }, 'Float32', 'float32', 'float4', 'exact'],
  [{ kind: 'float64' }, 'Float64', 'float64', 'float8', 'exact'],
  [{ kind: 'decimal', precision: 18, scale: 2 }, 'Decimal128(18, 2)', 'decimal(18,2)', 'decimal(18,2)', 'exact'],
  [{ kind: 'decimal', precision: 50, scale: 10 }, 'Decimal256(50, 10)', 'decimal(50,10)', 'decimal(50,10)', 'exact'],
  [{ kind: 'date' }, 'Date32', 'date', 'date', 'exact'],
  [{ kind: 'time', unit: 'microsecond' }, 'Time64(Microsecond)', 'time(microsecond)', 'time', 'exact'],
  [{ kind: 'timestamp', unit: 'microsecond', timezone: null }, 'Timestamp(Microsecond, None)', 'timestamp(microsecond)', 'timestamp', 'exact'],
  [
    { kind: 'timestamp', unit: 'microsecond', timezone: 'UTC' },
    'Timestamp(Microsecond, Some("UTC"))',
    'timestamp_tz(microsecond,UTC)',
    'timestamp_tz',
    'exact',
  ],
  [{ kind: 'timestamp', unit: 'nanosecond', timezone: null }, 'Timestamp(Nanosecond, None)', 'timestamp(nanosecond)', 'timestamp', 'exact'],
  [{ kind: 'string' }, 'Utf8', 'string', 'text', 'exact'],
  [{ kind: 'text' }, 'Utf8', 'text', 'text', 'exact'],
  [{ kind: 'binary' }, 'Binary', 'binary', 'binary', 'exact'],
  [{ kind: 'json' }, 'Utf8', 'json', 'json', 'logical_string'],
  [{ kind: 'uuid' }, 'FixedSizeBinary(16)', 'uuid', 'uuid', 'exact'],
  [{ kind: 'enum' }, 'Utf8', 'enum', 'enum', 'compatible'],
  [{ kind: 'interval' }, 'Utf8', 'interval', 'interval', 'compatible'],
  [
    { kind: 'list', inner: { kind: 'int32' } },
    'List(Field { name: "item", data_type: Int32, nullable: true })',
    'list<int32>',
    'list<int4>',
    'compatible',
  ],
  [
    { kind: 'list', inner: { kind: 'unsupported', native_type: 'point', reason: 'r' } },
    null,
    'list<unsupported(point)>',
    'list<unsupported(point)>',
    'unsupported',
  ],
  [{ kind: 'unsupported', native_type: 'geometry', reason: 'r' }, null, 'unsupported(geometry)', 'unsupported(geometry)', 'unsupported'],
];

describe('RivetType', () => {
  it.each(cases)('%j maps to Arrow %s', (t, arrow, canonical, report, fidelity) => {
    const a = toArrowType(t);
    expect(a === null ? null : arrowTypeName(a)).toBe(arrow);
    expect(canonicalLabel(t)).toBe(canonical);
    expect(typeReportLabel(t)).toBe(report);
    expect(fidelityOf(t)).toBe(fidelity);
  });

  it('builds nullable fields with metadata only where it means something', () => {
    const plain = rivetField('name', { kind: 'string' }, 'varchar');
    expect(plain.nullable).toBe(true);
    expect(Object.fromEntries(plain.metadata)).toEqual({ 'rivet.native_type': 'varchar', 'rivet.fidelity': 'exact' });

    expect(Object.fromEntries(fieldMetadata({ kind: 'json' }, 'jsonb'))).toEqual({
      'rivet.native_type': 'jsonb',
      'rivet.fidelity': 'logical_string',
      'rivet.logical_type': 'json',
      'ARROW:extension:name': 'arrow.json',
      'ARROW:extension:metadata': '',
    });
    expect(Object.fromEntries(fieldMetadata({ kind: 'uuid' }, 'uuid'))).toMatchObject({
      'rivet.logical_type': 'uuid',
      'ARROW:extension:name': 'arrow.uuid',
    });
    expect(Object.fromEntries(fieldMetadata({ kind: 'enum' }, 'mood'))).toEqual({
      'rivet.native_type': 'mood',
      'rivet.fidelity': 'compatible',
      'rivet.logical_type': 'enum',
    });
  });

  it('list elements keep the JSON/UUID extension so Parquet readers see list<uuid>, and plain elements carry none', () => {
    const uuids = toArrowType({ kind: 'list', inner: { kind: 'uuid' } })!;
    expect(Object.fromEntries(uuids.children[0].metadata)).toEqual({ 'ARROW:extension:name': 'arrow.uuid', 'ARROW:extension:metadata': '' });
    const json = toArrowType({ kind: 'list', inner: { kind: 'json' } })!;
    expect(json.children[0].metadata.get('ARROW:extension:name')).toBe('arrow.json');
    const ints = toArrowType({ kind: 'list', inner: { kind: 'int32' } })!;
    expect(ints.children[0].metadata.size).toBe(0);
    expect(ints.children[0].name).toBe('item');
    expect(ints.children[0].nullable).toBe(true);
  });

  it('refuses to build a field for an unsupported type', () => {
    expect(() => rivetField('g', { kind: 'unsupported', native_type: 'geometry', reason: 'r' }, 'geometry')).toThrow(/no Arrow type/);
  });
});
