import { Float32, Float64, Int32, Utf8 } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { FixedWidthBuilder, VarBytesBuilder } from '../../../shared/source/column-builders.js';
import { pgDecoderFor, type PgColumnSpec } from '../../../shared/source/postgres/pg-decoders.js';
import { PgOid } from '../../../shared/source/postgres/pg-types.js';
import type { RivetType } from '../../../shared/types/rivet-type.js';

/** Validity bits of the first `n` rows, as a string of 0/1; "all valid" when Arrow gets no bitmap. */
function validity(data: { nullBitmap?: Uint8Array; length: number }, n: number): string {
  const bits = data.nullBitmap;
  if (!bits || bits.length === 0) return '1'.repeat(n);
  return Array.from({ length: n }, (_, i) => ((bits[i >> 3] >> (i & 7)) & 1).toString()).join('');
}

describe('column builders: validity bitmap', () => {
  // Null patterns whose first null falls inside, at the start and at the end of a bitmap byte, and across growth.
  const patterns = ['1111111111111111111', '0111', '1111111101', '1111111011111111110', '10101010101010101', '0000000000', '11111111111111111111111110111'];

  it('marks exactly the null rows, whichever row is the first null', () => {
    for (const p of patterns) {
      // Capacity 2 forces several grow() calls while the bitmap is still untouched or already in use.
      const fixed = new FixedWidthBuilder(new Int32(), Int32Array, 1, 2);
      const bytes = new VarBytesBuilder(new Utf8(), 2, 'c');
      for (const c of p) {
        if (c === '1') {
          fixed.push(7);
          bytes.append(Buffer.from('ab'), 0, 2);
        } else {
          fixed.appendNull();
          bytes.appendNull();
        }
      }
      const f = fixed.finish();
      const b = bytes.finish();
      expect(validity(f, p.length), p).toBe(p);
      expect(validity(b, p.length), p).toBe(p);
      expect(f.nullCount).toBe([...p].filter((c) => c === '0').length);
      if (!p.includes('0')) expect(f.nullBitmap === undefined || f.nullBitmap.length === 0).toBe(true);
    }
  });
});

describe('float decoders', () => {
  function decoded(wireOid: number, rivetType: RivetType, values: number[], write: (b: Buffer, v: number) => void): unknown[] {
    const col: PgColumnSpec = { name: 'f', wireOid, nativeType: 'test', rivetType, isEnum: false };
    const d = pgDecoderFor(col, 1);
    if (typeof d === 'string') throw new Error(d);
    for (const v of values) {
      const buf = Buffer.alloc(11);
      write(buf.subarray(3), v);
      d.decode(buf, 3, 8);
    }
    const data = d.builder.finish();
    return Array.from(data.values as Float32Array | Float64Array, (x) => (Object.is(x, -0) ? '-0' : x));
  }
  const edge = [0, -0, 1.5, -2.25, Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE, Infinity, -Infinity, 1e-310, Math.PI];

  it('float8 → float64 keeps every bit (subnormals, -0, infinities, NaN)', () => {
    expect(decoded(PgOid.float8, { kind: 'float64' }, edge, (b, v) => b.writeDoubleBE(v))).toEqual(edge.map((x) => (Object.is(x, -0) ? '-0' : x)));
    const nan = decoded(PgOid.float8, { kind: 'float64' }, [NaN], (b, v) => b.writeDoubleBE(v));
    expect(Number.isNaN(nan[0])).toBe(true);
  });

  it('float4 → float32 keeps every bit', () => {
    const f32 = edge.map((x) => Math.fround(x));
    expect(decoded(PgOid.float4, { kind: 'float32' }, f32, (b, v) => b.writeFloatBE(v))).toEqual(f32.map((x) => (Object.is(x, -0) ? '-0' : x)));
  });

  it('float4 → float64 and float8 → float32 convert the value', () => {
    expect(decoded(PgOid.float4, { kind: 'float64' }, [1.5, -0.1], (b, v) => b.writeFloatBE(v))).toEqual([1.5, Math.fround(-0.1)]);
    expect(decoded(PgOid.float8, { kind: 'float32' }, [1.5, 0.1], (b, v) => b.writeDoubleBE(v))).toEqual([1.5, Math.fround(0.1)]);
  });

  it('builds Arrow float columns', () => {
    const col = (wireOid: number, rivetType: RivetType) => pgDecoderFor({ name: 'f', wireOid, nativeType: 'test', rivetType, isEnum: false }, 1);
    expect((col(PgOid.float8, { kind: 'float64' }) as { builder: { type: unknown } }).builder.type).toBeInstanceOf(Float64);
    expect((col(PgOid.float4, { kind: 'float32' }) as { builder: { type: unknown } }).builder.type).toBeInstanceOf(Float32);
  });
});

describe('timestamp decoder', () => {
  const EPOCH_SHIFT = 946_684_800_000_000n;
  function decodeMicros(values: bigint[]): bigint[] | Error {
    const col: PgColumnSpec = { name: 'ts', wireOid: PgOid.timestamptz, nativeType: 'test', rivetType: { kind: 'timestamp', unit: 'microsecond', timezone: 'UTC' }, isEnum: false };
    const d = pgDecoderFor(col, 1);
    if (typeof d === 'string') throw new Error(d);
    try {
      for (const v of values) {
        const buf = Buffer.alloc(8);
        buf.writeBigInt64BE(v);
        d.decode(buf, 0, 8);
      }
    } catch (e) {
      return e as Error;
    }
    const data = d.builder.finish();
    const raw = data.values as unknown as ArrayBufferView;
    return Array.from(new BigInt64Array(raw.buffer, raw.byteOffset, data.length));
  }
  const INT64_MAX = 2n ** 63n - 1n;
  const INT64_MIN = -(2n ** 63n);

  it('shifts to the Unix epoch with the carry between the 32-bit halves', () => {
    const pg = [0n, -1n, 1n, -EPOCH_SHIFT, 0xffffffffn, 0x100000000n, -0x100000000n, INT64_MAX - EPOCH_SHIFT, INT64_MIN + 1n, 4_294_967_296n * 1000n + 123n];
    expect(decodeMicros(pg)).toEqual(pg.map((v) => v + EPOCH_SHIFT));
  });

  it('rejects ±infinity and values beyond the int64 range after the shift', () => {
    expect(String(decodeMicros([0n, INT64_MAX]))).toMatch(/infinity has no Arrow representation/);
    expect(String(decodeMicros([INT64_MIN]))).toMatch(/-infinity has no Arrow representation/);
    expect(String(decodeMicros([INT64_MAX - EPOCH_SHIFT + 1n]))).toMatch(/beyond the Arrow int64 microsecond range/);
  });
});
