/**
 * A schema-less reader/writer for the Thrift compact protocol, just enough to edit a Parquet
 * footer (FileMetaData) in place: decode into a generic tree, change a few fields, encode
 * back. Being generic means fields we do not know (newer Parquet additions such as size
 * statistics or geospatial stats) survive the round trip untouched.
 */

/** Compact-protocol type ids (booleans in struct fields carry their value in the type id). */
export const ThriftType = {
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
export type ThriftType = (typeof ThriftType)[keyof typeof ThriftType];
type T = typeof ThriftType;

export type ThriftValue =
  | { type: T['True'] | T['False']; value: boolean }
  | { type: T['Byte'] | T['I16'] | T['I32']; value: number }
  | { type: T['I64']; value: bigint }
  | { type: T['Double']; value: number }
  | { type: T['Binary']; value: Uint8Array }
  | { type: T['List'] | T['Set']; elementType: ThriftType; value: ThriftValue[] }
  | { type: T['Map']; keyType: ThriftType; valueType: ThriftType; value: [ThriftValue, ThriftValue][] }
  | { type: T['Struct']; value: ThriftStruct };

export interface ThriftField {
  id: number;
  value: ThriftValue;
}

/** Fields in wire order; order is kept so an untouched footer re-encodes byte for byte. */
export type ThriftStruct = ThriftField[];

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.buf.length) throw new Error('thrift: unexpected end of data');
    return this.buf[this.pos++];
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('thrift: varint too long');
    }
  }

  zigzag(): bigint {
    const n = this.varint();
    return (n >> 1n) ^ -(n & 1n);
  }

  bytes(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw new Error('thrift: unexpected end of data');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

function readValue(r: Reader, type: ThriftType, inCollection: boolean): ThriftValue {
  switch (type) {
    case ThriftType.True:
    case ThriftType.False:
      // In a struct the value is the type id itself; in a collection it is one byte (1 = true).
      if (inCollection) {
        const v = r.byte() === 1;
        return { type: v ? ThriftType.True : ThriftType.False, value: v };
      }
      return { type, value: type === ThriftType.True };
    case ThriftType.Byte: {
      const b = r.byte();
      return { type, value: b > 127 ? b - 256 : b };
    }
    case ThriftType.I16:
    case ThriftType.I32:
      return { type, value: Number(r.zigzag()) };
    case ThriftType.I64:
      return { type, value: r.zigzag() };
    case ThriftType.Double: {
      const b = r.bytes(8);
      return { type, value: new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true) };
    }
    case ThriftType.Binary: {
      const n = Number(r.varint());
      return { type, value: r.bytes(n) };
    }
    case ThriftType.List:
    case ThriftType.Set: {
      const h = r.byte();
      const elementType = (h & 0x0f) as ThriftType;
      const size = h >> 4 === 0x0f ? Number(r.varint()) : h >> 4;
      const value: ThriftValue[] = [];
      for (let i = 0; i < size; i++) value.push(readValue(r, elementType, true));
      return { type, elementType, value };
    }
    case ThriftType.Map: {
      const size = Number(r.varint());
      if (size === 0) return { type, keyType: ThriftType.Stop, valueType: ThriftType.Stop, value: [] };
      const kv = r.byte();
      const keyType = (kv >> 4) as ThriftType;
      const valueType = (kv & 0x0f) as ThriftType;
      const value: [ThriftValue, ThriftValue][] = [];
      for (let i = 0; i < size; i++) value.push([readValue(r, keyType, true), readValue(r, valueType, true)]);
      return { type, keyType, valueType, value };
    }
    case ThriftType.Struct:
      return { type, value: readStruct(r) };
    default:
      throw new Error(`thrift: unknown compact type ${String(type)}`);
  }
}

function readStruct(r: Reader): ThriftStruct {
  const fields: ThriftStruct = [];
  let lastId = 0;
  for (;;) {
    const h = r.byte();
    const type = (h & 0x0f) as ThriftType;
    if (type === ThriftType.Stop) return fields;
    const delta = h >> 4;
    const id = delta === 0 ? Number(r.zigzag()) : lastId + delta;
    fields.push({ id, value: readValue(r, type, false) });
    lastId = id;
  }
}

/** Decode one compact-protocol struct that fills `buf` exactly. */
export function decodeThriftStruct(buf: Uint8Array): ThriftStruct {
  const r = new Reader(buf);
  const s = readStruct(r);
  if (r.pos !== buf.length) throw new Error(`thrift: ${buf.length - r.pos} trailing bytes after struct`);
  return s;
}

class Writer {
  private buf = new Uint8Array(1024);
  len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b & 0xff;
  }

  varint(n: bigint): void {
    let v = n;
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) b |= 0x80;
      this.byte(b);
    } while (v !== 0n);
  }

  zigzag(n: bigint): void {
    this.varint(n >= 0n ? n << 1n : ((-n) << 1n) - 1n);
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function writeValue(w: Writer, v: ThriftValue, inCollection: boolean): void {
  switch (v.type) {
    case ThriftType.True:
    case ThriftType.False:
      if (inCollection) w.byte(v.value ? 1 : 2);
      return;
    case ThriftType.Byte:
      w.byte(v.value);
      return;
    case ThriftType.I16:
    case ThriftType.I32:
      w.zigzag(BigInt(v.value));
      return;
    case ThriftType.I64:
      w.zigzag(v.value);
      return;
    case ThriftType.Double: {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, v.value, true);
      w.bytes(b);
      return;
    }
    case ThriftType.Binary:
      w.varint(BigInt(v.value.length));
      w.bytes(v.value);
      return;
    case ThriftType.List:
    case ThriftType.Set: {
      const elementType = v.elementType;
      if (v.value.length < 15) w.byte((v.value.length << 4) | elementType);
      else {
        w.byte(0xf0 | elementType);
        w.varint(BigInt(v.value.length));
      }
      for (const e of v.value) writeValue(w, e, true);
      return;
    }
    case ThriftType.Map:
      w.varint(BigInt(v.value.length));
      if (v.value.length === 0) return;
      w.byte((v.keyType << 4) | v.valueType);
      for (const [k, val] of v.value) {
        writeValue(w, k, true);
        writeValue(w, val, true);
      }
      return;
    case ThriftType.Struct:
      writeStruct(w, v.value);
      return;
  }
}

function writeStruct(w: Writer, s: ThriftStruct): void {
  let lastId = 0;
  for (const f of s) {
    const type = f.value.type === ThriftType.True || f.value.type === ThriftType.False ? (f.value.value ? ThriftType.True : ThriftType.False) : f.value.type;
    const delta = f.id - lastId;
    if (delta > 0 && delta <= 15) w.byte((delta << 4) | type);
    else {
      w.byte(type);
      w.zigzag(BigInt(f.id));
    }
    writeValue(w, f.value, false);
    lastId = f.id;
  }
  w.byte(ThriftType.Stop);
}

/** Encode a struct with the compact protocol. */
export function encodeThriftStruct(s: ThriftStruct): Uint8Array {
  const w = new Writer();
  writeStruct(w, s);
  return w.result();
}
