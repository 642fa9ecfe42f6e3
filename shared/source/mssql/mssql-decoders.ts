import { RivetError } from '../../errors/rivet-error.js';
import { canonicalLabel, toArrowType, type RivetType } from '../../types/rivet-type.js';
import { BoolBuilder, FixedWidthBuilder, VarBytesBuilder, type ColumnBuilder } from '../column-builders.js';
import type { MssqlWire } from './mssql-types.js';

/**
 * Value decoders for rows as tedious hands them over (`useColumnNames: false`, exact
 * decimals installed): each JavaScript value is written straight into a preallocated Arrow
 * column. Temporal values are rebuilt from the Date's UTC fields plus tedious's
 * `nanosecondsDelta` (the sub-millisecond part, in seconds), so datetime2/time keep their
 * microseconds; datetime2(7)'s last digit (100 ns) is truncated for microsecond columns.
 */
export interface MssqlColumnSpec {
  name: string;
  nativeType: string;
  rivetType: RivetType;
  wire: MssqlWire;
  /** Scale of exact decimals as they arrive (`exact-decimal` wire). */
  wireScale?: number;
}

export interface MssqlDecoder {
  builder: ColumnBuilder;
  /** Variable-length values, subject to the single-value ceiling. */
  varlen: boolean;
  decode(v: unknown): void;
}

const TWO32 = 0x1_0000_0000;
const MS_PER_DAY = 86_400_000;
const DAY_US = 86_400_000_000;
const POW10N: bigint[] = Array.from({ length: 80 }, (_, i) => 10n ** BigInt(i));
const HEX_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function valueError(col: MssqlColumnSpec, what: string, hint: string): RivetError {
  return new RivetError('SOURCE_QUERY', `column "${col.name}" (SQL Server type ${col.nativeType}): ${what}`, { hint });
}

function writeInt64(values: Uint32Array, i: number, n: number): void {
  values[i] = n >>> 0;
  values[i + 1] = Math.floor(n / TWO32) >>> 0;
}

function writeBig64(values: Uint32Array, i: number, n: bigint): void {
  const u = BigInt.asUintN(64, n);
  values[i] = Number(u & 0xffffffffn);
  values[i + 1] = Number(u >> 32n);
}

/** Little-endian two's complement of `v` over `words` 32-bit words. */
function writeDecimal(values: Uint32Array, i: number, words: number, v: bigint): void {
  let u = BigInt.asUintN(words * 32, v);
  for (let w = 0; w < words; w++) {
    values[i + w] = Number(u & 0xffffffffn);
    u >>= 32n;
  }
}

/** 100-nanosecond ticks below the millisecond that tedious keeps beside a Date (0..9999). */
function subMillisTicks(d: Date): number {
  const delta = (d as Date & { nanosecondsDelta?: number }).nanosecondsDelta;
  return typeof delta === 'number' ? Math.round(delta * 1e7) : 0;
}

/** Microseconds since the epoch of a tedious temporal value (UTC fields = the value). */
export function dateMicros(d: Date): number {
  return d.getTime() * 1000 + Math.floor(subMillisTicks(d) / 10);
}

function dateNanos(d: Date): bigint {
  return BigInt(d.getTime()) * 1_000_000n + BigInt(subMillisTicks(d) * 100);
}

/** An unscaled decimal moved from scale `from` to scale `to`; extra digits are truncated (docs/reference/types.md). */
export function rescale(v: bigint, from: number, to: number): bigint {
  if (to === from) return v;
  if (to > from) return v * POW10N[to - from];
  return v / POW10N[from - to];
}

/** Exact decimal text of an unscaled value. */
export function decimalText(v: bigint, scale: number): string {
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString();
  if (scale <= 0) return (neg ? '-' : '') + digits + '0'.repeat(-scale);
  const padded = digits.padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
}

/** Text of a value for a `string` override: ISO-like for temporal values, exact for decimals. */
function textOf(v: unknown, col: MssqlColumnSpec): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return col.wire === 'exact-decimal' ? decimalText(v, col.wireScale ?? 0) : v.toString();
  if (v instanceof Date) {
    const iso = v.toISOString();
    const us = String(Math.floor(subMillisTicks(v) / 10)).padStart(3, '0');
    switch (col.wire) {
      case 'date':
        return iso.slice(0, 10);
      case 'time':
        return `${iso.slice(11, 23)}${us}`;
      case 'datetimeoffset':
        return `${iso.slice(0, 10)} ${iso.slice(11, 23)}${us}+00:00`;
      default:
        return `${iso.slice(0, 10)} ${iso.slice(11, 23)}${us}`;
    }
  }
  if (Buffer.isBuffer(v)) return v.toString('hex');
  return String(v);
}

/** A decoder for `col`, or why none fits (an override the wire value cannot feed). */
export function mssqlDecoderFor(col: MssqlColumnSpec, capacity: number): MssqlDecoder | string {
  const t = col.rivetType;
  const type = toArrowType(t);
  if (!type) return `${canonicalLabel(t)} has no Arrow type`;
  const wire = col.wire;
  const wireScale = col.wireScale ?? 0;
  const temporal = wire === 'date' || wire === 'datetime' || wire === 'datetimeoffset';
  switch (t.kind) {
    case 'bool': {
      if (wire !== 'bool' && wire !== 'number') break;
      const b = new BoolBuilder(type, capacity);
      return { builder: b, varlen: false, decode: (v) => b.push(wire === 'bool' ? v === true : v !== 0) };
    }
    case 'int16':
    case 'int32': {
      if (wire !== 'number' && wire !== 'bigint-string' && !(wire === 'exact-decimal' && wireScale === 0)) break;
      const b = t.kind === 'int16' ? new FixedWidthBuilder(type, Int16Array, 1, capacity) : new FixedWidthBuilder(type, Int32Array, 1, capacity);
      const [min, max] = t.kind === 'int16' ? [-32768, 32767] : [-2147483648, 2147483647];
      return {
        builder: b,
        varlen: false,
        decode: (v) => {
          const n = Number(v);
          if (!Number.isInteger(n) || n < min || n > max) {
            throw valueError(col, `value ${String(v)} does not fit ${t.kind}`, 'remove the override or use a wider integer type');
          }
          b.push(n);
        },
      };
    }
    case 'int64': {
      if (wire !== 'number' && wire !== 'bigint-string' && !(wire === 'exact-decimal' && wireScale === 0)) break;
      const b = new FixedWidthBuilder(type, Uint32Array, 2, capacity);
      return {
        builder: b,
        varlen: false,
        decode: (v) => {
          if (typeof v === 'number') {
            if (!Number.isSafeInteger(v)) throw valueError(col, `value ${v} is not an integer`, 'remove the int64 override');
            const i = b.next();
            return writeInt64(b.values, i, v);
          }
          const big = BigInt(v as string | bigint);
          if (big < -(2n ** 63n) || big >= 2n ** 63n) throw valueError(col, `value ${big} does not fit int64`, 'override the column with a decimal(p,0) instead');
          const i = b.next();
          writeBig64(b.values, i, big);
        },
      };
    }
    case 'float32':
    case 'float64': {
      if (wire !== 'number' && wire !== 'bigint-string' && wire !== 'exact-decimal') break;
      const b = t.kind === 'float32' ? new FixedWidthBuilder(type, Float32Array, 1, capacity) : new FixedWidthBuilder(type, Float64Array, 1, capacity);
      if (wire === 'exact-decimal') return { builder: b, varlen: false, decode: (v) => b.push(Number(decimalText(v as bigint, wireScale))) };
      return { builder: b, varlen: false, decode: (v) => b.push(Number(v)) };
    }
    case 'decimal': {
      if (wire !== 'exact-decimal' && wire !== 'number' && wire !== 'bigint-string') break;
      const words = t.precision <= 38 ? 4 : 8;
      const b = new FixedWidthBuilder(type, Uint32Array, words, capacity);
      const limit = POW10N[t.precision];
      const from = wire === 'exact-decimal' ? wireScale : 0;
      return {
        builder: b,
        varlen: false,
        decode: (v) => {
          if (typeof v === 'number' && !Number.isInteger(v)) throw valueError(col, `value ${v} is not an integer`, 'remove the decimal override');
          const scaled = rescale(BigInt(v as number | string | bigint), from, t.scale);
          if (scaled >= limit || -scaled >= limit) {
            throw valueError(col, `value ${textOf(v, col)} does not fit ${canonicalLabel(t)}`, 'override the column with a larger decimal(p,s) or cast it in SQL');
          }
          const i = b.next();
          writeDecimal(b.values, i, words, scaled);
        },
      };
    }
    case 'date': {
      if (!temporal) break;
      const b = new FixedWidthBuilder(type, Int32Array, 1, capacity);
      return { builder: b, varlen: false, decode: (v) => b.push(Math.floor((v as Date).getTime() / MS_PER_DAY)) };
    }
    case 'time': {
      if (wire !== 'time' || t.unit !== 'microsecond') break;
      const b = new FixedWidthBuilder(type, Uint32Array, 2, capacity);
      return {
        builder: b,
        varlen: false,
        decode: (v) => {
          const us = dateMicros(v as Date);
          if (!(us >= 0 && us < DAY_US)) throw valueError(col, `value is not a time of day`, 'convert the column in SQL');
          const i = b.next();
          writeInt64(b.values, i, us);
        },
      };
    }
    case 'timestamp': {
      if (!temporal || (t.unit !== 'microsecond' && t.unit !== 'nanosecond')) break;
      const b = new FixedWidthBuilder(type, Uint32Array, 2, capacity);
      if (t.unit === 'nanosecond') {
        const min = -(2n ** 63n);
        const max = 2n ** 63n - 1n;
        return {
          builder: b,
          varlen: false,
          decode: (v) => {
            const ns = dateNanos(v as Date);
            // docs/reference/types.md: values outside the nanosecond range (1677..2262) become NULL.
            if (ns < min || ns > max) return b.appendNull();
            const i = b.next();
            writeBig64(b.values, i, ns);
          },
        };
      }
      return {
        builder: b,
        varlen: false,
        decode: (v) => {
          // next() may grow (replace) `values`: take the index first.
          const i = b.next();
          writeInt64(b.values, i, dateMicros(v as Date));
        },
      };
    }
    case 'string':
    case 'text':
    case 'enum':
    case 'json': {
      if (wire === 'buffer' || wire === 'other') break;
      const b = new VarBytesBuilder(type, capacity, col.name);
      if (wire === 'string' || wire === 'guid') return { builder: b, varlen: true, decode: (v) => b.appendString(v as string) };
      return { builder: b, varlen: false, decode: (v) => b.appendString(textOf(v, col)) };
    }
    case 'binary': {
      if (wire !== 'buffer' && wire !== 'string') break;
      const b = new VarBytesBuilder(type, capacity, col.name);
      if (wire === 'string') return { builder: b, varlen: true, decode: (v) => b.appendString(v as string) };
      return {
        builder: b,
        varlen: true,
        decode: (v) => {
          const buf = v as Buffer;
          b.append(buf, 0, buf.length);
        },
      };
    }
    case 'uuid': {
      if (wire !== 'guid' && wire !== 'string' && wire !== 'buffer') break;
      const b = new FixedWidthBuilder(type, Uint8Array, 16, capacity);
      return {
        builder: b,
        varlen: false,
        decode: (v) => {
          if (Buffer.isBuffer(v)) {
            // binary(16) overridden as uuid: the bytes are taken in RFC 4122 order as stored.
            if (v.length !== 16) return b.appendNull();
            const i = b.next();
            return b.values.set(v, i);
          }
          // tedious already reorders uniqueidentifier's mixed-endian wire bytes into canonical text.
          const s = (v as string).trim();
          if (!HEX_RE.test(s)) return b.appendNull();
          const i = b.next();
          b.values.set(Buffer.from(s.replace(/-/g, ''), 'hex'), i);
        },
      };
    }
    case 'u_int64':
    case 'interval':
    case 'list':
    case 'unsupported':
      break;
  }
  return `${canonicalLabel(t)} cannot be read from SQL Server type ${col.nativeType}`;
}
