import {
  Binary,
  Bool,
  DateDay,
  Decimal,
  Field,
  FixedSizeBinary,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  List,
  TimeMicrosecond,
  TimeMillisecond,
  TimeNanosecond,
  TimeSecond,
  Timestamp,
  TimeUnit as ArrowTimeUnit,
  Uint64,
  Utf8,
  type DataType,
} from 'apache-arrow';

/**
 * The engine-neutral column type (docs/reference/types.md). Every source maps its native types onto this
 * union; everything downstream (Arrow schema, fidelity, type report, warehouse targets)
 * derives from it, so engines never talk to Arrow types directly.
 */
export type TimeUnit = 'second' | 'millisecond' | 'microsecond' | 'nanosecond';

export type RivetType =
  | { kind: 'bool' }
  | { kind: 'int16' }
  | { kind: 'int32' }
  | { kind: 'int64' }
  | { kind: 'u_int64' }
  | { kind: 'float32' }
  | { kind: 'float64' }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'date' }
  | { kind: 'time'; unit: TimeUnit }
  | { kind: 'timestamp'; unit: TimeUnit; timezone: null | 'UTC' }
  | { kind: 'string' }
  | { kind: 'text' }
  | { kind: 'binary' }
  | { kind: 'json' }
  | { kind: 'uuid' }
  | { kind: 'enum' }
  | { kind: 'interval' }
  | { kind: 'list'; inner: RivetType }
  | { kind: 'unsupported'; native_type: string; reason: string };

export type RivetKind = RivetType['kind'];

/** Ordered best → worst (docs/reference/types.md). */
export type Fidelity = 'exact' | 'compatible' | 'logical_string' | 'lossy' | 'unsupported';
export const FIDELITY_ORDER: readonly Fidelity[] = ['exact', 'compatible', 'logical_string', 'lossy', 'unsupported'];

/** Field metadata keys (docs/reference/types.md). */
export const META_NATIVE_TYPE = 'rivet.native_type';
export const META_FIDELITY = 'rivet.fidelity';
export const META_LOGICAL_TYPE = 'rivet.logical_type';
export const META_EXTENSION_NAME = 'ARROW:extension:name';
export const META_EXTENSION_METADATA = 'ARROW:extension:metadata';

/** Prefix of the columns rivet adds itself; they carry no type metadata and stay out of fingerprints. */
export const META_COLUMN_PREFIX = '_rivet_';

export const MAX_DECIMAL128_PRECISION = 38;
export const MAX_DECIMAL_PRECISION = 76;

function arrowTimeUnit(unit: TimeUnit): ArrowTimeUnit {
  switch (unit) {
    case 'second':
      return ArrowTimeUnit.SECOND;
    case 'millisecond':
      return ArrowTimeUnit.MILLISECOND;
    case 'microsecond':
      return ArrowTimeUnit.MICROSECOND;
    case 'nanosecond':
      return ArrowTimeUnit.NANOSECOND;
  }
}

/** RivetType → Arrow DataType (docs/reference/types.md); `null` for unsupported. */
export function toArrowType(t: RivetType): DataType | null {
  switch (t.kind) {
    case 'bool':
      return new Bool();
    case 'int16':
      return new Int16();
    case 'int32':
      return new Int32();
    case 'int64':
      return new Int64();
    case 'u_int64':
      return new Uint64();
    case 'float32':
      return new Float32();
    case 'float64':
      return new Float64();
    case 'decimal':
      return new Decimal(t.scale, t.precision, t.precision <= MAX_DECIMAL128_PRECISION ? 128 : 256);
    case 'date':
      return new DateDay();
    case 'time':
      switch (t.unit) {
        case 'second':
          return new TimeSecond();
        case 'millisecond':
          return new TimeMillisecond();
        case 'microsecond':
          return new TimeMicrosecond();
        case 'nanosecond':
          return new TimeNanosecond();
      }
      break;
    case 'timestamp':
      return new Timestamp(arrowTimeUnit(t.unit), t.timezone);
    case 'uuid':
      return new FixedSizeBinary(16);
    case 'string':
    case 'text':
    case 'enum':
    case 'interval':
    case 'json':
      return new Utf8();
    case 'binary':
      return new Binary();
    case 'list': {
      const inner = toArrowType(t.inner);
      if (inner === null) return null;
      // Elements keep their canonical extension so readers see list<uuid>, not list<fixed_size_binary[16]>.
      const ext = extensionNameOf(t.inner);
      const meta = ext ? new Map([[META_EXTENSION_NAME, ext], [META_EXTENSION_METADATA, '']]) : undefined;
      return new List(new Field('item', inner, true, meta));
    }
    case 'unsupported':
      return null;
  }
  return null;
}

/** How faithfully a value of this type survives the trip (docs/reference/types.md). */
export function fidelityOf(t: RivetType): Fidelity {
  switch (t.kind) {
    case 'json':
      return 'logical_string';
    case 'enum':
    case 'interval':
      return 'compatible';
    case 'list': {
      const inner = fidelityOf(t.inner);
      return inner === 'lossy' || inner === 'unsupported' ? inner : 'compatible';
    }
    case 'unsupported':
      return 'unsupported';
    default:
      return 'exact';
  }
}

function unitLabel(unit: TimeUnit): string {
  return unit;
}

/** The canonical label used in docs and metadata (docs/reference/types.md). */
export function canonicalLabel(t: RivetType): string {
  switch (t.kind) {
    case 'u_int64':
      return 'uint64';
    case 'decimal':
      return `decimal(${t.precision},${t.scale})`;
    case 'time':
      return `time(${unitLabel(t.unit)})`;
    case 'timestamp':
      return t.timezone === null ? `timestamp(${unitLabel(t.unit)})` : `timestamp_tz(${unitLabel(t.unit)},${t.timezone})`;
    case 'list':
      return `list<${canonicalLabel(t.inner)}>`;
    case 'unsupported':
      return `unsupported(${t.native_type})`;
    default:
      return t.kind;
  }
}

/** The label of the "Rivet type" column of `rivet check --type-report` (docs/reference/types.md). */
export function typeReportLabel(t: RivetType): string {
  switch (t.kind) {
    case 'int16':
      return 'int2';
    case 'int32':
      return 'int4';
    case 'int64':
      return 'int8';
    case 'u_int64':
      return 'uint8';
    case 'float32':
      return 'float4';
    case 'float64':
      return 'float8';
    case 'decimal':
      return `decimal(${t.precision},${t.scale})`;
    case 'time':
      return 'time';
    case 'timestamp':
      return t.timezone === null ? 'timestamp' : 'timestamp_tz';
    case 'string':
    case 'text':
      return 'text';
    case 'list':
      return `list<${typeReportLabel(t.inner)}>`;
    case 'unsupported':
      return `unsupported(${t.native_type})`;
    default:
      return t.kind;
  }
}

/** `rivet.logical_type` value, only for types a plain Utf8/FixedSizeBinary would otherwise hide (docs/reference/types.md). */
export function logicalTypeOf(t: RivetType): string | undefined {
  switch (t.kind) {
    case 'json':
    case 'uuid':
    case 'enum':
    case 'interval':
      return t.kind;
    default:
      return undefined;
  }
}

/** Canonical Arrow extension for types Parquet has a logical type for (JSON, UUID). */
export function extensionNameOf(t: RivetType): string | undefined {
  if (t.kind === 'json') return 'arrow.json';
  if (t.kind === 'uuid') return 'arrow.uuid';
  return undefined;
}

/** Field metadata for a mapped source column (docs/reference/types.md). */
export function fieldMetadata(t: RivetType, nativeType: string): Map<string, string> {
  const meta = new Map<string, string>();
  meta.set(META_NATIVE_TYPE, nativeType);
  meta.set(META_FIDELITY, fidelityOf(t));
  const logical = logicalTypeOf(t);
  if (logical) meta.set(META_LOGICAL_TYPE, logical);
  const ext = extensionNameOf(t);
  if (ext) {
    meta.set(META_EXTENSION_NAME, ext);
    // The canonical JSON/UUID extensions take empty metadata; some readers expect the key.
    meta.set(META_EXTENSION_METADATA, '');
  }
  return meta;
}

/**
 * The Arrow field of a source column: always nullable, with rivet metadata. Throws for
 * `unsupported`, which has no Arrow type: callers collect those first and report them together.
 */
export function rivetField(name: string, t: RivetType, nativeType: string): Field {
  const type = toArrowType(t);
  if (type === null) throw new Error(`internal: column "${name}" has no Arrow type (${canonicalLabel(t)})`);
  return new Field(name, type, true, fieldMetadata(t, nativeType));
}

export function isMetaColumn(name: string): boolean {
  return name.startsWith(META_COLUMN_PREFIX);
}
