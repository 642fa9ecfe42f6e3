import { DataType, DateUnit, TimeUnit, type Data, type Field } from 'apache-arrow';
import { RivetError } from '../errors/rivet-error.js';
import type { ByteBuffer } from './byte-buffer.js';
import { dateText, timeText, timestampText } from './datetime-text.js';
import { decimalText } from './decimal-text.js';
import { floatText } from './float-text.js';

/** Appends the cell of row `i` (of the bound Data) to `out`; NULL cells append nothing. */
export type CellWriter = (i: number, out: ByteBuffer) => void;

/** Turns one column's Data (one batch) into a CellWriter. */
export type CsvColumnRenderer = (data: Data) => CellWriter;

const COMMA = 0x2c;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

// Time zones under which the instant's UTC wall clock is what we print. Rivet only produces
// naive and "UTC"; anything else would need a zone database to render as the reference does.
const UTC_ZONES = new Set(['UTC', 'Etc/UTC', '+00:00', 'Z']);

/**
 * The renderer for one column following docs/reference/types.md, or a FORMAT error for Arrow types that have
 * no CSV representation (raised when the writer is created, before any byte is written).
 */
export function csvColumnRenderer(field: Field): CsvColumnRenderer {
  const t = field.type;
  if (DataType.isBool(t)) return boolRenderer;
  if (DataType.isInt(t)) {
    if (t.isSigned && t.bitWidth === 16) return numberRenderer;
    if (t.isSigned && t.bitWidth === 32) return numberRenderer;
    if (t.bitWidth === 64) return bigintRenderer(t.isSigned);
  }
  if (DataType.isFloat(t)) {
    if (t.precision === 1) return floatRenderer(true);
    if (t.precision === 2) return floatRenderer(false);
  }
  if (DataType.isDecimal(t) && t.bitWidth === 128) return decimalRenderer(t.scale);
  if (DataType.isUtf8(t)) return utf8Renderer;
  if (DataType.isBinary(t)) return binaryRenderer;
  if (DataType.isFixedSizeBinary(t) && t.byteWidth === 16) return uuidRenderer;
  if (DataType.isDate(t) && t.unit === DateUnit.DAY) return dateRenderer;
  if (DataType.isTime(t) && t.unit === TimeUnit.MICROSECOND && t.bitWidth === 64) return timeRenderer;
  if (DataType.isTimestamp(t) && t.unit === TimeUnit.MICROSECOND && (t.timezone === null || t.timezone === undefined || UTC_ZONES.has(t.timezone))) {
    return timestampRenderer;
  }
  throw new RivetError('FORMAT', `column "${field.name}" has Arrow type ${String(t)}, which has no CSV representation`, {
    hint: `use "format: parquet" for this export, or remove "${field.name}" from the SELECT (or cast it to text in the query)`,
  });
}

/** Validity of row i (Arrow keeps the bitmap unsliced, so add the Data offset). */
function validity(data: Data): ((i: number) => boolean) | null {
  const bitmap = data.nullBitmap;
  if (data.nullCount === 0 || !bitmap || bitmap.length === 0) return null;
  const offset = data.offset;
  return (i) => {
    const bit = offset + i;
    return (bitmap[bit >> 3] & (1 << (bit & 7))) !== 0;
  };
}

function withNulls(data: Data, write: CellWriter): CellWriter {
  const valid = validity(data);
  return valid ? (i, out) => (valid(i) ? write(i, out) : undefined) : write;
}

function boolRenderer(data: Data): CellWriter {
  const bits = data.values as Uint8Array;
  const offset = data.offset;
  return withNulls(data, (i, out) => {
    const bit = offset + i;
    out.ascii((bits[bit >> 3] & (1 << (bit & 7))) !== 0 ? 'true' : 'false');
  });
}

function numberRenderer(data: Data): CellWriter {
  const values = data.values as Int16Array | Int32Array;
  return withNulls(data, (i, out) => out.ascii(String(values[i])));
}

/** A 64-bit view of the value buffer whatever typed array the producer used. */
function int64Values(data: Data, signed: boolean): BigInt64Array | BigUint64Array {
  const v = data.values as ArrayBufferView;
  if (signed && v instanceof BigInt64Array) return v;
  if (!signed && v instanceof BigUint64Array) return v;
  const Ctor = signed ? BigInt64Array : BigUint64Array;
  const buffer = v.buffer as ArrayBuffer;
  if (v.byteOffset % 8 === 0) return new Ctor(buffer, v.byteOffset, Math.floor(v.byteLength / 8));
  return new Ctor(buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
}

function bigintRenderer(signed: boolean): CsvColumnRenderer {
  return (data) => {
    const values = int64Values(data, signed);
    return withNulls(data, (i, out) => out.ascii(String(values[i])));
  };
}

function floatRenderer(single: boolean): CsvColumnRenderer {
  return (data) => {
    const values = data.values as Float32Array | Float64Array;
    return withNulls(data, (i, out) => out.ascii(floatText(values[i], single)));
  };
}

function decimalRenderer(scale: number): CsvColumnRenderer {
  return (data) => {
    const words = data.values as Uint32Array;
    return withNulls(data, (i, out) => {
      const at = i * 4;
      // Little-endian 32-bit words of a two's-complement 128-bit integer.
      const lo = BigInt(words[at]) | (BigInt(words[at + 1]) << 32n);
      const hi = BigInt(words[at + 2]) | (BigInt(words[at + 3]) << 32n);
      out.ascii(decimalText(BigInt.asIntN(128, (hi << 64n) | lo), scale));
    });
  };
}

function utf8Renderer(data: Data): CellWriter {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  return withNulls(data, (i, out) => {
    const start = offsets[i];
    const end = offsets[i + 1];
    let special = false;
    for (let k = start; k < end; k++) {
      const b = bytes[k];
      // docs/reference/types.md quotes on `,` `"` and LF only; we also quote on CR (a deliberate fix) so text
      // holding CRLF survives readers that treat a bare CR as a line break. All four are
      // ASCII, so scanning UTF-8 bytes cannot hit the middle of a multi-byte character.
      if (b === COMMA || b === QUOTE || b === LF || b === CR) {
        special = true;
        break;
      }
    }
    if (!special) {
      out.bytes(bytes, start, end);
      return;
    }
    out.byte(QUOTE);
    let from = start;
    for (let k = start; k < end; k++) {
      if (bytes[k] === QUOTE) {
        out.bytes(bytes, from, k + 1);
        out.byte(QUOTE);
        from = k + 1;
      }
    }
    out.bytes(bytes, from, end);
    out.byte(QUOTE);
  });
}

function binaryRenderer(data: Data): CellWriter {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  return withNulls(data, (i, out) => {
    const end = offsets[i + 1];
    out.ensure(2 * (end - offsets[i]));
    for (let k = offsets[i]; k < end; k++) out.ascii(HEX[bytes[k]]);
  });
}

function uuidRenderer(data: Data): CellWriter {
  const bytes = data.values as Uint8Array;
  return withNulls(data, (i, out) => {
    const at = i * 16;
    for (let k = 0; k < 16; k++) {
      if (k === 4 || k === 6 || k === 8 || k === 10) out.byte(0x2d);
      out.ascii(HEX[bytes[at + k]]);
    }
  });
}

function dateRenderer(data: Data): CellWriter {
  const days = data.values as Int32Array;
  return withNulls(data, (i, out) => out.ascii(dateText(days[i])));
}

function timeRenderer(data: Data): CellWriter {
  const values = int64Values(data, true);
  return withNulls(data, (i, out) => out.ascii(timeText(Number(values[i]))));
}

function timestampRenderer(data: Data): CellWriter {
  const values = int64Values(data, true);
  return withNulls(data, (i, out) => out.ascii(timestampText(values[i])));
}
