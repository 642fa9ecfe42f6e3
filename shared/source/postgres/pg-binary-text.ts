/**
 * Text renderings of PostgreSQL binary wire values for types rivet exports only as strings
 * (through a `columns: { c: string }` override). Each one reproduces the server's own
 * output function, so the exported text equals what `c::text` would have returned.
 */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

const AF_INET = 2;

/** `inet` / `cidr`: family, prefix bits, is-cidr flag, address length, address bytes. */
export function inetText(buf: Buffer, off: number): string {
  const family = buf[off];
  const bits = buf[off + 1];
  const isCidr = buf[off + 2] === 1;
  const n = buf[off + 3];
  const addr = buf.subarray(off + 4, off + 4 + n);
  const v4 = family === AF_INET;
  const text = v4 ? Array.from(addr).join('.') : ipv6Text(addr);
  const full = v4 ? 32 : 128;
  // The server prints the prefix length for cidr always, for inet only when it is not a host.
  return isCidr || bits !== full ? `${text}/${bits}` : text;
}

/** RFC 5952 form, as PostgreSQL prints it (longest run of ≥2 zero groups collapsed, IPv4 tail kept for mapped addresses). */
function ipv6Text(addr: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((addr[i] << 8) | addr[i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  // ::a.b.c.d (deprecated compatible) and ::ffff:a.b.c.d keep the dotted IPv4 tail.
  const embedsV4 = bestStart === 0 && (bestLen === 6 || (bestLen === 5 && groups[5] === 0xffff));
  const last = embedsV4 ? 6 : 8;
  const hex = (from: number, to: number) => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  let out = bestStart < 0 ? hex(0, last) : `${hex(0, bestStart)}::${hex(bestStart + bestLen, last)}`;
  if (embedsV4) out += `${out.endsWith(':') ? '' : ':'}${addr[12]}.${addr[13]}.${addr[14]}.${addr[15]}`;
  return out;
}

/** `macaddr` (6 bytes) and `macaddr8` (8 bytes): lowercase hex pairs joined by `:`. */
export function macText(buf: Buffer, off: number, len: number): string {
  const parts: string[] = [];
  for (let i = 0; i < len; i++) parts.push(HEX[buf[off + i]]);
  return parts.join(':');
}

/** `bit(n)` / `varbit`: int32 bit count, then the bits packed most significant first. */
export function bitText(buf: Buffer, off: number): string {
  const nbits = buf.readInt32BE(off);
  let out = '';
  for (let i = 0; i < nbits; i++) out += (buf[off + 4 + (i >> 3)] >> (7 - (i & 7))) & 1 ? '1' : '0';
  return out;
}

/** Time of day from microseconds, trailing fractional zeros dropped as the server does. */
function timeOfDay(micros: bigint): string {
  const h = micros / 3_600_000_000n;
  const mi = (micros / 60_000_000n) % 60n;
  const s = (micros / 1_000_000n) % 60n;
  const frac = micros % 1_000_000n;
  const two = (v: bigint) => String(v).padStart(2, '0');
  let out = `${two(h)}:${two(mi)}:${two(s)}`;
  if (frac !== 0n) out += `.${String(frac).padStart(6, '0').replace(/0+$/, '')}`;
  return out;
}

/** `timetz`: int64 microseconds of the day, then the zone as int32 seconds *west* of UTC. */
export function timetzText(buf: Buffer, off: number): string {
  const micros = buf.readBigInt64BE(off);
  const west = buf.readInt32BE(off + 8);
  const east = -west;
  const abs = Math.abs(east);
  const hh = String(Math.floor(abs / 3600)).padStart(2, '0');
  const mm = Math.floor(abs / 60) % 60;
  const ss = abs % 60;
  let zone = `${east < 0 ? '-' : '+'}${hh}`;
  if (mm !== 0 || ss !== 0) zone += `:${String(mm).padStart(2, '0')}`;
  if (ss !== 0) zone += `:${String(ss).padStart(2, '0')}`;
  return `${timeOfDay(micros)}${zone}`;
}

// ---------------------------------------------------------------------------------------
// Ranges
// ---------------------------------------------------------------------------------------

const RANGE_EMPTY = 0x01;
const RANGE_LB_INC = 0x02;
const RANGE_UB_INC = 0x04;
const RANGE_LB_INF = 0x08;
const RANGE_UB_INF = 0x10;

/** Text of one range bound value (buffer, offset, length) → the element's output text. */
export type BoundText = (buf: Buffer, off: number, len: number) => string;

/** Bound text is double-quoted when the server would (empty, or holding `"\()[],` or whitespace). */
function quoteBound(s: string): string {
  if (s !== '' && !/["\\()[\],\s]/.test(s)) return s;
  return `"${s.replace(/["\\]/g, (c) => c + c)}"`;
}

/** A range value: flags byte, then int32 length + bytes for each finite bound (range_send). */
export function rangeText(buf: Buffer, off: number, bound: BoundText): string {
  const flags = buf[off];
  if (flags & RANGE_EMPTY) return 'empty';
  let p = off + 1;
  const next = (): string => {
    const len = buf.readInt32BE(p);
    const s = bound(buf, p + 4, len);
    p += 4 + len;
    return quoteBound(s);
  };
  const lower = flags & RANGE_LB_INF ? '' : next();
  const upper = flags & RANGE_UB_INF ? '' : next();
  return `${flags & RANGE_LB_INC ? '[' : '('}${lower},${upper}${flags & RANGE_UB_INC ? ']' : ')'}`;
}

const POSTGRES_EPOCH_JDAY = 2451545;

/** Proleptic Gregorian date from a Julian day number (the server's j2date). */
function julianToDate(jd: number): [number, number, number] {
  let julian = jd + 32044;
  let quad = Math.floor(julian / 146097);
  const extra = (julian - quad * 146097) * 4 + 3;
  julian += 60 + quad * 3 + Math.floor(extra / 146097);
  quad = Math.floor(julian / 1461);
  julian -= quad * 1461;
  let y = Math.floor((julian * 4) / 1461);
  julian = y !== 0 ? ((julian + 305) % 365) + 123 : ((julian + 306) % 366) + 123;
  y += quad * 4;
  const year = y - 4800;
  quad = Math.floor((julian * 2141) / 65536);
  const day = julian - Math.floor((7834 * quad) / 256);
  const month = ((quad + 10) % 12) + 1;
  return [year, month, day];
}

/** ISO DateStyle date text of days since 2000-01-01 (years ≤ 0 print as `YYYY-MM-DD BC`). */
export function pgDateText(days: number): string {
  if (days === 0x7fffffff) return 'infinity';
  if (days === -0x80000000) return '-infinity';
  const [y, m, d] = julianToDate(days + POSTGRES_EPOCH_JDAY);
  const bc = y <= 0;
  const year = String(bc ? 1 - y : y).padStart(4, '0');
  return `${year}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}${bc ? ' BC' : ''}`;
}

/** ISO DateStyle timestamp text of microseconds since 2000-01-01; `utc` adds the `+00` of a UTC session. */
export function pgTimestampText(micros: bigint, utc: boolean): string {
  if (micros === 0x7fffffffffffffffn) return 'infinity';
  if (micros === -0x8000000000000000n) return '-infinity';
  const DAY = 86_400_000_000n;
  let days = micros / DAY;
  let rest = micros % DAY;
  if (rest < 0n) {
    rest += DAY;
    days -= 1n;
  }
  const date = pgDateText(Number(days));
  const bc = date.endsWith(' BC');
  const text = `${bc ? date.slice(0, -3) : date} ${timeOfDay(rest)}${utc ? '+00' : ''}`;
  return bc ? `${text} BC` : text;
}
