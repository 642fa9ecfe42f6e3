/**
 * Big-endian reads for the decode loop. Buffer#readInt32BE and friends validate their
 * argument on every call, which showed up as ~0.5 s per 5M narrow rows; the framing has
 * already checked that each value lies inside the buffer.
 */
export function i16(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16)) >> 16;
}

export function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

export function i32(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

export function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}
