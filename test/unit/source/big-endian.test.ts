import { describe, expect, it } from 'vitest';
import { i16, i32, u16, u32 } from '../../../shared/source/postgres/big-endian.js';

describe('big-endian reads of the decode loop', () => {
  it('agree with Buffer#read*BE on edge values at odd offsets', () => {
    const buf = Buffer.alloc(64);
    const cases = [0, 1, -1, 0x7f, 0x80, 0xff, 0x7fff, -0x8000, 0x7fffffff, -0x80000000, 123456789, -987654321];
    for (const off of [0, 1, 3, 7]) {
      for (const v of cases) {
        buf.writeInt32BE(v | 0, off);
        expect(i32(buf, off)).toBe(buf.readInt32BE(off));
        expect(u32(buf, off)).toBe(buf.readUInt32BE(off));
        buf.writeInt16BE(((v << 16) >> 16) | 0, off);
        expect(i16(buf, off)).toBe(buf.readInt16BE(off));
        expect(u16(buf, off)).toBe(buf.readUInt16BE(off));
      }
    }
  });
});
