/**
 * A forward-only reader of the Thrift compact protocol, written apart from the encoder in
 * thrift-compact.ts on purpose: read-back checks decode what the writer produced with code
 * that shares none of its assumptions, so a mistake in one is caught by the other.
 */

/** Compact-protocol wire types. */
export const Wire = {
  Stop: 0,
  True: 1,
  False: 2,
  Byte: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  Double: 7,
  Binary: 8,
  List: 9,
  Set: 10,
  Map: 11,
  Struct: 12,
} as const;

const WIRE_NAMES = ['stop', 'true', 'false', 'byte', 'i16', 'i32', 'i64', 'double', 'binary', 'list', 'set', 'map', 'struct'];

/** Deeper nesting than any Parquet structure has: a corrupt byte must not recurse without end. */
const MAX_DEPTH = 64;

/** The bytes ran out before the value did: a streaming caller may retry with more bytes. */
export class ThriftTruncated extends Error {
  constructor() {
    super('thrift: the data ends in the middle of a value');
  }
}

export class CompactCursor {
  pos: number;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  u8(): number {
    if (this.pos >= this.buf.length) throw new ThriftTruncated();
    return this.buf[this.pos++];
  }

  /** Unsigned varint as a number; values beyond 2^53 are refused rather than rounded. */
  uvarint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(result)) throw new Error('thrift: integer beyond 2^53');
        return result;
      }
      scale *= 128;
    }
    throw new Error('thrift: varint longer than 10 bytes');
  }

  /** Zigzag-decoded signed integer (i16, i32 and i64 alike). */
  int(): number {
    const n = this.uvarint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  binary(): Uint8Array {
    const n = this.uvarint();
    if (n > this.remaining) throw new ThriftTruncated();
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    return new TextDecoder('utf-8', { fatal: true }).decode(this.binary());
  }

  /** The next field's id and wire type, or null at the struct's stop byte. */
  field(lastId: number): { id: number; wire: number } | null {
    const h = this.u8();
    const wire = h & 0x0f;
    if (wire === Wire.Stop) return null;
    if (wire > Wire.Struct) throw new Error(`thrift: unknown wire type ${wire}`);
    const delta = h >> 4;
    return { id: delta === 0 ? this.int() : lastId + delta, wire };
  }

  /** Collection header: element wire type and size. */
  list(): { wire: number; size: number } {
    const h = this.u8();
    const size = h >> 4 === 0x0f ? this.uvarint() : h >> 4;
    // Every element takes at least one byte, except booleans packed in struct headers (never in lists).
    if (size > this.remaining) throw new ThriftTruncated();
    return { wire: h & 0x0f, size };
  }

  /** Skip one value of `wire` type (a field of a struct, or a collection element when `element`). */
  skip(wire: number, element = false, depth = 0): void {
    if (depth > MAX_DEPTH) throw new Error('thrift: nesting too deep');
    switch (wire) {
      case Wire.True:
      case Wire.False:
        if (element) this.u8();
        return;
      case Wire.Byte:
        this.u8();
        return;
      case Wire.I16:
      case Wire.I32:
      case Wire.I64:
        this.uvarint();
        return;
      case Wire.Double:
        if (this.remaining < 8) throw new ThriftTruncated();
        this.pos += 8;
        return;
      case Wire.Binary:
        this.binary();
        return;
      case Wire.List:
      case Wire.Set: {
        const { wire: el, size } = this.list();
        for (let i = 0; i < size; i++) this.skip(el, true, depth + 1);
        return;
      }
      case Wire.Map: {
        const size = this.uvarint();
        if (size === 0) return;
        const kv = this.u8();
        for (let i = 0; i < size; i++) {
          this.skip(kv >> 4, true, depth + 1);
          this.skip(kv & 0x0f, true, depth + 1);
        }
        return;
      }
      case Wire.Struct:
        this.struct(() => false, depth + 1);
        return;
      default:
        throw new Error(`thrift: unknown wire type ${wire}`);
    }
  }

  /**
   * Walk a struct: `onField` reads the fields it knows and returns true; every other field
   * is skipped, so fields added by newer Parquet versions are no obstacle. `lastId` continues
   * a struct whose first fields the caller has read itself.
   */
  struct(onField: (id: number, wire: number) => boolean, depth = 0, lastId = 0): void {
    if (depth > MAX_DEPTH) throw new Error('thrift: nesting too deep');
    let last = lastId;
    for (;;) {
      const f = this.field(last);
      if (!f) return;
      if (!onField(f.id, f.wire)) this.skip(f.wire, false, depth);
      last = f.id;
    }
  }
}

/** Fail unless a known field arrived with the wire type the schema gives it. */
export function expectWire(what: string, wire: number, want: number): void {
  if (wire !== want) throw new Error(`${what} has wire type ${WIRE_NAMES[wire] ?? wire}, expected ${WIRE_NAMES[want]}`);
}
