import { describe, expect, it } from 'vitest';
import { mergeExtremes, pageExtremes, type Extremes, type StatsInput } from '../../../shared/format/parquet-page-stats.js';
import { seededRandom } from '../../helpers/seeded-random.js';

/** A byte-array page: values as given (null = null row), optionally behind a shifted data start. */
function bytesPage(values: (Uint8Array | null)[], dataShift = 0): StatsInput {
  const offsets = new Int32Array(values.length + 1);
  const validity = new Uint8Array((values.length + 7) >> 3);
  let at = dataShift;
  values.forEach((v, i) => {
    if (v) {
      validity[i >> 3] |= 1 << (i & 7);
      at += v.length;
    }
    offsets[i + 1] = at;
  });
  offsets[0] = dataShift;
  const data = new Uint8Array(at - dataShift);
  values.forEach((v, i) => v && data.set(v, offsets[i] - dataShift));
  return { kind: 'bytes', rows: values.length, validity, validityBit: 0, values: data, valuesBit: 0, offsets, dataShift };
}

describe('byte-array statistics', () => {
  it('match a plain byte-wise sort for short values, zero bytes and shared prefixes (seeded)', () => {
    const rand = seededRandom(42);
    const alphabet = [0, 1, 0x41, 0x42, 0xff];
    for (let round = 0; round < 200; round++) {
      const values = Array.from({ length: 1 + Math.floor(rand() * 40) }, () =>
        rand() < 0.1 ? null : Uint8Array.from({ length: Math.floor(rand() * 7) }, () => alphabet[Math.floor(rand() * alphabet.length)]),
      );
      const present = values.flatMap((v) => (v ? [Buffer.from(v)] : []));
      const sorted = [...present].sort(Buffer.compare);
      const ext = pageExtremes(bytesPage(values, round % 3));
      if (sorted.length === 0) {
        expect(ext).toEqual({ min: null, max: null });
        continue;
      }
      expect(Buffer.from(ext.min!).equals(sorted[0])).toBe(true);
      expect(Buffer.from(ext.max!).equals(sorted[sorted.length - 1])).toBe(true);
    }
  });

  it('merge across pages in either order', () => {
    const a = pageExtremes(bytesPage([Uint8Array.of(0x41, 0), Uint8Array.of(0x41)]));
    const b = pageExtremes(bytesPage([Uint8Array.of(0x41, 0, 0), Uint8Array.of()]));
    for (const pages of [[a, b], [b, a]]) {
      const into: Extremes = { min: null, max: null };
      for (const p of pages) mergeExtremes('bytes', into, p);
      expect([...into.min!]).toEqual([]);
      expect([...into.max!]).toEqual([0x41, 0, 0]);
    }
  });
});

describe('numeric statistics', () => {
  const f64Page = (xs: number[]): StatsInput => {
    const values = new Uint8Array(new Float64Array(xs).buffer);
    return { kind: 'f64', rows: xs.length, validity: null, validityBit: 0, values, valuesBit: 0, offsets: null, dataShift: 0 };
  };
  const f64 = (b: Uint8Array | null): number => new DataView(b!.buffer, b!.byteOffset).getFloat64(0, true);

  it('skip NaN and write a zero minimum as -0 and a zero maximum as +0', () => {
    const into: Extremes = { min: null, max: null };
    mergeExtremes('f64', into, pageExtremes(f64Page([NaN, 0, 3.5])));
    mergeExtremes('f64', into, pageExtremes(f64Page([-0, NaN])));
    expect(Object.is(f64(into.min), -0)).toBe(true);
    expect(f64(into.max)).toBe(3.5);
    const zeros: Extremes = { min: null, max: null };
    mergeExtremes('f64', zeros, pageExtremes(f64Page([0, -0])));
    expect(Object.is(f64(zeros.min), -0)).toBe(true);
    expect(Object.is(f64(zeros.max), 0)).toBe(true);
  });

  it('compare 64-bit integers past 2^53 and across the sign', () => {
    const xs = [2n ** 62n + 1n, -(2n ** 62n), 2n ** 62n, -1n];
    const values = new Uint8Array(new BigInt64Array(xs).buffer);
    const ext = pageExtremes({ kind: 'i64', rows: xs.length, validity: null, validityBit: 0, values, valuesBit: 0, offsets: null, dataShift: 0 });
    const i64 = (b: Uint8Array | null): bigint => new DataView(b!.buffer, b!.byteOffset).getBigInt64(0, true);
    expect(i64(ext.min)).toBe(-(2n ** 62n));
    expect(i64(ext.max)).toBe(2n ** 62n + 1n);
  });
});
