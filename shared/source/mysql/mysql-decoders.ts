import { RivetError } from '../../errors/rivet-error.js';
import { canonicalLabel, toArrowType, type RivetType } from '../../types/rivet-type.js';
import { BoolBuilder, FixedWidthBuilder, SizeMemo, VarBytesBuilder, type ColumnBuilder } from '../column-builders.js';
import type { MyWire } from './mysql-types.js';

/**
 * Value decoders for the MySQL text protocol: every cell arrives as bytes (digits and
 * dates as ASCII, strings as UTF-8, BINARY/BLOB raw, BIT as big-endian bytes) and is
 * parsed straight into a preallocated Arrow column — no Date, no per-value objects beyond
 * the driver's buffer slice. Parsing text ourselves also keeps values exact: decimals never
 * pass through a float, DATETIME never through the local time zone.
 */
export interface MyColumnSpec {
  name: string;
  nativeType: string;
  rivetType: RivetType;
  wire: MyWire;
}

export interface MyDecoder {
  builder: ColumnBuilder;
  /** Variable-length values, subject to the single-value ceiling. */
  varlen: boolean;
  decode(v: Buffer): void;
}

const TWO32 = 0x1_0000_0000;
const DAY_US = 86_400_000_000;
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);
const POW10N: bigint[] = Array.from({ length: 80 }, (_, i) => 10n ** BigInt(i));

function valueError(col: MyColumnSpec, what: string, hint: string): RivetError {
  return new RivetError('SOURCE_QUERY', `column "${col.name}" (MySQL type ${col.nativeType}): ${what}`, { hint });
}

function ascii(v: Buffer): string {
  return v.toString('latin1');
}

/** Write a safe integer as two 32-bit words (low, high) of a little-endian int64. */
function writeInt64(values: Uint32Array, i: number, n: number): void {
  values[i] = n >>> 0;
  values[i + 1] = Math.floor(n / TWO32) >>> 0;
}

function writeBig64(values: Uint32Array, i: number, n: bigint): void {
  const u = BigInt.asUintN(64, n);
  values[i] = Number(u & 0xffffffffn);
  values[i + 1] = Number(u >> 32n);
}

/** A decimal integer of up to 15 digits as a Number, else null (callers fall back to BigInt). */
function smallInt(v: Buffer): number | null {
  let i = 0;
  let neg = false;
  if (v[0] === 0x2d) {
    neg = true;
    i = 1;
  } else if (v[0] === 0x2b) i = 1;
  if (v.length - i > 15 || v.length === i) return null;
  let n = 0;
  for (; i < v.length; i++) {
    const d = v[i] - 0x30;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  return neg ? -n : n;
}

function bigIntOf(v: Buffer): bigint | null {
  const s = ascii(v);
  return /^[+-]?\d+$/.test(s) ? BigInt(s) : null;
}

/** Big-endian unsigned bytes (BIT(n)) as a BigInt. */
function bitValue(v: Buffer): bigint {
  let n = 0n;
  for (const b of v) n = (n << 8n) | BigInt(b);
  return n;
}

/** Days from 1970-01-01 of a proleptic Gregorian date (no Date object: years 0-99 stay what they are). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function digits(v: Buffer, from: number, n: number): number {
  let x = 0;
  for (let i = from; i < from + n; i++) {
    const d = v[i] - 0x30;
    if (d < 0 || d > 9) return NaN;
    x = x * 10 + d;
  }
  return x;
}

/** `YYYY-MM-DD` → days since 1970, or null for MySQL's zero / partial-zero dates. */
function parseDate(v: Buffer): number | null {
  const y = digits(v, 0, 4);
  const m = digits(v, 5, 2);
  const d = digits(v, 8, 2);
  if (!(m >= 1 && m <= 12 && d >= 1 && d <= 31) || Number.isNaN(y)) return null;
  return daysFromCivil(y, m, d);
}

/** Fraction digits after `.` at `from` as microseconds (at most 6 digits are sent). */
function fractionMicros(v: Buffer, from: number): number {
  if (from >= v.length || v[from] !== 0x2e) return 0;
  let us = 0;
  let n = 0;
  for (let i = from + 1; i < v.length && n < 6; i++, n++) us = us * 10 + (v[i] - 0x30);
  return us * POW10[6 - n];
}

/** `YYYY-MM-DD HH:MM:SS[.ffffff]` → microseconds since the epoch (as seconds + micros), or null for zero dates. */
function parseDateTime(v: Buffer): { seconds: number; micros: number } | null {
  const days = parseDate(v);
  if (days === null) return null;
  const h = v.length > 11 ? digits(v, 11, 2) : 0;
  const mi = v.length > 14 ? digits(v, 14, 2) : 0;
  const s = v.length > 17 ? digits(v, 17, 2) : 0;
  return { seconds: days * 86400 + h * 3600 + mi * 60 + s, micros: fractionMicros(v, 19) };
}

/** `[-]H…H:MM:SS[.ffffff]` → signed microseconds. */
function parseTime(v: Buffer): number {
  let i = 0;
  let neg = false;
  if (v[0] === 0x2d) {
    neg = true;
    i = 1;
  }
  const colon = v.indexOf(0x3a, i);
  const h = digits(v, i, colon - i);
  const mi = digits(v, colon + 1, 2);
  const s = digits(v, colon + 4, 2);
  const us = (h * 3600 + mi * 60 + s) * 1_000_000 + fractionMicros(v, colon + 6);
  return neg ? -us : us;
}

/** Decimal text → magnitude scaled to `scale`, fraction truncated (03 §6); null when it does not parse. */
function scaledMagnitude(s: string, scale: number): { neg: boolean; mag: bigint } | null {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const neg = m[1] === '-';
  const intPart = m[2] || '0';
  const frac = m[3] ?? '';
  let mag: bigint;
  if (scale >= 0) {
    const f = frac.length >= scale ? frac.slice(0, scale) : frac.padEnd(scale, '0');
    mag = BigInt(intPart + f);
  } else {
    mag = BigInt(intPart) / POW10N[-scale];
  }
  return { neg: neg && mag !== 0n, mag };
}

/** Little-endian two's complement of ±mag over `words` 32-bit words. */
function writeDecimal(values: Uint32Array, i: number, words: number, neg: boolean, mag: bigint): void {
  let v = neg ? BigInt.asUintN(words * 32, -mag) : mag;
  for (let w = 0; w < words; w++) {
    values[i + w] = Number(v & 0xffffffffn);
    v >>= 32n;
  }
}

const HEX_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/**
 * A decoder for `col`, or why none fits (an override the wire value cannot feed). `memo`
 * carries the column's sizes (and recycled memory) from one batch's builders to the next.
 */
export function mysqlDecoderFor(col: MyColumnSpec, capacity: number, onZeroDate: (col: MyColumnSpec) => void, memo: SizeMemo = new SizeMemo()): MyDecoder | string {
  const t = col.rivetType;
  const type = toArrowType(t);
  if (!type) return `${canonicalLabel(t)} has no Arrow type`;
  const wire = col.wire;
  switch (t.kind) {
    case 'bool': {
      const b = new BoolBuilder(type, capacity, memo);
      if (wire === 'bit') return { builder: b, varlen: false, decode: (v) => b.push(v.some((x) => x !== 0)) };
      if (wire === 'bytes') break;
      return {
        builder: b,
        varlen: false,
        decode: (v) => {
          const n = Number(ascii(v));
          if (Number.isNaN(n)) {
            const s = ascii(v).toLowerCase();
            if (s === 'true' || s === 'false') return b.push(s === 'true');
            throw valueError(col, `value ${JSON.stringify(ascii(v).slice(0, 40))} is not a boolean`, 'remove the bool override or cast the column in SQL');
          }
          b.push(n !== 0);
        },
      };
    }
    case 'int16':
    case 'int32': {
      const b = t.kind === 'int16' ? new FixedWidthBuilder(type, Int16Array, 1, capacity, memo) : new FixedWidthBuilder(type, Int32Array, 1, capacity, memo);
      const [min, max] = t.kind === 'int16' ? [-32768, 32767] : [-2147483648, 2147483647];
      if (wire === 'bytes') break;
      return {
        builder: b,
        varlen: false,
        decode: (v) => {
          const n = wire === 'bit' ? Number(bitValue(v)) : smallInt(v);
          if (n === null || !(n >= min && n <= max)) {
            throw valueError(col, `value ${wire === 'bit' ? n : ascii(v).slice(0, 40)} does not fit ${t.kind}`, 'remove the override or use a wider integer type');
          }
          b.push(n);
        },
      };
    }
    case 'int64':
    case 'u_int64': {
      const b = new FixedWidthBuilder(type, Uint32Array, 2, capacity, memo);
      const signed = t.kind === 'int64';
      const [min, max] = signed ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
      if (wire === 'bytes') break;
      return {
        builder: b,
        varlen: false,
        decode: (v) => {
          if (wire === 'bit') {
            const i = b.next();
            return writeBig64(b.values, i, bitValue(v));
          }
          const small = smallInt(v);
          if (small !== null && (signed || small >= 0)) {
            const i = b.next();
            return writeInt64(b.values, i, small);
          }
          const big = bigIntOf(v);
          if (big === null || big < min || big > max) {
            throw valueError(col, `value ${ascii(v).slice(0, 40)} does not fit ${t.kind === 'int64' ? 'int64' : 'uint64'}`, 'remove the override or cast the column in SQL');
          }
          const i = b.next();
          writeBig64(b.values, i, big);
        },
      };
    }
    case 'float32':
    case 'float64': {
      if (wire !== 'text') break;
      const b = t.kind === 'float32' ? new FixedWidthBuilder(type, Float32Array, 1, capacity, memo) : new FixedWidthBuilder(type, Float64Array, 1, capacity, memo);
      return { builder: b, varlen: false, decode: (v) => b.push(Number(ascii(v))) };
    }
    case 'decimal': {
      if (wire !== 'text') break;
      const words = t.precision <= 38 ? 4 : 8;
      const b = new FixedWidthBuilder(type, Uint32Array, words, capacity, memo);
      const limit = POW10N[t.precision];
      const autodetected = col.nativeType === 'decimal';
      return {
        builder: b,
        varlen: false,
        decode: (v) => {
          const s = ascii(v);
          const parsed = scaledMagnitude(s, t.scale);
          if (parsed === null) {
            // 03 §6: on MySQL a decimal override whose value does not parse becomes NULL.
            if (!autodetected) return b.appendNull();
            throw valueError(col, `value ${JSON.stringify(s.slice(0, 40))} is not a decimal`, 'cast the column in SQL');
          }
          if (parsed.mag >= limit) {
            throw valueError(col, `value ${s} does not fit ${canonicalLabel(t)}`, 'override the column with a larger decimal(p,s) or cast it in SQL');
          }
          const i = b.next();
          writeDecimal(b.values, i, words, parsed.neg, parsed.mag);
        },
      };
    }
    case 'date': {
      if (wire !== 'text') break;
      const b = new FixedWidthBuilder(type, Int32Array, 1, capacity, memo);
      return {
        builder: b,
        varlen: false,
        decode: (v) => {
          const days = parseDate(v);
          if (days === null) {
            onZeroDate(col);
            return b.appendNull();
          }
          b.push(days);
        },
      };
    }
    case 'time': {
      if (wire !== 'text' || t.unit !== 'microsecond') break;
      const b = new FixedWidthBuilder(type, Uint32Array, 2, capacity, memo);
      return {
        builder: b,
        varlen: false,
        decode: (v) => {
          const us = parseTime(v);
          if (!(us >= 0 && us < DAY_US)) {
            throw valueError(
              col,
              `value ${ascii(v)} is not a time of day (MySQL TIME also holds durations and negative values; Arrow time64 holds 00:00:00..23:59:59.999999)`,
              `export it as text: add \`columns: { ${col.name}: string }\`, or convert it in SQL`,
            );
          }
          const i = b.next();
          writeInt64(b.values, i, us);
        },
      };
    }
    case 'timestamp': {
      if (wire !== 'text') break;
      const b = new FixedWidthBuilder(type, Uint32Array, 2, capacity, memo);
      const ns = t.unit === 'nanosecond';
      if (t.unit !== 'microsecond' && !ns) break;
      const minNs = -(2n ** 63n);
      const maxNs = 2n ** 63n - 1n;
      return {
        builder: b,
        varlen: false,
        decode: (v) => {
          const dt = parseDateTime(v);
          if (dt === null) {
            onZeroDate(col);
            return b.appendNull();
          }
          const i = b.next();
          if (ns) {
            const n = (BigInt(dt.seconds) * 1_000_000n + BigInt(dt.micros)) * 1000n;
            if (n < minNs || n > maxNs) {
              throw valueError(col, `value ${ascii(v)} is outside 1677-09-21..2262-04-11, the range of nanosecond timestamps`, 'use a microsecond timestamp override');
            }
            return writeBig64(b.values, i, n);
          }
          const us = dt.seconds * 1_000_000 + dt.micros;
          if (Number.isSafeInteger(us)) writeInt64(b.values, i, us);
          else writeBig64(b.values, i, BigInt(dt.seconds) * 1_000_000n + BigInt(dt.micros));
        },
      };
    }
    case 'string':
    case 'text':
    case 'enum':
    case 'json': {
      const b = new VarBytesBuilder(type, capacity, col.name, memo);
      if (wire === 'bit') return { builder: b, varlen: false, decode: (v) => b.appendString(bitValue(v).toString()) };
      return { builder: b, varlen: true, decode: (v) => b.append(v, 0, v.length) };
    }
    case 'binary': {
      const b = new VarBytesBuilder(type, capacity, col.name, memo);
      return { builder: b, varlen: true, decode: (v) => b.append(v, 0, v.length) };
    }
    case 'uuid': {
      const b = new FixedWidthBuilder(type, Uint8Array, 16, capacity, memo);
      return {
        builder: b,
        varlen: false,
        decode: (v) => {
          // 03 §3: values that are not UUIDs become NULL.
          if (wire === 'bytes' && v.length === 16) {
            const i = b.next();
            return b.values.set(v, i);
          }
          const s = v.toString('utf8');
          if (!HEX_RE.test(s)) return b.appendNull();
          const i = b.next();
          b.values.set(Buffer.from(s.replace(/-/g, ''), 'hex'), i);
        },
      };
    }
    case 'interval':
    case 'list':
    case 'unsupported':
      break;
  }
  return `${canonicalLabel(t)} cannot be read from MySQL type ${col.nativeType}`;
}
