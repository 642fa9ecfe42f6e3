import { endianness } from 'node:os';
import { makeData, Type, type Data, type DataType } from 'apache-arrow';
import { RivetError } from '../errors/rivet-error.js';
import type { BufferPool } from './buffer-pool.js';

/**
 * Arrow column builders that wire decoders write into directly: one preallocated typed
 * array per column per batch plus a validity bitmap, never one JS object per row. Nothing
 * here knows about PostgreSQL, so other engines can reuse it.
 *
 * 64-bit values are written as two 32-bit words (low, high) into a Uint32Array that is
 * later viewed as BigInt64Array; this avoids a BigInt allocation per value and relies on a
 * little-endian host, which is checked once here.
 */
if (endianness() !== 'LE') throw new Error('rivet requires a little-endian host (Arrow buffers are written in place)');

export interface ColumnBuilder {
  readonly type: DataType;
  readonly length: number;
  appendNull(): void;
  /** Arrow data for everything appended so far; the builder must not be used afterwards. */
  finish(): Data;
}

const MAX_OFFSET = 0x7fffffff;
/** Bytes per value a var-length column's first batch starts from, before anything was measured. */
const DEFAULT_BYTES_PER_VALUE = 16;
/** Values shorter than this are copied byte by byte: cheaper than making a subarray view per value. */
const SMALL_COPY = 48;

/**
 * What the previous batch of one column actually used, so the next batch's buffers start near
 * their final size instead of doubling up to it (each doubling copies and zero-fills the
 * whole buffer). One memo lives as long as a read; each builder records into it on `finish`.
 * It also hands out the builders' memory: recycled from earlier batches when the read has a
 * pool (buffer-pool.ts), fresh otherwise.
 */
export class SizeMemo {
  /** Average bytes per value of a var-length column's last batch; 0 until one was measured. */
  bytesPerValue = 0;
  /** Average child values per list of a list column's last batch; 0 until one was measured. */
  childrenPerValue = 0;
  private childMemo: SizeMemo | undefined;

  constructor(private readonly pool: BufferPool | null = null) {}

  /** The memo of a list column's element builder. */
  get child(): SizeMemo {
    return (this.childMemo ??= new SizeMemo(this.pool));
  }

  /** Zeroed memory for `bytes` bytes (the buffer may be larger). */
  memory(bytes: number): ArrayBuffer {
    return this.pool ? this.pool.take(bytes) : new ArrayBuffer(bytes);
  }

  bytes(n: number): Uint8Array {
    return new Uint8Array(this.memory(n), 0, n);
  }

  /** Byte capacity for `values` values: the measured size plus 1/16 slack, since consecutive batches differ a little. */
  bytesFor(values: number): number {
    const per = this.bytesPerValue > 0 ? this.bytesPerValue * 1.0625 : DEFAULT_BYTES_PER_VALUE;
    return Math.min(MAX_OFFSET, Math.ceil(values * per) + 64);
  }

  /** Element capacity of a list column's child builder for `lists` lists. */
  childrenFor(lists: number): number {
    return this.childrenPerValue > 0 ? Math.ceil(lists * this.childrenPerValue * 1.0625) + 8 : lists;
  }
}

const utf8 = new TextEncoder();

class Validity {
  bits: Uint8Array;
  nullCount = 0;
  constructor(
    capacity: number,
    private readonly memo: SizeMemo,
  ) {
    this.bits = memo.bytes(Math.max(1, (capacity + 7) >> 3));
  }
  grow(capacity: number): void {
    const need = (capacity + 7) >> 3;
    if (need <= this.bits.length) return;
    const next = this.memo.bytes(Math.max(need, this.bits.length * 2));
    next.set(this.bits);
    this.bits = next;
  }
  /**
   * Mark row `i` valid. Until the first null every row is valid and no bit is written (most
   * columns never see a null); `setNull` then sets the bits of the rows before it.
   */
  setValid(i: number): void {
    if (this.nullCount !== 0) this.bits[i >> 3] |= 1 << (i & 7);
  }
  /** Mark row `i` null (its bit stays 0). */
  setNull(i: number): void {
    if (this.nullCount === 0) {
      this.bits.fill(0xff, 0, i >> 3);
      if (i & 7) this.bits[i >> 3] |= (1 << (i & 7)) - 1;
    }
    this.nullCount++;
  }
  /** Arrow wants no bitmap at all when nothing is null. */
  bitmap(length: number): Uint8Array | undefined {
    return this.nullCount === 0 ? undefined : this.bits.subarray(0, (length + 7) >> 3);
  }
}

type WordArray = Int16Array | Int32Array | Float32Array | Float64Array | Uint32Array | Uint8Array;
interface WordArrayCtor<A extends WordArray> {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): A;
  readonly BYTES_PER_ELEMENT: number;
}

/**
 * Fixed-width values: `width` elements of `values` per row. Decoders call `next()` and then
 * write `values[index .. index + width)`; `values` may be replaced by `next()` when growing.
 */
export class FixedWidthBuilder<A extends WordArray = WordArray> implements ColumnBuilder {
  length = 0;
  values: A;
  private capacity: number;
  private readonly validity: Validity;

  constructor(
    readonly type: DataType,
    private readonly ctor: WordArrayCtor<A>,
    readonly width: number,
    capacity: number,
    private readonly memo: SizeMemo = new SizeMemo(),
  ) {
    this.capacity = Math.max(1, capacity);
    this.values = this.words(this.capacity * width);
    this.validity = new Validity(this.capacity, memo);
  }

  private words(n: number): A {
    return new this.ctor(this.memo.memory(n * this.ctor.BYTES_PER_ELEMENT), 0, n);
  }

  private grow(): void {
    this.capacity *= 2;
    const next = this.words(this.capacity * this.width);
    next.set(this.values as never);
    this.values = next;
    this.validity.grow(this.capacity);
  }

  /** Start a valid value; returns the index of its first element in `values`. */
  next(): number {
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    this.validity.setValid(i);
    return i * this.width;
  }

  /** Append a one-element value (width 1 builders). */
  push(v: number): void {
    const i = this.next();
    this.values[i] = v;
  }

  appendNull(): void {
    if (this.length === this.capacity) this.grow();
    this.validity.setNull(this.length++);
  }

  finish(): Data {
    const bytes = this.length * this.width * this.values.BYTES_PER_ELEMENT;
    const ArrayType = (this.type as DataType & { ArrayType: { new (b: ArrayBufferLike, o: number, n: number): unknown; BYTES_PER_ELEMENT: number } })
      .ArrayType;
    const data = new ArrayType(this.values.buffer, this.values.byteOffset, bytes / ArrayType.BYTES_PER_ELEMENT);
    return makeData({
      type: this.type as never,
      length: this.length,
      nullCount: this.validity.nullCount,
      nullBitmap: this.validity.bitmap(this.length),
      data: data as never,
    });
  }
}

/** Arrow Boolean: values are bit-packed like the validity bitmap. */
export class BoolBuilder implements ColumnBuilder {
  length = 0;
  private values: Uint8Array;
  private capacity: number;
  private readonly validity: Validity;

  constructor(
    readonly type: DataType,
    capacity: number,
    private readonly memo: SizeMemo = new SizeMemo(),
  ) {
    this.capacity = Math.max(8, capacity);
    this.values = memo.bytes((this.capacity + 7) >> 3);
    this.validity = new Validity(this.capacity, memo);
  }

  private ensure(): void {
    if (this.length < this.capacity) return;
    this.capacity *= 2;
    const next = this.memo.bytes((this.capacity + 7) >> 3);
    next.set(this.values);
    this.values = next;
    this.validity.grow(this.capacity);
  }

  push(value: boolean): void {
    this.ensure();
    const i = this.length++;
    this.validity.setValid(i);
    if (value) this.values[i >> 3] |= 1 << (i & 7);
  }

  appendNull(): void {
    this.ensure();
    this.validity.setNull(this.length++);
  }

  finish(): Data {
    return makeData({
      type: this.type as never,
      length: this.length,
      nullCount: this.validity.nullCount,
      nullBitmap: this.validity.bitmap(this.length),
      data: this.values.subarray(0, (this.length + 7) >> 3) as never,
    });
  }
}

/** Room for `capacity` values' offsets (capacity + 1). */
function offsetsFor(memo: SizeMemo, capacity: number): Int32Array {
  return new Int32Array(memo.memory(4 * (capacity + 1)), 0, capacity + 1);
}

/** A copy of `offsets` with room for `capacity` values (capacity + 1 offsets). */
function grownOffsets(memo: SizeMemo, offsets: Int32Array, capacity: number): Int32Array {
  const next = offsetsFor(memo, capacity);
  next.set(offsets);
  return next;
}

/** Arrow Utf8 / Binary: Int32 offsets plus one growing byte buffer. */
export class VarBytesBuilder implements ColumnBuilder {
  length = 0;
  private offsets: Int32Array;
  private bytes: Uint8Array;
  private used = 0;
  private capacity: number;
  private readonly validity: Validity;

  constructor(
    readonly type: DataType,
    capacity: number,
    /** Column name, for the error when one batch outgrows 32-bit offsets. */
    private readonly column: string,
    /** Sizes measured on this column's previous batch; updated by `finish`. */
    private readonly memo: SizeMemo = new SizeMemo(),
  ) {
    this.capacity = Math.max(1, capacity);
    this.offsets = offsetsFor(memo, this.capacity);
    this.bytes = memo.bytes(memo.bytesFor(this.capacity));
    this.validity = new Validity(this.capacity, memo);
  }

  private ensureRow(): void {
    if (this.length < this.capacity) return;
    this.capacity *= 2;
    this.offsets = grownOffsets(this.memo, this.offsets, this.capacity);
    this.validity.grow(this.capacity);
  }

  /** Make room for `n` more bytes and return where they go; follow with `commit`. */
  reserve(n: number): Uint8Array {
    const need = this.used + n;
    if (need > MAX_OFFSET) {
      throw new RivetError('VALUE_TOO_LARGE', `column "${this.column}" holds more than 2 GiB of data in one batch`, {
        hint: 'lower tuning.batch_size so that one batch of this column stays under 2 GiB',
      });
    }
    if (need > this.bytes.length) {
      const next = this.memo.bytes(Math.min(MAX_OFFSET, Math.max(need, this.bytes.length * 2)));
      next.set(this.bytes.subarray(0, this.used));
      this.bytes = next;
    }
    return this.bytes;
  }

  /** The write offset for `reserve`d bytes. */
  get cursor(): number {
    return this.used;
  }

  /** Finish a valid value of `n` bytes written at `cursor`. */
  commit(n: number): void {
    this.ensureRow();
    const i = this.length++;
    this.validity.setValid(i);
    this.used += n;
    this.offsets[i + 1] = this.used;
  }

  /** `reserve` + copy + `commit` with the common case (room enough, short value) inline. */
  append(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    const at = this.used;
    const dst = at + n <= this.bytes.length ? this.bytes : this.reserve(n);
    if (n < SMALL_COPY) {
      for (let r = start, w = at; r < end; r++, w++) dst[w] = src[r];
    } else {
      dst.set(src.subarray(start, end), at);
    }
    if (this.length === this.capacity) this.ensureRow();
    const i = this.length++;
    this.validity.setValid(i);
    this.used = at + n;
    this.offsets[i + 1] = at + n;
  }

  appendString(s: string): void {
    const max = s.length * 3;
    const dst = this.reserve(max);
    const { written } = utf8.encodeInto(s, dst.subarray(this.used, this.used + max));
    this.commit(written);
  }

  appendNull(): void {
    this.ensureRow();
    const i = this.length++;
    this.validity.setNull(i);
    this.offsets[i + 1] = this.used;
  }

  finish(): Data {
    if (this.length > 0) this.memo.bytesPerValue = this.used / this.length;
    return makeData({
      type: this.type as never,
      length: this.length,
      nullCount: this.validity.nullCount,
      nullBitmap: this.validity.bitmap(this.length),
      valueOffsets: this.offsets.subarray(0, this.length + 1),
      data: this.bytes.subarray(0, this.used),
    } as never);
  }
}

/** Arrow List: Int32 offsets into a child builder. */
export class ListBuilder implements ColumnBuilder {
  length = 0;
  private offsets: Int32Array;
  private capacity: number;
  private readonly validity: Validity;

  constructor(
    readonly type: DataType,
    readonly child: ColumnBuilder,
    capacity: number,
    /** Sizes measured on this column's previous batch; updated by `finish`. */
    private readonly memo: SizeMemo = new SizeMemo(),
  ) {
    if (type.typeId !== Type.List) throw new Error('internal: ListBuilder needs a List type');
    this.capacity = Math.max(1, capacity);
    this.offsets = offsetsFor(memo, this.capacity);
    this.validity = new Validity(this.capacity, memo);
  }

  private ensureRow(): void {
    if (this.length < this.capacity) return;
    this.capacity *= 2;
    this.offsets = grownOffsets(this.memo, this.offsets, this.capacity);
    this.validity.grow(this.capacity);
  }

  /** Close a valid list whose elements were just appended to `child`. */
  endList(): void {
    this.ensureRow();
    const i = this.length++;
    this.validity.setValid(i);
    this.offsets[i + 1] = this.child.length;
  }

  appendNull(): void {
    this.ensureRow();
    const i = this.length++;
    this.validity.setNull(i);
    this.offsets[i + 1] = this.child.length;
  }

  finish(): Data {
    if (this.length > 0) this.memo.childrenPerValue = this.child.length / this.length;
    return makeData({
      type: this.type as never,
      length: this.length,
      nullCount: this.validity.nullCount,
      nullBitmap: this.validity.bitmap(this.length),
      valueOffsets: this.offsets.subarray(0, this.length + 1),
      child: this.child.finish(),
    } as never);
  }
}
