import { i16, i32, u16, u32 } from './big-endian.js';
import { RivetError } from '../../errors/rivet-error.js';
import { canonicalLabel, toArrowType, type RivetType } from '../../types/rivet-type.js';
import { BoolBuilder, FixedWidthBuilder, ListBuilder, SizeMemo, VarBytesBuilder, type ColumnBuilder } from '../column-builders.js';
import { bitText, inetText, macText, pgDateText, pgTimestampText, rangeText, timetzText, type BoundText } from './pg-binary-text.js';
import { arrayElementOid, PgOid, type PgTypeCatalog } from './pg-types.js';

/**
 * Decoders for PostgreSQL's binary wire format. A decoder receives one non-NULL field value
 * as (buffer, offset, length) and writes it straight into its column builder. That is the
 * shape of a field both in a DataRow message and in a binary `COPY … TO STDOUT` tuple, so
 * either reader can drive the same decoders.
 */
export type Decode = (buf: Buffer, off: number, len: number) => void;

export interface FieldDecoder {
  readonly builder: ColumnBuilder;
  readonly decode: Decode;
  /** Variable-length values (text/bytes): subject to the `max_value_mb` ceiling. */
  readonly varlen: boolean;
  /**
   * `decode` as source text for the generated field loop (pg-batch-builder.ts), for the
   * hottest fixed-width decoders: a statement with `buf`, `p` (the value's offset) and `len`
   * in scope, and `$` standing for this decoder object. It must do exactly what `decode` does.
   */
  readonly source?: string;
  /** Out-of-line helper a `source` text may call as `$.rare(…)`. */
  readonly rare?: (a: number, b: number) => void;
}

/** Big-endian int32 at `buf[p + o]`, as source text. */
const I32_AT = (o: number) => `((buf[p + ${o}] << 24) | (buf[p + ${o + 1}] << 16) | (buf[p + ${o + 2}] << 8) | buf[p + ${o + 3}])`;

/** 8 big-endian bytes into two little-endian words of a width-2 Uint32Array builder (int8, float8, time). */
const SWAP64_SOURCE = `{ const b = $.builder; const i = b.next(); const v = b.values; v[i] = ${I32_AT(4)}; v[i + 1] = ${I32_AT(0)}; }`;

/** 8 big-endian bytes stored as they are, as two little-endian words: int8, float8 and time share it. */
function swap64Decoder(b: FixedWidthBuilder<Uint32Array>): FieldDecoder {
  return {
    builder: b,
    varlen: false,
    source: SWAP64_SOURCE,
    decode: (buf, off) => {
      const i = b.next();
      b.values[i] = i32(buf, off + 4);
      b.values[i + 1] = i32(buf, off);
    },
  };
}

/** What a decoder needs to know about its column. */
export interface PgColumnSpec {
  name: string;
  /** OID whose binary format the server sends (domains already resolved to their base). */
  wireOid: number;
  /** Native type name, for messages. */
  nativeType: string;
  /** The target type (override or autodetected). */
  rivetType: RivetType;
  /** True when `wireOid` is an enum type. */
  isEnum: boolean;
  /** Fraction digits of `money` under the server's lc_monetary (money columns only). */
  moneyDigits?: number;
  /** For array columns whose element type needs the catalog (enums, domains): the element. */
  element?: { wireOid: number; nativeType: string; isEnum: boolean };
}

/** PostgreSQL epoch (2000-01-01) relative to the Unix epoch. */
const PG_EPOCH_DAYS = 10957;
const PG_EPOCH_MICROS = 946_684_800_000_000;
const TWO32 = 0x1_0000_0000;
const EPOCH_HI = Math.floor(PG_EPOCH_MICROS / TWO32);
const EPOCH_LO = PG_EPOCH_MICROS - EPOCH_HI * TWO32;
const INT32_MAX = 0x7fffffff;
const INT32_MIN = -0x80000000;
/** Highest high word of a PostgreSQL timestamp whose shift to the Unix epoch cannot overflow int64. */
const SHIFT_SAFE_HI = INT32_MAX - EPOCH_HI - 1;

const NO_CATALOG: PgTypeCatalog = new Map();

const TEXT_LIKE: ReadonlySet<number> = new Set([PgOid.text, PgOid.varchar, PgOid.bpchar, PgOid.name]);
const INT_LIKE: ReadonlySet<number> = new Set([PgOid.int2, PgOid.int4, PgOid.int8, PgOid.oid]);

function valueError(col: PgColumnSpec, what: string, hint: string): RivetError {
  return new RivetError('TYPE_UNSUPPORTED', `column "${col.name}" (PG type ${col.nativeType}): ${what}`, { hint });
}

/** An integer field as a JS number; int8 values beyond ±2^53 throw (callers only narrow with range checks). */
function intReader(oid: number, col: PgColumnSpec): (buf: Buffer, off: number) => number {
  switch (oid) {
    case PgOid.int2:
      return (buf, off) => i16(buf, off);
    case PgOid.int4:
      return (buf, off) => i32(buf, off);
    case PgOid.oid:
      return (buf, off) => u32(buf, off);
    default:
      return (buf, off) => {
        const n = i32(buf, off) * TWO32 + u32(buf, off + 4);
        if (!Number.isSafeInteger(n)) {
          throw valueError(col, `value ${buf.readBigInt64BE(off)} does not fit ${canonicalLabel(col.rivetType)}`, 'cast the column in SQL or override it with a wider type');
        }
        return n;
      };
  }
}

function rangeChecked(read: (buf: Buffer, off: number) => number, min: number, max: number, col: PgColumnSpec) {
  return (buf: Buffer, off: number): number => {
    const n = read(buf, off);
    if (n < min || n > max) {
      throw valueError(col, `value ${n} does not fit ${canonicalLabel(col.rivetType)}`, 'override the column with a wider integer type');
    }
    return n;
  };
}

/** Write a safe integer as little-endian two's complement words [lo, hi]. */
function writeInt64Words(values: Uint32Array, i: number, n: number): void {
  values[i] = n >>> 0;
  values[i + 1] = Math.floor(n / TWO32) >>> 0;
}

// ---------------------------------------------------------------------------------------
// NUMERIC
// ---------------------------------------------------------------------------------------

const NUMERIC_POS = 0x0000;
const NUMERIC_NEG = 0x4000;
const NUMERIC_NAN = 0xc000;
const NUMERIC_PINF = 0xd000;
const NUMERIC_NINF = 0xf000;
const SAFE_HORNER = Math.floor(Number.MAX_SAFE_INTEGER / 10000);
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);
const POW10N: bigint[] = Array.from({ length: 80 }, (_, i) => 10n ** BigInt(i));

function pow10n(e: number): bigint {
  return e < POW10N.length ? POW10N[e] : 10n ** BigInt(e);
}

/**
 * Magnitude of a binary NUMERIC scaled to `scale` decimal places, truncated (not rounded)
 * toward zero, as a number while it is exactly representable and a bigint beyond.
 * Base-10000 digit k is worth 10^(4·(weight−k)); scaled, 10^(4·(weight−k)+scale).
 */
export function numericScaledMagnitude(buf: Buffer, off: number, scale: number): number | bigint {
  const ndigits = i16(buf, off);
  const weight = i16(buf, off + 2);
  let acc = 0;
  let big: bigint | null = null;
  let lastExp = 0;
  let k = 0;
  for (; k < ndigits; k++) {
    const e = (weight - k) * 4 + scale;
    const d = u16(buf, off + 8 + 2 * k);
    if (e >= 0) {
      if (big === null && acc <= SAFE_HORNER) acc = acc * 10000 + d;
      else {
        big ??= BigInt(acc);
        big = big * 10000n + BigInt(d);
      }
      lastExp = e;
    } else {
      if (e > -4) {
        // Only the leading (4 + e) decimal digits of this group survive truncation; the
        // groups after it are worth less than one unit of the last kept place.
        const keep = 4 + e;
        const part = Math.floor(d / POW10[-e]);
        if (big === null && acc <= SAFE_HORNER) acc = acc * POW10[keep] + part;
        else {
          big ??= BigInt(acc);
          big = big * POW10N[keep] + BigInt(part);
        }
        lastExp = 0;
      }
      break;
    }
  }
  if (lastExp > 0) {
    if (big === null && lastExp < 16 && acc * POW10[lastExp] <= Number.MAX_SAFE_INTEGER) return acc * POW10[lastExp];
    big ??= BigInt(acc);
    return big * pow10n(lastExp);
  }
  return big ?? acc;
}

/**
 * `numericScaledMagnitude` for the common case, in doubles only: −1 when the result is not
 * an exactly representable integer (the caller then takes the general path). Keeping this
 * monomorphic (number in, number out, no bigint) lets V8 keep it in registers.
 */
export function numericScaledSmall(buf: Buffer, off: number, scale: number): number {
  const ndigits = i16(buf, off);
  const weight = i16(buf, off + 2);
  let acc = 0;
  let lastExp = 0;
  for (let k = 0; k < ndigits; k++) {
    const e = (weight - k) * 4 + scale;
    const d = u16(buf, off + 8 + 2 * k);
    if (acc > SAFE_HORNER) return -1;
    if (e >= 0) {
      acc = acc * 10000 + d;
      lastExp = e;
    } else {
      if (e > -4) {
        acc = acc * POW10[4 + e] + Math.floor(d / POW10[-e]);
        lastExp = 0;
      }
      break;
    }
  }
  if (lastExp > 0) {
    if (lastExp >= 16) return -1;
    const v = acc * POW10[lastExp];
    return v <= Number.MAX_SAFE_INTEGER ? v : -1;
  }
  return acc;
}

/** Exact text of a binary NUMERIC, with its display scale (`-12.3400`, `NaN`, `Infinity`). */
export function numericText(buf: Buffer, off: number): string {
  const ndigits = i16(buf, off);
  const weight = i16(buf, off + 2);
  const sign = u16(buf, off + 4);
  const dscale = u16(buf, off + 6);
  if (sign === NUMERIC_NAN) return 'NaN';
  if (sign === NUMERIC_PINF) return 'Infinity';
  if (sign === NUMERIC_NINF) return '-Infinity';
  const digit = (k: number) => (k >= 0 && k < ndigits ? u16(buf, off + 8 + 2 * k) : 0);
  let int = '';
  for (let k = 0; k <= weight; k++) {
    const d = digit(k);
    int += k === 0 ? String(d) : String(d).padStart(4, '0');
  }
  if (int === '') int = '0';
  let frac = '';
  for (let k = weight + 1; frac.length < dscale; k++) frac += String(digit(k)).padStart(4, '0');
  frac = frac.slice(0, dscale);
  const neg = sign === NUMERIC_NEG && (/[1-9]/.test(int) || /[1-9]/.test(frac));
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/** `writeDecimal` for a magnitude below 2^53: doubles only, no bigint. */
function writeSmallDecimal(values: Uint32Array, i: number, words: number, neg: boolean, mag: number): void {
  if (neg && mag !== 0) {
    // −x = ~(x − 1) in two's complement; x − 1 is exact below 2^53.
    const m = mag - 1;
    const lo = m >>> 0;
    values[i] = ~lo;
    values[i + 1] = ~((m - lo) / TWO32);
    for (let w = 2; w < words; w++) values[i + w] = 0xffffffff;
  } else {
    const lo = mag >>> 0;
    values[i] = lo;
    values[i + 1] = (mag - lo) / TWO32;
    for (let w = 2; w < words; w++) values[i + w] = 0;
  }
}

/** Write a (sign, magnitude) decimal as little-endian two's complement over `words` 32-bit words. */
function writeDecimal(values: Uint32Array, i: number, words: number, neg: boolean, mag: number | bigint): void {
  if (typeof mag === 'number') return writeSmallDecimal(values, i, words, neg, mag);
  let v = mag;
  for (let w = 0; w < words; w++) {
    values[i + w] = Number(v & 0xffffffffn);
    v >>= 32n;
  }
  if (neg) {
    let carry = 1;
    for (let w = 0; w < words; w++) {
      const x = (~values[i + w] >>> 0) + carry;
      values[i + w] = x >>> 0;
      carry = x > 0xffffffff ? 1 : 0;
    }
  }
}

function decimalDecoder(col: PgColumnSpec, precision: number, scale: number, capacity: number, memo: SizeMemo): FieldDecoder | string {
  const words = precision <= 38 ? 4 : 8;
  const b = new FixedWidthBuilder(toArrowType(col.rivetType)!, Uint32Array, words, capacity, memo);
  const limitN = pow10n(precision);
  const limit = precision < 16 ? POW10[precision] : Infinity;
  const label = canonicalLabel(col.rivetType);
  // The caller renders the offending value only on failure: no closure or string per value.
  const fits = (mag: number | bigint) => (typeof mag === 'number' ? mag < limit : mag < limitN);
  const tooLarge = (shown: string) => valueError(col, `value ${shown} does not fit ${label}`, 'override the column with a larger decimal(p,s) or cast it in SQL');
  const put = (neg: boolean, mag: number | bigint) => {
    const i = b.next();
    writeDecimal(b.values, i, words, neg, mag);
  };
  if (col.wireOid === PgOid.numeric) {
    return {
      builder: b,
      varlen: false,
      decode: (buf, off) => {
        const sign = u16(buf, off + 4);
        if (sign !== NUMERIC_POS && sign !== NUMERIC_NEG) {
          throw valueError(
            col,
            `a PostgreSQL NUMERIC ${numericText(buf, off)} value is not supported (${label} has no NaN or infinity)`,
            `export the column as text with \`columns: { ${col.name}: string }\`, or filter it in SQL, e.g. NULLIF(${col.name}, 'NaN')`,
          );
        }
        const small = numericScaledSmall(buf, off, scale);
        if (small >= 0 && small < limit) {
          const i = b.next();
          writeSmallDecimal(b.values, i, words, sign === NUMERIC_NEG, small);
          return;
        }
        const mag = small >= 0 ? small : numericScaledMagnitude(buf, off, scale);
        if (!fits(mag)) throw tooLarge(numericText(buf, off));
        put(sign === NUMERIC_NEG, mag);
      },
    };
  }
  if (col.wireOid === PgOid.money && col.moneyDigits !== undefined) {
    // money is an int64 count of the currency's minor unit (lc_monetary decides how many digits).
    const shift = scale - col.moneyDigits;
    return {
      builder: b,
      varlen: false,
      decode: (buf, off) => {
        const v = buf.readBigInt64BE(off);
        const abs = v < 0n ? -v : v;
        const mag = shift >= 0 ? abs * pow10n(shift) : abs / pow10n(-shift);
        if (!fits(mag)) throw tooLarge(String(v));
        put(v < 0n, mag);
      },
    };
  }
  if (INT_LIKE.has(col.wireOid)) {
    const read = intReader(col.wireOid, col);
    return {
      builder: b,
      varlen: false,
      decode: (buf, off) => {
        const n = read(buf, off);
        const abs = Math.abs(n);
        let mag: number | bigint;
        if (scale >= 0) mag = scale < 16 && abs * POW10[scale] <= Number.MAX_SAFE_INTEGER ? abs * POW10[scale] : BigInt(abs) * pow10n(scale);
        else mag = -scale < 16 ? Math.floor(abs / POW10[-scale]) : 0;
        if (!fits(mag)) throw tooLarge(String(n));
        put(n < 0, mag);
      },
    };
  }
  return 'a decimal override needs a numeric, money or integer column';
}

// ---------------------------------------------------------------------------------------
// Text renderings used by the `string` override and by enum/interval columns
// ---------------------------------------------------------------------------------------

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function uuidText(buf: Buffer, off: number): string {
  let s = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += HEX[buf[off + i]];
  }
  return s;
}

/** ISO-8601 duration of a binary interval (docs/reference/types.md). */
export function intervalText(buf: Buffer, off: number): string {
  const micros = buf.readBigInt64BE(off);
  const days = i32(buf, off + 8);
  const months = i32(buf, off + 12);
  let out = 'P';
  const years = Math.trunc(months / 12);
  const mon = months % 12;
  if (years !== 0) out += `${years}Y`;
  if (mon !== 0) out += `${mon}M`;
  if (days !== 0) out += `${days}D`;
  if (micros !== 0n) {
    const neg = micros < 0n;
    const abs = neg ? -micros : micros;
    const sign = neg ? '-' : '';
    const h = abs / 3_600_000_000n;
    const mi = (abs % 3_600_000_000n) / 60_000_000n;
    const s = (abs % 60_000_000n) / 1_000_000n;
    const frac = abs % 1_000_000n;
    out += 'T';
    if (h !== 0n) out += `${sign}${h}H`;
    if (mi !== 0n) out += `${sign}${mi}M`;
    if (frac !== 0n) out += `${sign}${s}.${String(frac).padStart(6, '0')}S`;
    else if (s !== 0n || (h === 0n && mi === 0n)) out += `${sign}${s}S`;
  }
  return out === 'P' ? 'PT0S' : out;
}

const WS_SPACE = 0x20;
const WS_TAB = 0x09;
const WS_LF = 0x0a;
const WS_CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Copy JSON text without insignificant whitespace. Working on bytes keeps numbers and key
 * order exactly as the server sent them (no parse/re-serialize round trip through f64).
 */
function appendCompactJson(b: VarBytesBuilder, buf: Buffer, start: number, end: number): void {
  const dst = b.reserve(end - start);
  let w = b.cursor;
  let inString = false;
  for (let r = start; r < end; r++) {
    const c = buf[r];
    if (inString) {
      dst[w++] = c;
      if (c === BACKSLASH && r + 1 < end) dst[w++] = buf[++r];
      else if (c === QUOTE) inString = false;
    } else if (c === WS_SPACE || c === WS_LF || c === WS_TAB || c === WS_CR) {
      continue;
    } else {
      dst[w++] = c;
      if (c === QUOTE) inString = true;
    }
  }
  b.commit(w - b.cursor);
}

// ---------------------------------------------------------------------------------------
// Decoder selection
// ---------------------------------------------------------------------------------------

/**
 * The decoder that turns `col.wireOid` wire values into `col.rivetType` Arrow values, or a
 * reason string when that conversion is not offered (e.g. an override that does not fit the
 * source type). `memo` carries the column's measured sizes from one batch's builder to the next.
 */
export function pgDecoderFor(col: PgColumnSpec, capacity: number, memo: SizeMemo = new SizeMemo()): FieldDecoder | string {
  const t = col.rivetType;
  const oid = col.wireOid;
  // Null only for `unsupported` (and lists of it), which never reach a builder below.
  const type = toArrowType(t)!;
  switch (t.kind) {
    case 'bool': {
      if (oid !== PgOid.bool) break;
      const b = new BoolBuilder(type, capacity, memo);
      return { builder: b, varlen: false, source: '$.builder.push(buf[p] !== 0);', decode: (buf, off) => b.push(buf[off] !== 0) };
    }
    case 'int16':
    case 'int32': {
      if (!INT_LIKE.has(oid)) break;
      const narrow = t.kind === 'int16' ? [-0x8000, 0x7fff] : [INT32_MIN, INT32_MAX];
      const wide = oid === PgOid.int8 || oid === PgOid.oid || (oid === PgOid.int4 && t.kind === 'int16');
      const read = wide ? rangeChecked(intReader(oid, col), narrow[0], narrow[1], col) : intReader(oid, col);
      if (t.kind === 'int16') {
        const b = new FixedWidthBuilder(type, Int16Array, 1, capacity, memo);
        return { builder: b, varlen: false, decode: (buf, off) => b.push(read(buf, off)) };
      }
      const b = new FixedWidthBuilder(type, Int32Array, 1, capacity, memo);
      if (oid === PgOid.int4) return { builder: b, varlen: false, source: `$.builder.push(${I32_AT(0)});`, decode: (buf, off) => b.push(i32(buf, off)) };
      return { builder: b, varlen: false, decode: (buf, off) => b.push(read(buf, off)) };
    }
    case 'int64': {
      if (!INT_LIKE.has(oid)) break;
      const b = new FixedWidthBuilder(type, Uint32Array, 2, capacity, memo);
      if (oid === PgOid.int8) {
        return swap64Decoder(b);
      }
      const read = intReader(oid, col);
      return {
        builder: b,
        varlen: false,
        decode: (buf, off) => {
          const n = read(buf, off);
          const i = b.next();
          writeInt64Words(b.values, i, n);
        },
      };
    }
    case 'float32':
    case 'float64': {
      // Same width on both sides: copy the IEEE bits as 32-bit words (like int8), which is
      // cheaper than Buffer#readDoubleBE and keeps NaN payloads exactly. (Storing a signed
      // word into a Uint32Array keeps its bits; i32 is a few bytecodes shorter than u32.)
      if (t.kind === 'float64' && oid === PgOid.float8) {
        const b = new FixedWidthBuilder(type, Uint32Array, 2, capacity, memo);
        return swap64Decoder(b);
      }
      if (t.kind === 'float32' && oid === PgOid.float4) {
        const b = new FixedWidthBuilder(type, Uint32Array, 1, capacity, memo);
        return { builder: b, varlen: false, decode: (buf, off) => b.push(i32(buf, off)) };
      }
      let read: ((buf: Buffer, off: number) => number) | undefined;
      if (oid === PgOid.float4) read = (buf, off) => buf.readFloatBE(off);
      else if (oid === PgOid.float8) read = (buf, off) => buf.readDoubleBE(off);
      else if (INT_LIKE.has(oid)) read = intReader(oid, col);
      if (!read) break;
      const r = read;
      if (t.kind === 'float32') {
        const b = new FixedWidthBuilder(type, Float32Array, 1, capacity, memo);
        return { builder: b, varlen: false, decode: (buf, off) => b.push(r(buf, off)) };
      }
      const b = new FixedWidthBuilder(type, Float64Array, 1, capacity, memo);
      return { builder: b, varlen: false, decode: (buf, off) => b.push(r(buf, off)) };
    }
    case 'decimal':
      return decimalDecoder(col, t.precision, t.scale, capacity, memo);
    case 'date': {
      if (oid !== PgOid.date) break;
      const b = new FixedWidthBuilder(type, Int32Array, 1, capacity, memo);
      return {
        builder: b,
        varlen: false,
        decode: (buf, off) => {
          const d = i32(buf, off);
          if (d === INT32_MAX || d === INT32_MIN) {
            throw valueError(col, `the date ${d > 0 ? 'infinity' : '-infinity'} has no Arrow representation`, `replace it in SQL, e.g. NULLIF(${col.name}, 'infinity')`);
          }
          b.push(d + PG_EPOCH_DAYS);
        },
      };
    }
    case 'time': {
      if (oid !== PgOid.time || t.unit !== 'microsecond') break;
      return swap64Decoder(new FixedWidthBuilder(type, Uint32Array, 2, capacity, memo));
    }
    case 'timestamp':
      if (oid !== PgOid.timestamp && oid !== PgOid.timestamptz) break;
      return timestampDecoder(col, t.unit, capacity, memo);
    case 'string':
    case 'text':
      return (
        stringDecoder(col, capacity, memo) ??
        'a string override needs a text, numeric, uuid, json, enum, interval, xml, inet, cidr, macaddr, bit, varbit or timetz column'
      );
    case 'enum': {
      if (!col.isEnum) break;
      const b = new VarBytesBuilder(type, capacity, col.name, memo);
      return { builder: b, varlen: true, decode: (buf, off, len) => b.append(buf, off, off + len) };
    }
    case 'interval': {
      if (oid !== PgOid.interval) break;
      const b = new VarBytesBuilder(type, capacity, col.name, memo);
      return { builder: b, varlen: false, decode: (buf, off) => b.appendString(intervalText(buf, off)) };
    }
    case 'binary': {
      if (oid !== PgOid.bytea && !TEXT_LIKE.has(oid)) break;
      const b = new VarBytesBuilder(type, capacity, col.name, memo);
      return { builder: b, varlen: true, decode: (buf, off, len) => b.append(buf, off, off + len) };
    }
    case 'json': {
      if (oid === PgOid.jsonb) {
        const b = new VarBytesBuilder(type, capacity, col.name, memo);
        return {
          builder: b,
          varlen: true,
          decode: (buf, off, len) => {
            if (buf[off] !== 1) throw valueError(col, `unknown jsonb binary format version ${buf[off]}`, 'cast the column to text in SQL');
            appendCompactJson(b, buf, off + 1, off + len);
          },
        };
      }
      if (oid !== PgOid.json && !TEXT_LIKE.has(oid)) break;
      const b = new VarBytesBuilder(type, capacity, col.name, memo);
      return { builder: b, varlen: true, decode: (buf, off, len) => appendCompactJson(b, buf, off, off + len) };
    }
    case 'uuid': {
      if (oid !== PgOid.uuid) break;
      const b = new FixedWidthBuilder(type, Uint8Array, 16, capacity, memo);
      return {
        builder: b,
        varlen: false,
        decode: (buf, off) => {
          // 16 bytes: a loop beats making a subarray view per value.
          const i = b.next();
          const v = b.values;
          for (let k = 0; k < 16; k++) v[i + k] = buf[off + k];
        },
      };
    }
    case 'list':
      return listDecoder(col, capacity, memo) ?? `${canonicalLabel(t)} cannot be read from PostgreSQL type ${col.nativeType}`;
    case 'u_int64':
    case 'unsupported':
      break;
  }
  return `${canonicalLabel(t)} cannot be read from PostgreSQL type ${col.nativeType}`;
}

function timestampDecoder(col: PgColumnSpec, unit: string, capacity: number, memo: SizeMemo): FieldDecoder | string {
  const b = new FixedWidthBuilder(toArrowType(col.rivetType)!, Uint32Array, 2, capacity, memo);
  const infinite = (hi: number, lo: number) => (hi === INT32_MAX && lo === 0xffffffff) || (hi === INT32_MIN && lo === 0);
  const infError = (hi: number) =>
    valueError(col, `the timestamp ${hi > 0 ? 'infinity' : '-infinity'} has no Arrow representation`, `replace it in SQL, e.g. NULLIF(${col.name}, 'infinity')`);
  const checkRare = (hi: number, lo: number) => {
    if (infinite(hi, lo)) throw infError(hi);
    if (hi + EPOCH_HI + (lo + EPOCH_LO >= TWO32 ? 1 : 0) > INT32_MAX) {
      throw valueError(col, 'a timestamp is beyond the Arrow int64 microsecond range', 'filter it in SQL');
    }
  };
  if (unit === 'microsecond') {
    return {
      builder: b,
      varlen: false,
      rare: checkRare,
      source: `{ const hi = ${I32_AT(0)}; const lo = ${I32_AT(4)} >>> 0;
        if (hi > ${SHIFT_SAFE_HI} || hi === ${INT32_MIN}) $.rare(hi, lo);
        const nlo = lo + ${EPOCH_LO}; const b = $.builder; const i = b.next();
        b.values[i] = nlo; b.values[i + 1] = hi + ${EPOCH_HI} + (nlo >= ${TWO32} ? 1 : 0); }`,
      decode: (buf, off) => {
        const hi = i32(buf, off);
        const lo = u32(buf, off + 4);
        // The rare cases (±infinity, or so late that the epoch shift overflows int64) are
        // checked out of line, which keeps this small enough to inline into the field loop.
        if (hi > SHIFT_SAFE_HI || hi === INT32_MIN) checkRare(hi, lo);
        // 64-bit add of the 2000→1970 epoch shift on 32-bit halves: no BigInt per value.
        // A Uint32Array store wraps modulo 2^32, which is the carry-out and two's complement.
        const nlo = lo + EPOCH_LO;
        const i = b.next();
        b.values[i] = nlo;
        b.values[i + 1] = hi + EPOCH_HI + (nlo >= TWO32 ? 1 : 0);
      },
    };
  }
  if (unit === 'nanosecond') {
    const min = -(2n ** 63n);
    const max = 2n ** 63n - 1n;
    return {
      builder: b,
      varlen: false,
      decode: (buf, off) => {
        const raw = buf.readBigInt64BE(off);
        if (infinite(i32(buf, off), u32(buf, off + 4))) throw infError(i32(buf, off));
        const ns = (raw + BigInt(PG_EPOCH_MICROS)) * 1000n;
        if (ns < min || ns > max) {
          throw valueError(col, 'a timestamp is outside 1677-09-21..2262-04-11, the range of nanosecond timestamps', 'use a microsecond timestamp override');
        }
        const u = BigInt.asUintN(64, ns);
        const i = b.next();
        b.values[i] = Number(u & 0xffffffffn);
        b.values[i + 1] = Number(u >> 32n);
      },
    };
  }
  return `timestamps in ${unit} are not offered`;
}

/** Element renderers of the built-in range types (bounds travel in the element's binary format). */
const RANGE_BOUNDS: ReadonlyMap<number, BoundText> = new Map<number, BoundText>([
  [PgOid.int4range, (buf, off) => String(i32(buf, off))],
  [PgOid.int8range, (buf, off) => String(buf.readBigInt64BE(off))],
  [PgOid.numrange, (buf, off) => numericText(buf, off)],
  [PgOid.daterange, (buf, off) => pgDateText(i32(buf, off))],
  [PgOid.tsrange, (buf, off) => pgTimestampText(buf.readBigInt64BE(off), false)],
  [PgOid.tstzrange, (buf, off) => pgTimestampText(buf.readBigInt64BE(off), true)],
]);

function stringDecoder(col: PgColumnSpec, capacity: number, memo: SizeMemo): FieldDecoder | undefined {
  const b = new VarBytesBuilder(toArrowType(col.rivetType)!, capacity, col.name, memo);
  const oid = col.wireOid;
  if (TEXT_LIKE.has(oid) || oid === PgOid.json || col.isEnum) {
    return { builder: b, varlen: true, source: '$.builder.append(buf, p, p + len);', decode: (buf, off, len) => b.append(buf, off, off + len) };
  }
  if (oid === PgOid.jsonb) return { builder: b, varlen: true, decode: (buf, off, len) => b.append(buf, off + 1, off + len) };
  if (oid === PgOid.numeric) return { builder: b, varlen: false, decode: (buf, off) => b.appendString(numericText(buf, off)) };
  if (oid === PgOid.uuid) return { builder: b, varlen: false, decode: (buf, off) => b.appendString(uuidText(buf, off)) };
  if (oid === PgOid.interval) return { builder: b, varlen: false, decode: (buf, off) => b.appendString(intervalText(buf, off)) };
  // Binary `xml` and `"char"` values are the text itself, in the client encoding (UTF-8).
  if (oid === PgOid.xml || oid === PgOid.char) return { builder: b, varlen: true, decode: (buf, off, len) => b.append(buf, off, off + len) };
  if (oid === PgOid.inet || oid === PgOid.cidr) return { builder: b, varlen: false, decode: (buf, off) => b.appendString(inetText(buf, off)) };
  if (oid === PgOid.macaddr || oid === PgOid.macaddr8) {
    return { builder: b, varlen: false, decode: (buf, off, len) => b.appendString(macText(buf, off, len)) };
  }
  if (oid === PgOid.bit || oid === PgOid.varbit) return { builder: b, varlen: true, decode: (buf, off) => b.appendString(bitText(buf, off)) };
  if (oid === PgOid.timetz) return { builder: b, varlen: false, decode: (buf, off) => b.appendString(timetzText(buf, off)) };
  const bound = RANGE_BOUNDS.get(oid);
  if (bound) return { builder: b, varlen: true, decode: (buf, off) => b.appendString(rangeText(buf, off, bound)) };
  return undefined;
}

function listDecoder(col: PgColumnSpec, capacity: number, memo: SizeMemo): FieldDecoder | undefined {
  const t = col.rivetType;
  const builtin = arrayElementOid(col.wireOid, NO_CATALOG);
  const element = col.element ?? (builtin === undefined ? undefined : { wireOid: builtin, nativeType: col.nativeType, isEnum: false });
  if (t.kind !== 'list' || element === undefined) return undefined;
  const elemCol: PgColumnSpec = { name: col.name, wireOid: element.wireOid, nativeType: element.nativeType, rivetType: t.inner, isEnum: element.isEnum };
  const elem = pgDecoderFor(elemCol, memo.childrenFor(capacity), memo.child);
  if (typeof elem === 'string') return undefined;
  const b = new ListBuilder(toArrowType(t)!, elem.builder, capacity, memo);
  return {
    builder: b,
    varlen: true,
    decode: (buf, off) => {
      const ndim = i32(buf, off);
      if (ndim === 0) return b.endList();
      if (ndim !== 1) throw valueError(col, `a ${ndim}-dimensional array cannot be mapped to a list`, `flatten it in SQL, e.g. ARRAY(SELECT unnest(${col.name})), or export it as text with ${col.name}::text`);
      const n = i32(buf, off + 12);
      let p = off + 20;
      for (let k = 0; k < n; k++) {
        const len = i32(buf, p);
        p += 4;
        if (len < 0) elem.builder.appendNull();
        else {
          elem.decode(buf, p, len);
          p += len;
        }
      }
      b.endList();
    },
  };
}
