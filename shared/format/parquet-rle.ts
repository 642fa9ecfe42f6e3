/**
 * The RLE / bit-packing hybrid of the Parquet spec, for the two places a flat column needs
 * it: definition levels (bit width 1) and dictionary indices. We write one run per page:
 * a repeated run when every value is the same, otherwise one bit-packed run.
 */

function varint(out: number[], n: number): void {
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

/**
 * Definition levels of `n` rows of an optional column whose validity bitmap starts at bit
 * `bitOffset` (Arrow bitmaps and Parquet bit-packing are both least-significant bit first,
 * so the bitmap bytes are the bit-packed run). `validity` null means no nulls.
 */
export function definitionLevels(validity: Uint8Array | null, bitOffset: number, n: number): Uint8Array {
  const head: number[] = [];
  if (validity === null) {
    varint(head, n * 2);
    head.push(1);
    return Uint8Array.from(head);
  }
  const groups = Math.ceil(n / 8);
  varint(head, groups * 2 + 1);
  const out = new Uint8Array(head.length + groups);
  out.set(head, 0);
  const shift = bitOffset & 7;
  const first = bitOffset >> 3;
  if (shift === 0) {
    out.set(validity.subarray(first, first + groups), head.length);
  } else {
    for (let g = 0; g < groups; g++) {
      const lo = validity[first + g] ?? 0;
      const hi = validity[first + g + 1] ?? 0;
      out[head.length + g] = ((lo >> shift) | (hi << (8 - shift))) & 0xff;
    }
  }
  // Bits past `n` in the last byte belong to other rows; readers stop at num_values, but
  // clearing them keeps the page deterministic whatever the slice.
  const tail = n & 7;
  if (tail !== 0) out[out.length - 1] &= (1 << tail) - 1;
  return out;
}

/** Bits needed for the largest index of a dictionary of `size` entries (at least 1). */
export function bitWidthFor(size: number): number {
  let w = 1;
  while (w < 32 && 2 ** w < size) w++;
  return w;
}

/** Dictionary indices as one hybrid run of `bitWidth`-bit values (no length prefix). */
export function packIndices(indices: Int32Array, count: number, bitWidth: number): Uint8Array {
  const head: number[] = [];
  let allSame = count > 0;
  for (let i = 1; i < count && allSame; i++) allSame = indices[i] === indices[0];
  if (allSame || count === 0) {
    varint(head, count * 2);
    const v = count === 0 ? 0 : indices[0];
    for (let b = 0; b < Math.ceil(bitWidth / 8); b++) head.push((v >>> (8 * b)) & 0xff);
    return Uint8Array.from(head);
  }
  const groups = Math.ceil(count / 8);
  varint(head, groups * 2 + 1);
  const out = new Uint8Array(head.length + groups * bitWidth);
  out.set(head, 0);
  let pos = head.length;
  let acc = 0;
  let bits = 0;
  const total = groups * 8;
  for (let i = 0; i < total; i++) {
    const v = i < count ? indices[i] : 0;
    // Spill a full byte before adding, so `acc` never needs more than 32 + 7 bits.
    acc += v * 2 ** bits;
    bits += bitWidth;
    while (bits >= 8) {
      out[pos++] = acc % 256;
      acc = Math.floor(acc / 256);
      bits -= 8;
    }
  }
  return out;
}
