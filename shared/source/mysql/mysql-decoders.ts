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
  /** Decode the value held in `buf[start, end)` (a row packet, or a buffer of its own). */
  decode(buf: Buffer, start: number, end: number): void;
}

const TWO32 = 0x1_0000_0000;
const DAY_US = 86_400_000_000;
// Powers of ten exactly representable as doubles (10^22 is the last), parsed from text so each is exact.
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
const POW10N: bigint[] = Array.from({ length: 80 }, (_, i) => 10n ** BigInt(i));

function valueError(col: MyColumnSpec, what: string, hint: string): RivetError {
  return new RivetError('SOURCE_QUERY', `column "${col.name}" (MySQL type ${col.nativeType}): ${what}`, { hint });
}

function ascii(v: Buffer, start: number, end: number): string {
  return v.toString('latin1', start, end);
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
function smallInt(v: Buffer, start: number, end: number): number | null {
  let i = start;
  let neg = false;
  if (v[i] === 0x2d) {
    neg = true;
    i++;
  } else if (v[i] === 0x2b) i++;
  if (end - i > 15 || end === i) return null;
  let n = 0;
  for (; i < end; i++) {
    const d = v[i] - 0x30;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  return neg ? -n : n;
}

function bigIntOf(v: Buffer, start: number, end: number): bigint | null {
  const s = ascii(v, start, end);
  return /^[+-]?\d+$/.test(s) ? BigInt(s) : null;
}

/** Big-endian unsigned bytes (BIT(n)) as a BigInt. */
function bitValue(v: Buffer, start: number, end: number): bigint {
  let n = 0n;
  for (let i = start; i < end; i++) n = (n << 8n) | BigInt(v[i]);
  return n;
}

/**
 * A double's text as MySQL prints it, parsed without a string when that is exact: at most
 * 15 significant digits and no exponent make an integer below 2^53 over an exact power of
 * ten (≤ 10^22), and one IEEE division of two exact values is correctly rounded — the same
 * double `Number(text)` gives. Anything else (17-digit values, exponents, inf) goes through
 * `Number` on the text.
 */
export function parseDouble(v: Buffer, start: number, end: number): number {
  let i = start;
  const neg = v[i] === 0x2d;
  if (neg) i++;
  let m = 0;
  let seen = 0;
  let significant = 0;
  let fraction = -1;
  for (; i < end; i++) {
    const c = v[i];
    if (c === 0x2e && fraction < 0) {
      fraction = 0;
      continue;
    }
    const d = c - 0x30;
    if (d < 0 || d > 9) return Number(ascii(v, start, end));
    if (m !== 0 || d !== 0) significant++;
    m = m * 10 + d;
    seen++;
    if (fraction >= 0) fraction++;
  }
  if (seen === 0 || significant > 15 || fraction > 22) return Number(ascii(v, start, end));
  const x = fraction > 0 ? m / POW10[fraction] : m;
  return neg ? -x : x;
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

/** `YYYY-MM-DD` at `start` → days since 1970, or null for MySQL's zero / partial-zero dates. */
function parseDate(v: Buffer, start: number, end: number): number | null {
  if (end - start < 10) return null;
  const y = digits(v, start, 4);
  const m = digits(v, start + 5, 2);
  const d = digits(v, start + 8, 2);
  if (!(m >= 1 && m <= 12 && d >= 1 && d <= 31) || Number.isNaN(y)) return null;
  return daysFromCivil(y, m, d);
}

/** Fraction digits after `.` at `from` as microseconds (at most 6 digits are sent). */
function fractionMicros(v: Buffer, from: number, end: number): number {
  if (from >= end || v[from] !== 0x2e) return 0;
  let us = 0;
  let n = 0;
  for (let i = from + 1; i < end && n < 6; i++, n++) us = us * 10 + (v[i] - 0x30);
  return us * POW10[6 - n];
}

/** `YYYY-MM-DD HH:MM:SS[.ffffff]` → whole seconds since the epoch, or null for zero dates (micros: `fractionMicros(v, start + 19, end)`). */
function parseDateTimeSeconds(v: Buffer, start: number, end: number): number | null {
  const days = parseDate(v, start, end);
  if (days === null) return null;
  const n = end - start;
  const h = n > 11 ? digits(v, start + 11, 2) : 0;
  const mi = n > 14 ? digits(v, start + 14, 2) : 0;
  const s = n > 17 ? digits(v, start + 17, 2) : 0;
  return days * 86400 + h * 3600 + mi * 60 + s;
}

/** `[-]H…H:MM:SS[.ffffff]` → signed microseconds. */
function parseTime(v: Buffer, start: number, end: number): number {
  let i = start;
  let neg = false;
  if (v[i] === 0x2d) {
    neg = true;
    i++;
  }
  const colon = v.indexOf(0x3a, i);
  if (colon < 0 || colon >= end) return NaN;
  const h = digits(v, i, colon - i);
  const mi = digits(v, colon + 1, 2);
  const s = digits(v, colon + 4, 2);
  const us = (h * 3600 + mi * 60 + s) * 1_000_000 + fractionMicros(v, colon + 6, end);
  return neg ? -us : us;
}

/** Decimal text → magnitude scaled to `scale`, fraction truncated (docs/reference/types.md); null when it does not parse. */
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

/**
 * The decimal text in `v[start, end)` scaled to `scale` (fraction truncated, as
 * `scaledMagnitude`) as a signed Number, when its magnitude has at most 15 significant
 * digits (so it is exact); NaN when the text needs the BigInt path (longer, malformed).
 */
export function smallScaledDecimal(v: Buffer, start: number, end: number, scale: number): number {
  let i = start;
  let neg = false;
  if (v[i] === 0x2d) {
    neg = true;
    i++;
  } else if (v[i] === 0x2b) i++;
  let mag = 0;
  let significant = 0;
  let seen = 0;
  for (; i < end; i++) {
    const d = v[i] - 0x30;
    if (d < 0 || d > 9) break;
    if (mag !== 0 || d !== 0) significant++;
    mag = mag * 10 + d;
    seen++;
  }
  let fracDigits = 0;
  if (i < end) {
    if (v[i] !== 0x2e) return NaN;
    for (i++; i < end; i++) {
      const d = v[i] - 0x30;
      if (d < 0 || d > 9) return NaN;
      seen++;
      // Digits past the scale are truncated, but still checked to be digits.
      if (fracDigits === scale) continue;
      if (mag !== 0 || d !== 0) significant++;
      mag = mag * 10 + d;
      fracDigits++;
    }
  }
  if (seen === 0 || significant > 15 || scale < 0) return NaN;
  for (; fracDigits < scale; fracDigits++) {
    if (mag !== 0) significant++;
    mag *= 10;
  }
  if (significant > 15) return NaN;
  return neg ? -mag : mag;
}

/** Little-endian two's complement of ±mag over `words` 32-bit words. */
function writeDecimal(values: Uint32Array, i: number, words: number, neg: boolean, mag: bigint): void {
  let v = neg ? BigInt.asUintN(words * 32, -mag) : mag;
  for (let w = 0; w < words; w++) {
    values[i + w] = Number(v & 0xffffffffn);
    v >>= 32n;
  }
}

/** A signed integer below 2^53 as the little-endian two's complement over `words` 32-bit words. */
function writeSmallDecimal(values: Uint32Array, i: number, words: number, n: number): void {
  values[i] = n >>> 0;
  values[i + 1] = Math.floor(n / TWO32) >>> 0;
  const fill = n < 0 ? 0xffffffff : 0;
  for (let w = 2; w < words; w++) values[i + w] = fill;
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
      if (wire === 'bit') {
        return {
          builder: b,
          varlen: false,
          decode: (v, s, e) => {
            let any = false;
            for (let i = s; i < e; i++) any ||= v[i] !== 0;
            b.push(any);
          },
        };
      }
      if (wire === 'bytes') break;
      return {
        builder: b,
        varlen: false,
        decode: (v, s, e) => {
          // TINYINT(1) sends "0" or "1" nearly always: one byte, no string.
          if (e - s === 1 && (v[s] === 0x30 || v[s] === 0x31)) return b.push(v[s] === 0x31);
          const text = ascii(v, s, e);
          const n = Number(text);
          if (Number.isNaN(n)) {
            const lower = text.toLowerCase();
            if (lower === 'true' || lower === 'false') return b.push(lower === 'true');
            throw valueError(col, `value ${JSON.stringify(text.slice(0, 40))} is not a boolean`, 'remove the bool override or cast the column in SQL');
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
        decode: (v, s, e) => {
          const n = wire === 'bit' ? Number(bitValue(v, s, e)) : smallInt(v, s, e);
          if (n === null || !(n >= min && n <= max)) {
            throw valueError(col, `value ${wire === 'bit' ? n : ascii(v, s, e).slice(0, 40)} does not fit ${t.kind}`, 'remove the override or use a wider integer type');
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
        decode: (v, s, e) => {
          if (wire === 'bit') {
            const i = b.next();
            return writeBig64(b.values, i, bitValue(v, s, e));
          }
          const small = smallInt(v, s, e);
          if (small !== null && (signed || small >= 0)) {
            const i = b.next();
            return writeInt64(b.values, i, small);
          }
          const big = bigIntOf(v, s, e);
          if (big === null || big < min || big > max) {
            throw valueError(col, `value ${ascii(v, s, e).slice(0, 40)} does not fit ${t.kind === 'int64' ? 'int64' : 'uint64'}`, 'remove the override or cast the column in SQL');
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
      // float32: the double nearest the text, rounded once more on the store — as before.
      return { builder: b, varlen: false, decode: (v, s, e) => b.push(parseDouble(v, s, e)) };
    }
    case 'decimal': {
      if (wire !== 'text') break;
      const words = t.precision <= 38 ? 4 : 8;
      const b = new FixedWidthBuilder(type, Uint32Array, words, capacity, memo);
      const limit = POW10N[t.precision];
      // Values below 10^15 in magnitude always fit when the precision has more digits than that.
      const smallLimit = t.precision <= 15 ? POW10[t.precision] : Infinity;
      const scale = t.scale;
      const autodetected = col.nativeType === 'decimal';
      return {
        builder: b,
        varlen: false,
        decode: (v, s, e) => {
          // Up to 15 significant digits (decimal(15,4) and most money columns): exact as a Number, no string, no BigInt.
          const small = smallScaledDecimal(v, s, e, scale);
          if (small === small && (small < 0 ? -small : small) < smallLimit) {
            const i = b.next();
            return writeSmallDecimal(b.values, i, words, small);
          }
          const text = ascii(v, s, e);
          const parsed = scaledMagnitude(text, scale);
          if (parsed === null) {
            // docs/reference/types.md: on MySQL a decimal override whose value does not parse becomes NULL.
            if (!autodetected) return b.appendNull();
            throw valueError(col, `value ${JSON.stringify(text.slice(0, 40))} is not a decimal`, 'cast the column in SQL');
          }
          if (parsed.mag >= limit) {
            throw valueError(col, `value ${text} does not fit ${canonicalLabel(t)}`, 'override the column with a larger decimal(p,s) or cast it in SQL');
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
        decode: (v, s, e) => {
          const days = parseDate(v, s, e);
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
        decode: (v, s, e) => {
          const us = parseTime(v, s, e);
          if (!(us >= 0 && us < DAY_US)) {
            throw valueError(
              col,
              `value ${ascii(v, s, e)} is not a time of day (MySQL TIME also holds durations and negative values; Arrow time64 holds 00:00:00..23:59:59.999999)`,
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
        decode: (v, s, e) => {
          const seconds = parseDateTimeSeconds(v, s, e);
          if (seconds === null) {
            onZeroDate(col);
            return b.appendNull();
          }
          const micros = fractionMicros(v, s + 19, e);
          const i = b.next();
          if (ns) {
            const n = (BigInt(seconds) * 1_000_000n + BigInt(micros)) * 1000n;
            if (n < minNs || n > maxNs) {
              throw valueError(col, `value ${ascii(v, s, e)} is outside 1677-09-21..2262-04-11, the range of nanosecond timestamps`, 'use a microsecond timestamp override');
            }
            return writeBig64(b.values, i, n);
          }
          const us = seconds * 1_000_000 + micros;
          if (Number.isSafeInteger(us)) writeInt64(b.values, i, us);
          else writeBig64(b.values, i, BigInt(seconds) * 1_000_000n + BigInt(micros));
        },
      };
    }
    case 'string':
    case 'text':
    case 'enum':
    case 'json': {
      const b = new VarBytesBuilder(type, capacity, col.name, memo);
      if (wire === 'bit') return { builder: b, varlen: false, decode: (v, s, e) => b.appendString(bitValue(v, s, e).toString()) };
      return { builder: b, varlen: true, decode: (v, s, e) => b.append(v, s, e) };
    }
    case 'binary': {
      const b = new VarBytesBuilder(type, capacity, col.name, memo);
      return { builder: b, varlen: true, decode: (v, s, e) => b.append(v, s, e) };
    }
    case 'uuid': {
      const b = new FixedWidthBuilder(type, Uint8Array, 16, capacity, memo);
      return {
        builder: b,
        varlen: false,
        decode: (v, s, e) => {
          // docs/reference/types.md: values that are not UUIDs become NULL.
          if (wire === 'bytes' && e - s === 16) {
            const i = b.next();
            return b.values.set(v.subarray(s, e), i);
          }
          const text = v.toString('utf8', s, e);
          if (!HEX_RE.test(text)) return b.appendNull();
          const i = b.next();
          b.values.set(Buffer.from(text.replace(/-/g, ''), 'hex'), i);
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
