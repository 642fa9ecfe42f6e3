import { RivetError } from '../../errors/rivet-error.js';
import { ByteBuffer } from '../../format/byte-buffer.js';
import { dateText, timestampText } from '../../format/datetime-text.js';
import { decimalText } from '../../format/decimal-text.js';
import { floatText } from '../../format/float-text.js';
import { valueCeilingBytes, valueTooLarge } from '../value-ceiling.js';
import type { PgColumnSpec } from './pg-decoders.js';
import { PgOid } from './pg-types.js';
import { u32 } from './big-endian.js';
import { PgRawQuery } from './pg-raw-query.js';

/**
 * rivet's CSV (docs/reference/types.md) made from the server's own `COPY … (FORMAT csv)` text instead of
 * decoding binary values and rendering them again (ADR 0009). For the types below the
 * server's text under the session settings of `CSV_TEXT_SETTINGS` is already rivet's cell,
 * byte for byte, or differs in a fixed place (`t` → `true`, the `T` and six fraction digits of
 * a timestamp, `+00` after a UTC instant, `""` for an empty string): each row is copied in
 * spans and only those places are rewritten. The rare spellings (exponents, BC and five-digit
 * years, infinities) go through the same text functions as the Arrow renderer.
 */

/** Session settings the transcoder relies on (set LOCAL in the read transaction). */
export const CSV_TEXT_SETTINGS = ["SET LOCAL DateStyle = 'ISO, MDY'", "SET LOCAL TimeZone = 'UTC'", 'SET LOCAL extra_float_digits = 1', "SET LOCAL bytea_output = 'hex'"];

/** How a column's text becomes its cell. */
const Kind = {
  /** Copied as it is: integers, uuid. */
  Raw: 0,
  Numeric: 1,
  Bool: 2,
  Float8: 3,
  Float4: 4,
  /** text, varchar, bpchar, json, jsonb: CSV quoting is the same as rivet's. */
  Text: 5,
  Bytea: 6,
  Date: 7,
  Timestamp: 8,
  TimestampTz: 9,
  /** json, jsonb: rivet drops insignificant whitespace, as the binary decoder does. */
  Json: 10,
} as const;
type Kind = (typeof Kind)[keyof typeof Kind];

export interface CsvTextColumn {
  kind: Kind;
  name: string;
  nativeType: string;
  scale: number;
  /** Longest value in bytes is tracked (Utf8 and Binary columns: shape drift). */
  tracked: boolean;
}

const COMMA = 0x2c;
const QUOTE = 0x22;
const LF = 0x0a;
const DOT = 0x2e;
const DASH = 0x2d;
const SPACE = 0x20;
const BACKSLASH = 0x5c;
const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const MICROS_PER_DAY = 86_400_000_000n;
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The columns as transcoder kinds, or the reason the export must take the Arrow path: a type
 * whose text differs from rivet's in more than fixed places, a column override, or a single
 * column (the server quotes a lone `\.` there, rivet does not).
 */
export function csvTextColumns(columns: PgColumnSpec[], overridden: (name: string) => boolean): CsvTextColumn[] | string {
  if (columns.length < 2) return 'a single column';
  const out: CsvTextColumn[] = [];
  for (const c of columns) {
    if (overridden(c.name)) return `column "${c.name}" has an override`;
    const kind = kindOf(c);
    if (kind === null) return `column "${c.name}" is ${c.nativeType}`;
    const t = c.rivetType;
    out.push({
      kind,
      name: c.name,
      nativeType: c.nativeType,
      scale: t.kind === 'decimal' ? t.scale : 0,
      tracked: kind === Kind.Text || kind === Kind.Bytea || kind === Kind.Json,
    });
  }
  return out;
}

function kindOf(c: PgColumnSpec): Kind | null {
  const t = c.rivetType;
  if (c.isEnum) return null;
  switch (c.wireOid) {
    case PgOid.bool:
      return t.kind === 'bool' ? Kind.Bool : null;
    case PgOid.int2:
    case PgOid.int4:
    case PgOid.int8:
      return t.kind === 'int16' || t.kind === 'int32' || t.kind === 'int64' ? Kind.Raw : null;
    case PgOid.uuid:
      return t.kind === 'uuid' ? Kind.Raw : null;
    case PgOid.numeric:
      return t.kind === 'decimal' && t.precision <= 38 && t.scale >= 0 ? Kind.Numeric : null;
    case PgOid.float8:
      return t.kind === 'float64' ? Kind.Float8 : null;
    case PgOid.float4:
      return t.kind === 'float32' ? Kind.Float4 : null;
    case PgOid.text:
    case PgOid.varchar:
    case PgOid.bpchar:
      return t.kind === 'string' ? Kind.Text : null;
    case PgOid.json:
    case PgOid.jsonb:
      return t.kind === 'json' ? Kind.Json : null;
    case PgOid.bytea:
      return t.kind === 'binary' ? Kind.Bytea : null;
    case PgOid.date:
      return t.kind === 'date' ? Kind.Date : null;
    case PgOid.timestamp:
      return t.kind === 'timestamp' && t.unit === 'microsecond' && t.timezone === null ? Kind.Timestamp : null;
    case PgOid.timestamptz:
      return t.kind === 'timestamp' && t.unit === 'microsecond' && t.timezone === 'UTC' ? Kind.TimestampTz : null;
  }
  return null;
}

function valueError(col: CsvTextColumn, what: string, hint: string): RivetError {
  return new RivetError('TYPE_UNSUPPORTED', `column "${col.name}" (PG type ${col.nativeType}): ${what}`, { hint });
}

function protocolError(what: string): RivetError {
  return new RivetError('SOURCE_QUERY', `unexpected CSV COPY stream from PostgreSQL: ${what}`, { hint: 'rerun the export; if it persists, report it' });
}

/** Rewrites one CopyData row at a time into rivet's CSV, keeping the longest text values. */
export class PgCsvTranscoder {
  readonly textMax: number[];
  private readonly ceiling: number;

  constructor(
    private readonly columns: CsvTextColumn[],
    maxValueMb: number,
  ) {
    this.textMax = columns.map(() => 0);
    this.ceiling = valueCeilingBytes(maxValueMb);
  }

  /** Appends the row `buf[start..end)` (one CSV record with its line feed) to `out`. */
  row(buf: Uint8Array, start: number, end: number, out: ByteBuffer): void {
    const cols = this.columns;
    const last = cols.length - 1;
    let p = start;
    /** Start of the bytes not yet copied: unchanged fields are copied in one span. */
    let span = start;
    for (let c = 0; c <= last; c++) {
      const col = cols[c];
      const f = p;
      const kind = col.kind;
      if (kind === Kind.Json) {
        p = fieldEnd(buf, p, end);
        if (p > f) {
          span = flush(buf, span, f, out);
          this.json(buf, f, p, c, col, out);
          span = p;
        }
      } else if (kind === Kind.Text && buf[p] === QUOTE) {
        // Quoted: scan to the closing quote; a doubled quote is one quote of the value.
        let doubled = 0;
        p++;
        for (;;) {
          while (p < end && buf[p] !== QUOTE) p++;
          if (p + 1 < end && buf[p + 1] === QUOTE) {
            doubled++;
            p += 2;
            continue;
          }
          break;
        }
        if (p >= end) throw protocolError('a quoted field does not end');
        p++;
        const len = p - f - 2 - doubled;
        if (len === 0) {
          // `""` is the server's empty string; rivet writes an empty string as an empty cell.
          span = flush(buf, span, f, out);
          span = p;
        } else if (col.tracked) this.track(c, col, len);
      } else {
        while (p < end && buf[p] !== COMMA && buf[p] !== LF) p++;
        if (p > f) {
          switch (kind) {
            case Kind.Raw:
              break;
            case Kind.Text:
              this.track(c, col, p - f);
              break;
            case Kind.Numeric:
              if (buf[f] === 0x4e || (col.scale > 0 ? buf[p - col.scale - 1] !== DOT : false)) span = this.numeric(buf, span, f, p, col, out);
              break;
            case Kind.Bool:
              span = flush(buf, span, f, out);
              for (const b of buf[f] === 0x74 ? TRUE : FALSE) out.byte(b);
              span = p;
              break;
            case Kind.Float8:
            case Kind.Float4:
              // float4: where two shortest spellings are equally near (…0.625 → .62 or .63)
              // the server rounds half to even and rivet half up, so every float4 is re-rendered.
              if (kind === Kind.Float4 || needsFloatText(buf, f, p)) {
                span = flush(buf, span, f, out);
                out.ascii(floatText(this.floatValue(buf, f, p, kind === Kind.Float4), kind === Kind.Float4));
                span = p;
              }
              break;
            case Kind.Bytea:
              // `\x` then lowercase hex: the cell is the hex.
              span = flush(buf, span, f, out);
              span = f + 2;
              this.track(c, col, (p - f - 2) >> 1);
              break;
            case Kind.Date:
              if (p - f !== 10) {
                span = flush(buf, span, f, out);
                out.ascii(dateText(this.slowDays(buf, f, p, col)));
                span = p;
              }
              break;
            case Kind.Timestamp:
            case Kind.TimestampTz:
              span = this.timestamp(buf, span, f, p, col, kind === Kind.TimestampTz, out);
              break;
          }
        }
      }
      const sep = c === last ? LF : COMMA;
      if (buf[p] !== sep) throw protocolError(`row has ${c === last ? 'more' : 'fewer'} fields than the ${cols.length} columns`);
      p++;
    }
    if (p !== end) throw protocolError('a CopyData message holds more than one row');
    flush(buf, span, end, out);
  }

  private scratch = new Uint8Array(4096);

  /** The JSON text of a field, compacted like the binary decoder's, then quoted by rivet's rule. */
  private json(buf: Uint8Array, f: number, p: number, c: number, col: CsvTextColumn, out: ByteBuffer): void {
    if (this.scratch.length < p - f) this.scratch = new Uint8Array(2 * (p - f));
    const v = this.scratch;
    let n = 0;
    let special = false;
    let inString = false;
    const quoted = buf[f] === QUOTE;
    const from = quoted ? f + 1 : f;
    const to = quoted ? p - 1 : p;
    let wire = 0;
    for (let r = from; r < to; r++) {
      let b = buf[r];
      // A doubled quote inside the CSV field is one quote of the JSON text.
      if (quoted && b === QUOTE) r++;
      wire++;
      if (inString) {
        v[n++] = b;
        if (b === BACKSLASH && r + 1 < to) {
          b = buf[++r];
          if (quoted && b === QUOTE) r++;
          wire++;
          v[n++] = b;
        } else if (b === QUOTE) inString = false;
      } else if (b === SPACE || b === LF || b === 0x09 || b === 0x0d) {
        continue;
      } else {
        v[n++] = b;
        if (b === QUOTE) inString = true;
      }
      if (b === QUOTE || b === COMMA || b === LF || b === 0x0d) special = true;
    }
    this.track(c, col, n);
    if (wire > this.ceiling) throw valueTooLarge(col.name, wire, this.ceiling);
    if (!special) {
      out.bytes(v, 0, n);
      return;
    }
    out.byte(QUOTE);
    for (let k = 0; k < n; k++) {
      out.byte(v[k]);
      if (v[k] === QUOTE) out.byte(QUOTE);
    }
    out.byte(QUOTE);
  }

  private track(c: number, col: CsvTextColumn, len: number): void {
    if (len > this.textMax[c]) {
      this.textMax[c] = len;
      if (len > this.ceiling) throw valueTooLarge(col.name, len, this.ceiling);
    }
  }

  /** A numeric whose text is not already the cell: NaN (refused as the binary path does) or another scale. */
  private numeric(buf: Uint8Array, span: number, f: number, p: number, col: CsvTextColumn, out: ByteBuffer): number {
    const text = ascii(buf, f, p);
    if (text === 'NaN' || text.endsWith('Infinity')) {
      throw valueError(
        col,
        `a PostgreSQL NUMERIC ${text} value is not supported (decimal has no NaN or infinity)`,
        `export the column as text with \`columns: { ${col.name}: string }\`, or filter it in SQL, e.g. NULLIF(${col.name}, 'NaN')`,
      );
    }
    const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text);
    if (!m) throw protocolError(`numeric text ${JSON.stringify(text)}`);
    // Fraction padded or truncated to the scale, never rounded (docs/reference/types.md).
    const frac = (m[3] ?? '').padEnd(col.scale, '0').slice(0, col.scale);
    const unscaled = BigInt(`${m[1]}${m[2] || '0'}${frac}`);
    out.bytes(buf, span, f);
    out.ascii(decimalText(unscaled, col.scale));
    return p;
  }

  private floatValue(buf: Uint8Array, f: number, p: number, single: boolean): number {
    const x = Number(ascii(buf, f, p));
    return single ? Math.fround(x) : x;
  }

  /**
   * `YYYY-MM-DD HH:MM:SS[.f…]` (then `+00` for timestamptz under UTC) → `YYYY-MM-DDTHH:MM:SS.ffffff`;
   * anything else (BC, five-digit years, infinity) through the slow path.
   */
  private timestamp(buf: Uint8Array, span: number, f: number, p: number, col: CsvTextColumn, zoned: boolean, out: ByteBuffer): number {
    let e = p;
    if (zoned) {
      if (p - f < 22 || buf[p - 3] !== 0x2b || buf[p - 2] !== 0x30 || buf[p - 1] !== 0x30) return this.slowTimestamp(buf, span, f, p, col, out);
      e = p - 3;
    }
    const n = e - f;
    if (buf[f + 4] !== DASH || buf[f + 10] !== SPACE || !(n === 19 || (n > 20 && n <= 26 && buf[f + 19] === DOT))) {
      return this.slowTimestamp(buf, span, f, p, col, out);
    }
    out.bytes(buf, span, f + 10);
    out.byte(0x54);
    out.bytes(buf, f + 11, e);
    if (n === 19) out.byte(DOT);
    for (let k = n === 19 ? 20 : n; k < 26; k++) out.byte(0x30);
    return p;
  }

  private slowTimestamp(buf: Uint8Array, span: number, f: number, p: number, col: CsvTextColumn, out: ByteBuffer): number {
    const text = ascii(buf, f, p);
    const m = /^(\d+)-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:\+00)?( BC)?$/.exec(text);
    if (!m) {
      if (text === 'infinity' || text === '-infinity') {
        throw valueError(col, `the timestamp ${text} has no Arrow representation`, `replace it in SQL, e.g. NULLIF(${col.name}, 'infinity')`);
      }
      throw protocolError(`timestamp text ${JSON.stringify(text)}`);
    }
    const days = daysFromCivil(civilYear(m[1], m[8]), Number(m[2]), Number(m[3]));
    const secs = Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]);
    const micros = BigInt(days) * MICROS_PER_DAY + BigInt(secs) * 1_000_000n + BigInt((m[7] === undefined ? '' : m[7]).padEnd(6, '0') || '0');
    if (micros > INT64_MAX) throw valueError(col, 'a timestamp is beyond the Arrow int64 microsecond range', 'filter it in SQL');
    out.bytes(buf, span, f);
    out.ascii(timestampText(micros));
    return p;
  }

  private slowDays(buf: Uint8Array, f: number, p: number, col: CsvTextColumn): number {
    const text = ascii(buf, f, p);
    const m = /^(\d+)-(\d\d)-(\d\d)( BC)?$/.exec(text);
    if (!m) {
      if (text === 'infinity' || text === '-infinity') {
        throw valueError(col, `the date ${text} has no Arrow representation`, `replace it in SQL, e.g. NULLIF(${col.name}, 'infinity')`);
      }
      throw protocolError(`date text ${JSON.stringify(text)}`);
    }
    return daysFromCivil(civilYear(m[1], m[4]), Number(m[2]), Number(m[3]));
  }
}

/** End of the field starting at `p`: past its closing quote when quoted, else at the next comma or line feed. */
function fieldEnd(buf: Uint8Array, p: number, end: number): number {
  if (buf[p] !== QUOTE) {
    while (p < end && buf[p] !== COMMA && buf[p] !== LF) p++;
    return p;
  }
  p++;
  for (;;) {
    while (p < end && buf[p] !== QUOTE) p++;
    if (p + 1 < end && buf[p + 1] === QUOTE) {
      p += 2;
      continue;
    }
    break;
  }
  if (p >= end) throw protocolError('a quoted field does not end');
  return p + 1;
}

/** Copies `buf[span..to)` to `out`; returns `to`. */
function flush(buf: Uint8Array, span: number, to: number, out: ByteBuffer): number {
  if (to > span) out.bytes(buf, span, to);
  return to;
}

/** The server writes exponents (`1e+15`, `1e-05`) and `Infinity`; rivet never does. */
function needsFloatText(buf: Uint8Array, f: number, p: number): boolean {
  for (let k = f; k < p; k++) {
    const b = buf[k];
    if (b === 0x65 || b === 0x49) return true;
  }
  return false;
}

function ascii(buf: Uint8Array, f: number, p: number): string {
  let s = '';
  for (let k = f; k < p; k++) s += String.fromCharCode(buf[k]);
  return s;
}

/** The server's `Y … BC` is proleptic year 1 − Y. */
function civilYear(digits: string, bc: string | undefined): number {
  const y = Number(digits);
  return bc ? 1 - y : y;
}

/** Proleptic Gregorian y-m-d → days since 1970-01-01 (days-from-civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}


/** Rendered rows handed on in pieces of about this size. */
const CHUNK_BYTES = 1024 * 1024;

export const CSV_COPY_PREFIX = 'COPY (\n';
const CSV_COPY_SUFFIX = '\n) TO STDOUT (FORMAT csv)';

/** Rendered CSV records (no header): `rows` whole records in `bytes`. */
export interface CsvRows {
  bytes: Uint8Array;
  rows: number;
}

export interface CsvCopyOptions {
  columns: CsvTextColumn[];
  maxValueMb: number;
  signal?: AbortSignal;
  cancel: () => Promise<void>;
}

/**
 * Streams `COPY (<body>) TO STDOUT (FORMAT csv)` as rivet CSV records, ~1 MiB at a time.
 * Same flow control as the binary COPY reader: at most two pieces wait for the consumer
 * before the socket is paused; abort, an early stop or a bad value cancel the COPY.
 */
export async function* readCsvCopy(client: { query: (q: PgRawQuery) => unknown }, body: string, o: CsvCopyOptions, transcoder: PgCsvTranscoder): AsyncGenerator<CsvRows> {
  const highWater = 2;
  let out = new ByteBuffer(CHUNK_BYTES + 64 * 1024);
  let rows = 0;
  const ready: CsvRows[] = [];
  let failure: unknown = null;
  let serverError: unknown = null;
  let settled = false;
  let stopped = false;
  let cancelling: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const cut = () => {
    ready.push({ bytes: out.take(), rows });
    rows = 0;
    if (ready.length >= highWater) query.pause();
    notify();
  };
  const row = (buf: Buffer, start: number, end: number) => {
    transcoder.row(buf, start, end, out);
    rows++;
    if (out.length >= CHUNK_BYTES) cut();
  };
  const query = new PgRawQuery(`${CSV_COPY_PREFIX}${body}${CSV_COPY_SUFFIX}`, {
    onCopyData: (buf, start, end) => {
      if (stopped) return;
      try {
        row(buf, start, end);
      } catch (e) {
        failure = e;
        stop();
      }
    },
    onCopyRun: (buf, start, end) => {
      if (stopped) return start;
      let pos = start;
      try {
        while (end - pos >= 5 && buf[pos] === 0x64) {
          const next = pos + 1 + u32(buf, pos + 1);
          if (next > end) break;
          row(buf, pos + 5, next);
          pos = next;
        }
      } catch (e) {
        failure = e;
        stop();
      }
      return pos;
    },
  });
  const stop = () => {
    if (!stopped) {
      stopped = true;
      if (!settled) cancelling = o.cancel();
      query.resume();
    }
    notify();
  };
  const onAbort = () => stop();
  const finished = query.done.then(
    () => undefined,
    (e: unknown) => {
      serverError = e;
    },
  );
  void finished.finally(() => {
    settled = true;
    notify();
  });
  o.signal?.addEventListener('abort', onAbort);
  client.query(query);
  try {
    for (;;) {
      if (failure) throw failure;
      o.signal?.throwIfAborted();
      if (settled && serverError) throw serverError;
      const next = ready.shift();
      if (next) {
        if (ready.length < highWater) query.resume();
        yield next;
        continue;
      }
      if (settled) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    if (failure) throw failure;
    if (rows > 0) yield { bytes: out.take(), rows };
    out = new ByteBuffer(16);
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    if (!settled) stop();
    await finished;
    if (cancelling) await cancelling;
  }
}
